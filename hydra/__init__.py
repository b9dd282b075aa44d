"""Hydra: a post-mortem debugger for native programs."""

__version__ = "0.1.0"
