class BadInput(Exception):
    """An input file Hydra cannot use; the CLI prints `path: reason` and exits 2."""

    def __init__(self, path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def describe(error: BaseException) -> str:
    """An exception as a reason: its message, or its kind when it has none (a reason is
    never empty)."""
    text = str(error).strip()
    kind = type(error).__name__
    if not text:
        return {"StackError": "nested too deeply", "RecursionError": "nested too deeply"}.get(kind, kind)
    return text if kind in ("ValueError", "BadInput") else f"{text} ({kind})"
