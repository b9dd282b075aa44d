"""Capture: turn a Linux core dump (and the binaries it names) into the crash model."""
