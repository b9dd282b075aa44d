"""Position tokens: a thread, a frame and a variable path, as text a person can paste.

`4242/3/args/c/*c/items/[2]` is thread 4242, frame 3, then the variable path.
"""

from __future__ import annotations

from hydra.model.record import field, record


@record
class Position:
    tid: int | None = None
    frame: int | None = None
    variable: list[str] = field(default_factory=list)

    def token(self) -> str:
        parts = [str(self.tid) if self.tid is not None else ""]
        if self.frame is not None:
            parts.append(str(self.frame))
            parts.extend(self.variable)
        return "/".join(parts)


def parse_position(token: str) -> Position:
    parts = token.strip().split("/")
    try:
        tid = int(parts[0]) if parts and parts[0] else None
        frame = int(parts[1]) if len(parts) > 1 and parts[1] else None
    except ValueError:
        raise ValueError(f"not a position: {token!r} (expected TID/FRAME/variable path)") from None
    variable = [p for p in parts[2:] if p]
    if variable and variable[0] not in ("args", "locals", "globals"):
        raise ValueError(f"not a position: {token!r} (a variable path starts with args or locals)")
    return Position(tid, frame, variable)
