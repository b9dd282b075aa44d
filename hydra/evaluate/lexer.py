"""Tokens of gdb's C and C++ expressions: names (with `::`), numbers with their suffixes,
character and string literals (with L/u/U prefixes and C escapes), `$` names (registers,
value history, convenience variables) and the operators."""

from __future__ import annotations

import re

from hydra.evaluate.errors import EvalError
from hydra.model.record import record

NAME, NUMBER, FLOAT, CHAR, STRING, DOLLAR, OPERATOR, END = (
    "name", "number", "float", "char", "string", "dollar", "operator", "end")

OPERATORS = sorted([
    "->*", "<<=", ">>=", "...", "->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "::", "+=", "-=",
    "*=", "/=", "%=", "&=", "|=", "^=", ".*", "+", "-", "*", "/", "%", "<", ">", "=", "!", "~", "&", "|", "^",
    "?", ":", ",", ".", "(", ")", "[", "]", "{", "}", "@",
], key=len, reverse=True)

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FLOAT = re.compile(r"(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?[fFlL]?|\d+[eE][+-]?\d+[fFlL]?")
_INTEGER = re.compile(r"(0[xX][0-9a-fA-F]+|0[bB][01]+|\d+)([uUlL]*)")
_DOLLAR = re.compile(r"\$(?:\$\d*|\d+|[A-Za-z_][A-Za-z0-9_]*)?")
_ESCAPES = {"n": 10, "t": 9, "r": 13, "a": 7, "b": 8, "f": 12, "v": 11, "e": 27, "\\": 92, "'": 39,
            '"': 34, "?": 63}
MAX_EXPRESSION = 4096


@record
class Token:
    kind: str
    text: str
    value: object = None           # numbers: (int, suffix); chars: (code, prefix); strings: (text, prefix)
    position: int = 0


def tokenize(text: str) -> list[Token]:
    if len(text) > MAX_EXPRESSION:
        raise EvalError("Expression too long.")
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char.isspace():
            position += 1
            continue
        start = position
        if char in "LuU" and position + 1 < len(text) and text[position + 1] in "'\"":
            prefix = char
            position += 1
            char = text[position]
        elif char == "u" and text.startswith("u8", position) and position + 2 < len(text) \
                and text[position + 2] in "'\"":
            prefix = "u8"
            position += 2
            char = text[position]
        else:
            prefix = ""
        if char in "'\"":
            body, position = _quoted(text, position)
            if char == "'":
                if len(body) != 1:
                    raise EvalError("Unmatched single quote." if not body else "Invalid character constant.")
                tokens.append(Token(CHAR, text[start:position], (body[0], prefix), start))
            else:
                tokens.append(Token(STRING, text[start:position], ("".join(map(chr, body)), prefix), start))
            continue
        if char.isdigit() or (char == "." and position + 1 < len(text) and text[position + 1].isdigit()):
            match = _FLOAT.match(text, position)
            if match and (("." in match.group()) or "e" in match.group().lower()) and \
                    not text[position:position + 2].lower() == "0x":
                tokens.append(Token(FLOAT, match.group(), match.group(), start))
                position = match.end()
                continue
            match = _INTEGER.match(text, position)
            digits, suffix = match.group(1), match.group(2)
            if position + len(match.group()) < len(text) and (text[match.end()].isalnum() or text[match.end()] == "_"):
                raise EvalError(f"Invalid number \"{text[start:_word_end(text, match.end())]}\".")
            if digits.startswith(("0x", "0X")):
                value = int(digits, 16)
            elif digits.startswith(("0b", "0B")):
                value = int(digits[2:], 2)
            elif len(digits) > 1 and digits.startswith("0"):
                if any(d in "89" for d in digits):
                    raise EvalError(f"Invalid number \"{digits}\".")
                value = int(digits, 8)
            else:
                value = int(digits)
            if value >= 1 << 64:
                raise EvalError("Numeric constant too large.")
            tokens.append(Token(NUMBER, match.group(), (value, suffix.lower()), start))
            position = match.end()
            continue
        if char == "$":
            match = _DOLLAR.match(text, position)
            tokens.append(Token(DOLLAR, match.group(), match.group(), start))
            position = match.end()
            continue
        match = _NAME.match(text, position)
        if match:
            tokens.append(Token(NAME, match.group(), match.group(), start))
            position = match.end()
            continue
        for operator in OPERATORS:
            if text.startswith(operator, position):
                tokens.append(Token(OPERATOR, operator, operator, start))
                position += len(operator)
                break
        else:
            raise EvalError(f"Invalid character '{char}' in expression.")
    tokens.append(Token(END, "", None, len(text)))
    return tokens


def _word_end(text: str, position: int) -> int:
    while position < len(text) and (text[position].isalnum() or text[position] == "_"):
        position += 1
    return position


def _quoted(text: str, position: int) -> tuple[list[int], int]:
    """The code points between the quotes at position, and the position after them."""
    quote = text[position]
    position += 1
    out: list[int] = []
    while True:
        if position >= len(text):
            raise EvalError("Unmatched single quote." if quote == "'" else "Unterminated string in expression.")
        char = text[position]
        if char == quote:
            return out, position + 1
        if char != "\\":
            out.append(ord(char))
            position += 1
            continue
        position += 1
        if position >= len(text):
            raise EvalError("Unterminated string in expression.")
        escape = text[position]
        if escape in _ESCAPES:
            out.append(_ESCAPES[escape])
            position += 1
        elif escape in "01234567":
            digits = re.match(r"[0-7]{1,3}", text[position:]).group()
            out.append(int(digits, 8))
            position += len(digits)
        elif escape == "x":
            match = re.match(r"[0-9a-fA-F]+", text[position + 1:])
            if not match:
                raise EvalError("\\x escape without a following hex digit")
            out.append(int(match.group(), 16) & 0xFFFFFFFF)
            position += 1 + len(match.group())
        else:
            out.append(ord(escape))
            position += 1
