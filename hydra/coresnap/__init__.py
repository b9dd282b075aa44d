"""Crash collection: the kernel's core_pattern handler and its archive of cores and snapshots."""
