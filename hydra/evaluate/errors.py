"""The one error an expression can end in, worded as gdb words it."""


class EvalError(Exception):
    """`print`, `ptype` or `x` cannot answer; the message is gdb's (`No symbol "x" in current
    context.`, `Cannot access memory at address 0x0`)."""

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else "error"


def no_symbol(name: str) -> EvalError:
    return EvalError(f'No symbol "{name}" in current context.')


def cannot_access(address: int) -> EvalError:
    return EvalError(f"Cannot access memory at address 0x{address:x}")
