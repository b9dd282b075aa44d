"""What a capture is asked for: its options and the limits of the values it decodes.

Its own module, without drgn: commands that may capture (index, coresnap) make these before
they know whether a core is among their inputs.
"""

from __future__ import annotations

from hydra.model.record import field, record


@record
class Limits:
    pointer_depth: int = 1          # pointer hops followed below a variable
    nesting: int = 8                # struct/array levels expanded in place
    children: int = 200             # members or elements kept per node
    string_bytes: int = 4096        # bytes kept of a char * string (the UI pages through them)
    nodes_per_frame: int = 4000
    object_budget: int = 8 << 20    # bytes of pointed-to objects kept overall
    target_bytes: int = 1024        # larger pointed-to objects are not expanded (runtime internals)


@record
class CaptureOptions:
    exe: str | None = None
    sysroot: str | None = None
    debug_dirs: list[str] = field(default_factory=list)
    source_maps: list[str] = field(default_factory=list)
    kv: list[str] = field(default_factory=list)
    globals: list[str] = field(default_factory=list)
    limits: Limits = field(default_factory=Limits)
    variables: bool = True
    rules: object = None              # a fingerprint rules file (or Rules already read), before the defaults
    analysis: bool = True
    debug_cache: str | None = None    # inflated copies of compressed debug files (debugcache)
    scope_cache: str | None = None    # function scopes remembered per debug file (scopecache)
    environment: bool = False         # keep the environment block (it may hold secrets)
    memory: str = "default"           # how much memory a snapshot keeps: one of model.memory.MEMORY_CHOICES
    written: bool = False             # the crash becomes a snapshot: its variables are compressed ahead
