"""Breakpad's postfix expressions: `STACK CFI` rules and `STACK WIN` program strings."""

from __future__ import annotations

import functools
from collections.abc import Callable

Reader = Callable[[int], "int | None"]     # a pointer-sized read from the dump's memory

MAX_TOKENS = 512


class EvaluationError(Exception):
    pass


def _number(token: str) -> int | None:
    try:
        return int(token, 0) if token.lstrip("-").startswith("0x") else int(token)
    except ValueError:
        return None


def evaluate(tokens: list[str], values: dict[str, int], read: Reader, mask: int) -> int:
    """One expression to one value; names are looked up in values."""
    stack: list[int] = []
    for token in tokens[:MAX_TOKENS]:
        if token in ("+", "-", "*", "/", "%", "@"):
            if len(stack) < 2:
                raise EvaluationError(f"'{token}' needs two operands")
            right, left = stack.pop(), stack.pop()
            stack.append(_binary(token, left, right) & mask)
        elif token == "^":
            if not stack:
                raise EvaluationError("'^' needs an operand")
            value = read(stack.pop())
            if value is None:
                raise EvaluationError("dereference of unreadable memory")
            stack.append(value)
        else:
            number = _number(token)
            if number is not None:
                stack.append(number & mask)
            elif token in values:
                stack.append(values[token])
            else:
                raise EvaluationError(f"unknown name {token[:40]!r}")
    if len(stack) != 1:
        raise EvaluationError("expression does not leave one value")
    return stack[0]


def _binary(op: str, left: int, right: int) -> int:
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if op in ("/", "%", "@") and right == 0:
        raise EvaluationError("division by zero")
    if op == "/":
        return left // right
    if op == "%":
        return left % right
    return left & ~(right - 1)     # '@': align down


@functools.lru_cache(maxsize=4096)
def cfi_rules(text: str) -> dict[str, list[str]]:
    """`.cfa: $rsp 8 + .ra: .cfa -8 + ^` -> {'.cfa': [...], '.ra': [...]}; later rules win.
    Remembered: a walk meets the same few rule sets again and again (read them, do not
    change them)."""
    rules: dict[str, list[str]] = {}
    current: list[str] | None = None
    for token in text.split()[:MAX_TOKENS]:
        if token.endswith(":") and len(token) > 1:
            current = rules[token[:-1]] = []
        elif current is not None:
            current.append(token)
        else:
            raise EvaluationError("CFI rule without a register")
    return rules


def run_program(program: str, values: dict[str, int], read: Reader, mask: int) -> set[str]:
    """A STACK WIN program string: assignments `name expr =`; returns the names assigned."""
    assigned: set[str] = set()
    stack: list[object] = []
    tokens: list[str] = []
    for token in program.split()[:MAX_TOKENS]:
        # some compilers glue '=' to the next name: "... ^ =$ebp $T0 ^ ="
        if len(token) > 1 and token[0] == "=":
            tokens += ["=", token[1:]]
        else:
            tokens.append(token)
    for token in tokens:
        if token == "=":
            if len(stack) < 2:
                raise EvaluationError("'=' needs a name and a value")
            value, name = stack.pop(), stack.pop()
            if not isinstance(name, str) or not name.startswith("$"):
                raise EvaluationError("assignment to something that is not a variable")
            values[name] = _value(value, values)
            assigned.add(name)
        elif token in ("+", "-", "*", "/", "%", "@"):
            if len(stack) < 2:
                raise EvaluationError(f"'{token}' needs two operands")
            right, left = _value(stack.pop(), values), _value(stack.pop(), values)
            stack.append(_binary(token, left, right) & mask)
        elif token == "^":
            if not stack:
                raise EvaluationError("'^' needs an operand")
            value = read(_value(stack.pop(), values))
            if value is None:
                raise EvaluationError("dereference of unreadable memory")
            stack.append(value)
        else:
            number = _number(token)
            stack.append(number & mask if number is not None else token)
    if stack:
        raise EvaluationError("program string leaves values unassigned")
    return assigned


def _value(item: object, values: dict[str, int]) -> int:
    if isinstance(item, int):
        return item
    if item in values:
        return values[item]    # type: ignore[index]
    raise EvaluationError(f"unknown name {str(item)[:40]!r}")
