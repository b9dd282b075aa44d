"""Symbol names and lookup shared by core capture and minidumps."""
