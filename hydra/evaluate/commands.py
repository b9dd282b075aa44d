"""gdb's commands over a Session: `print[/F] EXPR` (`p`), `ptype EXPR`, `whatis EXPR` and
`x/NFU EXPR`, as text in, text out: the command line, the TUI's prompt and the tests all
come through here."""

from __future__ import annotations

from hydra.evaluate.errors import EvalError
from hydra.evaluate.examine import examine, parse_examine
from hydra.evaluate.session import Session, parse_format
from hydra.evaluate.values import to_int

COMMANDS = ("print", "p", "ptype", "whatis", "x", "output")


def run_command(session: Session, line: str) -> str:
    """The text gdb prints for the command (without a final newline); EvalError otherwise."""
    line = line.strip()
    word, rest = _split(line)
    if word in ("print", "p", "inspect", "call"):
        fmt, expression = parse_format(rest)
        return session.print(expression, fmt)
    if word == "output":
        fmt, expression = parse_format(rest)
        return session.format_value(session.evaluate(expression), fmt)
    if word in ("ptype", "whatis"):
        if rest.startswith("/"):
            rest = rest.partition(" ")[2]
        if not rest.strip():
            raise EvalError("Argument required (one or more choice items).") if False else \
                EvalError("The history is empty.")
        return session.ptype(rest) if word == "ptype" else session.whatis(rest)
    if word == "x":
        spec, expression = ("", rest)
        if rest.startswith("/"):
            spec, _, expression = rest.partition(" ")
        count, fmt, unit = parse_examine(spec)
        if not expression.strip():
            if session.last_examined is None:
                raise EvalError("Argument required (starting display address).")
            address = session.last_examined + unit
        else:
            value = session.decay(session.evaluate(expression))
            address = to_int(value, session.table, session.memory)
        return examine(session, address, count, fmt, unit)
    raise EvalError(f'Undefined command: "{word}".  Try "help".')


def _split(line: str) -> tuple[str, str]:
    """`print/x foo` -> ("print", "/x foo"); `p foo` -> ("p", "foo")."""
    for index, char in enumerate(line):
        if char in " /":
            return line[:index], line[index:].strip() if char == " " else line[index:]
    return line, ""
