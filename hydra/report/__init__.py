"""Text and JSON renderings of the crash model for `hydra bt`."""
