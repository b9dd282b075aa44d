"""The crash model every producer builds and every consumer reads.

Plain Python, standard library only: no UI toolkit, no binary parsers.
"""

from hydra.model.errors import BadInput
from hydra.model.crash import (
    Annotation,
    Classifier,
    Crash,
    Frame,
    MapEntry,
    Module,
    Process,
    Signal,
    SourceFile,
    Thread,
    Variable,
)
from hydra.model.memory import Memory, MemoryRegion

__all__ = [
    "Annotation", "BadInput", "Classifier", "Crash", "Frame", "MapEntry", "Memory",
    "MemoryRegion", "Module", "Process", "Signal", "SourceFile", "Thread", "Variable",
]
