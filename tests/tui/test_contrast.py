"""Contrast of every character of text on screen, computed from the styles Textual renders,
after the colours are reduced as a terminal of 256 or 16 colours gets them (Rich's
downgrade) and shown with the xterm palette: WCAG's ratio, at least 4.5:1 in every bundled
theme and 7:1 in hydra-contrast (at 16 colours the xterm palette has no red of 7:1 on black,
so there it is 4.5:1 too)."""

from __future__ import annotations

import pytest
from rich._palettes import EIGHT_BIT_PALETTE
from rich.color import ColorSystem, ColorType

from .conftest import make_app

# borders, scrollbars and the tab underline are lines, not text
NOT_TEXT = set(" ─│╭╮╰╯┏┓┗┛━┃▁▂▃▄▅▆▇█▉▊▋▌▍▎▏▔▕╸╺╹╻▐")
SYSTEMS = {"256": ColorSystem.EIGHT_BIT, "standard": ColorSystem.STANDARD}
# the opening screen, each pane focused, then every tab of the side pane
KEYS = ["", "1", "2", "3", "4"] + ["right_square_bracket"] * 6


def shown(color, system) -> tuple[int, int, int]:
    reduced = color.downgrade(system)
    if reduced.type in (ColorType.STANDARD, ColorType.EIGHT_BIT):
        return tuple(EIGHT_BIT_PALETTE[reduced.number])
    return tuple(reduced.get_truecolor())


def luminance(rgb) -> float:
    def channel(value: int) -> float:
        value /= 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = rgb
    return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)


def contrast(one, other) -> float:
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def low_contrast(app, system, limit) -> list[str]:
    found = []
    for y, line in enumerate(app.screen._compositor.render_full_update().strips):
        for strip in line:
            for segment in strip:
                text, style = segment.text, segment.style
                if style is None or all(char in NOT_TEXT for char in text):
                    continue
                assert style.color is not None and style.bgcolor is not None, (y, text)
                fore, back = shown(style.color, system), shown(style.bgcolor, system)
                if style.reverse:
                    fore, back = back, fore
                assert not style.dim, f"dim left to the terminal: row {y} {text!r}"
                ratio = contrast(fore, back)
                if ratio < limit:
                    found.append(f"row {y} {text.strip()[:30]!r}: {ratio:.2f} ({fore} on {back})")
    return found


def test_contrast_is_computed_as_wcag_does():
    assert round(contrast((0, 0, 0), (255, 255, 255)), 1) == 21.0
    assert round(contrast((118, 118, 118), (255, 255, 255)), 2) == 4.54     # the famous #767676


@pytest.mark.parametrize("colours", ["256", "standard"])
@pytest.mark.parametrize("theme", ["hydra-dark", "hydra-light", "hydra-contrast"])
async def test_every_text_on_screen_is_readable(sample_crash, monkeypatch, theme, colours):
    import textual.constants

    monkeypatch.setattr(textual.constants, "COLOR_SYSTEM", colours)
    limit = 7.0 if theme == "hydra-contrast" and colours == "256" else 4.5
    app = make_app(sample_crash, theme=theme)
    found = []
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.console.color_system == colours
        for key in KEYS:
            if key:
                await pilot.press(key)
                await pilot.pause()
            found += [f"after {key or 'opening'}: {problem}"
                      for problem in low_contrast(app, SYSTEMS[colours], limit)]
    assert not found, "\n".join(sorted(set(found)))
