"""Settings drgn's libraries read once: made before drgn is first imported, by every
importer of drgn (capture, and libdw's loader, which finds libdw beside drgn).

- libgomp, on whose threads drgn indexes DWARF, keeps idle threads spinning after each
  parallel section by default; on two cores the spinning takes the core that capture's
  background work (analysis imports, scope lookups) would run on.
- drgn's plug-ins are for interactive drgn (its command set costs 60 ms to import);
  Hydra does not scan for them.

A user's own setting of either variable wins.
"""

import os


def prepare() -> None:
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")
    os.environ.setdefault("DRGN_DISABLE_PLUGINS", "*")
