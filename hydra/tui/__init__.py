"""The terminal UI: a Textual app over the crash model. It reads the model; it parses no files."""
