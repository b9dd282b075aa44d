"""Questions to a snapshot, as gdb's `print`, `ptype`, `whatis` and `x` answer them, from the
snapshot alone: its type table, symbols, registers and memory."""

from hydra.evaluate.errors import EvalError
from hydra.evaluate.session import Session, parse_format

__all__ = ["EvalError", "Session", "parse_format"]
