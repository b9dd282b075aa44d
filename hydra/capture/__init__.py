"""Capture: turn a Linux core dump (and the binaries it names) into the crash model."""

from hydra.symbols import drgnsetup

drgnsetup.prepare()      # before any module here imports drgn
