"""Hydra's JSON writer against json.dumps: the same text for every kind of value, at one
line and indented, strings with every kind of character in them."""

from __future__ import annotations

import json
import math
import random

import pytest

from hydra.report.jsontext import dumps

CHARACTERS = ["a", "Z", " ", '"', "\\", "/", "\n", "\t", "\x00", "\x1f", "\x7f", "\x9b", "é", "\u202e", "中",
              "\ud800", "\udfff", "\U0001f600", "\ufeff", "\u2028"]


def _value(rng: random.Random, depth: int = 0):
    pick = rng.randrange(10 if depth < 4 else 6)
    if pick == 0:
        return "".join(rng.choice(CHARACTERS) for _ in range(rng.randrange(6)))
    if pick == 1:
        return rng.choice([0, -1, 7, 1 << 64, -(1 << 70), True, False])
    if pick == 2:
        return rng.choice([0.0, -0.0, 1.5, 1e300, -2.5e-308, 1 / 3, math.inf, -math.inf, math.nan])
    if pick == 3:
        return None
    if pick in (4, 5):
        return rng.choice(["x", 12, "0x7ffe"])
    if pick in (6, 7):
        return [_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if pick == 8:
        return tuple(_value(rng, depth + 1) for _ in range(rng.randrange(3)))
    keys = ["a", "", "é", "\n", 3, -2, 1.5, True, False, None]
    return {rng.choice(keys): _value(rng, depth + 1) for _ in range(rng.randrange(4))}


@pytest.mark.parametrize("indent", [None, 1, 2])
def test_the_text_is_json_dumps_text(indent):
    rng = random.Random(f"jsontext-{indent}")
    separators = (",", ":") if indent is None else None
    for _ in range(3000):
        value = _value(rng)
        assert dumps(value, indent) == json.dumps(value, indent=indent, separators=separators)


def test_what_json_refuses_is_refused():
    for value in ({(1, 2): 3}, {1j}, object(), b"bytes"):
        with pytest.raises(TypeError):
            json.dumps(value)
        with pytest.raises(TypeError):
            dumps(value)
