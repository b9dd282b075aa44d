class BadInput(Exception):
    """An input file Hydra cannot use; the CLI prints `path: reason` and exits 2."""

    def __init__(self, path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")
