"""Capture: turn a Linux core dump (and the binaries it names) into the crash model."""

import os

# Settings drgn's libraries read once, so they are made before drgn is first imported
# (every module here that uses drgn is under this package).
# - libgomp, on whose threads drgn indexes DWARF, keeps idle threads spinning after each
#   parallel section by default; on two cores the spinning takes the core that the
#   capture's background work (analysis imports, scope lookups) would run on.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")
# - drgn's plug-ins are for interactive drgn (its command set costs 60 ms to import);
#   capture does not scan for them.
os.environ.setdefault("DRGN_DISABLE_PLUGINS", "*")
