"""Themes: the bundled TOML files (hydra.resources), and the user's in ~/.config/hydra/themes."""

from __future__ import annotations

import functools
from pathlib import Path

from rich.terminal_theme import TerminalTheme
from textual.color import Color
from textual.theme import Theme

from hydra.config import config_dir, parse_toml

# Syntax colours are part of a theme: [syntax] keyword = "#..." and so on.
SYNTAX_ROLES = ("keyword", "string", "number", "comment", "function", "type", "preproc", "operator")
THEME_FIELDS = ("primary", "secondary", "warning", "error", "success", "accent", "foreground",
                "background", "surface", "panel", "boost")
# Textual's design variables a theme may set in its [variables] table: the cursor rows'
# colours are chosen per theme for contrast, not mixed from the accent
THEME_VARIABLES = ("block-cursor-background", "block-cursor-foreground", "block-cursor-blurred-background",
                   "block-cursor-blurred-foreground", "footer-key-foreground", "footer-description-foreground",
                   "footer-background", "scrollbar", "scrollbar-background", "border", "border-blurred",
                   "block-cursor-text-style", "block-cursor-blurred-text-style")
TEXT_STYLES = {"bold", "italic", "underline", "reverse", "strike", "none"}
# how much of its colour dim text keeps against the background (Textual's 0.66 puts grey
# text under 4.5:1 on the dark themes); with 16 colours a blend lands on grey, unreadable on
# black and on white, and dim text keeps its colour
DIM_FACTOR = 0.72


def user_theme_dir() -> Path | None:
    from hydra.config import user_files

    folder = Path(config_dir()) / "themes"
    return folder if user_files() and folder.is_dir() else None


class ThemeError(Exception):
    pass


def load_theme_text(path: str, text: str) -> tuple[Theme, dict[str, str]]:
    """A theme from a TOML text; `path` names it in errors, and its stem is the default name."""
    try:
        data = parse_toml(text, path)
    except ValueError as error:
        raise ThemeError(str(error)) from None
    name = data.get("name") or Path(path).stem
    if not isinstance(name, str):
        raise ThemeError(f"{path}: `name` must be text")
    fields = {key: str(data[key]) for key in THEME_FIELDS if key in data}
    if "primary" not in fields:
        raise ThemeError(f"{path}: a theme needs at least `primary`")
    for key, value in fields.items():
        try:
            Color.parse(value)
        except Exception:
            raise ThemeError(f"{path}: `{key}` is not a colour: {value[:40]!r}") from None
    raw_syntax = data.get("syntax") or {}
    if not isinstance(raw_syntax, dict):
        raise ThemeError(f"{path}: `syntax` must be a table")
    syntax = {role: str(value) for role, value in raw_syntax.items() if role in SYNTAX_ROLES}
    raw_variables = data.get("variables") or {}
    if not isinstance(raw_variables, dict):
        raise ThemeError(f"{path}: `variables` must be a table")
    variables = {key: str(value) for key, value in raw_variables.items() if key in THEME_VARIABLES}
    for key, value in variables.items():
        if key.endswith("text-style"):
            if not value.split() or not set(value.split()) <= TEXT_STYLES:
                raise ThemeError(f"{path}: variable `{key}` is not a text style: {value[:40]!r}")
            continue
        try:
            Color.parse(value)
        except Exception:
            raise ThemeError(f"{path}: variable `{key}` is not a colour: {value[:40]!r}") from None
    try:
        theme = Theme(name=name, dark=bool(data.get("dark", True)), variables=variables, **fields)
    except Exception as error:
        raise ThemeError(f"{path}: {error}") from None
    return theme, syntax


def load_themes() -> tuple[dict[str, Theme], dict[str, dict[str, str]], list[str]]:
    """The bundled themes, then the user's (which may replace one of the same name)."""
    from hydra.resources import bundled_themes

    themes, syntax, problems = {}, {}, []
    sources = [(name, lambda text=text: text) for name, text in bundled_themes()]
    folder = user_theme_dir()
    if folder is not None:
        sources += [(str(path), path.read_text) for path in sorted(folder.glob("*.toml"))]
    for name, read in sources:
        try:
            theme, colours = load_theme_text(name, read())
        except (ThemeError, OSError, UnicodeDecodeError) as error:
            problems.append(str(error))
            continue
        themes[theme.name] = theme
        syntax[theme.name] = colours
    return themes, syntax, problems


def ansi_palette(theme: Theme) -> TerminalTheme:
    """The colours that the names red, green, yellow… in Hydra's lines take under `theme`:
    its own error, success and warning colours, which it chose to read on its background,
    rather than a fixed terminal palette that may not."""
    def rgb(value: str | None, fallback: str) -> tuple[int, int, int]:
        return Color.parse(value or fallback).rgb

    background = rgb(theme.background, "#000000" if theme.dark else "#ffffff")
    foreground = rgb(theme.foreground, "#ffffff" if theme.dark else "#000000")
    red = rgb(theme.error, "#ff5f5f")
    green = rgb(theme.success, "#87af5f")
    yellow = rgb(theme.warning, "#d7af5f")
    blue = rgb(theme.primary, "#5fafd7")
    magenta = rgb(theme.accent, blue)
    cyan = rgb(theme.secondary, theme.primary)
    normal = [background, red, green, yellow, blue, magenta, cyan, foreground]
    return TerminalTheme(background, foreground, normal, normal)


_dim_filters: dict = {}


def dim_filter(palette: TerminalTheme, color_system: str | None):
    """Textual's filter that turns ANSI colours into the palette's, with dim text blended
    by DIM_FACTOR (none at 16 colours)."""
    key = (id(palette), color_system)
    if key not in _dim_filters:
        _dim_filters[key] = (palette, _truecolor_class()(palette, 1.0 if color_system in ("standard", "windows")
                                                           else DIM_FACTOR))
    return _dim_filters[key][1]


@functools.cache
def _truecolor_class():
    """Made once, when first needed (Textual's filter module is not loaded before)."""
    from functools import lru_cache

    from rich.style import Style
    from textual.filter import ANSIToTruecolor, dim_color

    class DimmedTruecolor(ANSIToTruecolor):
        def __init__(self, palette: TerminalTheme, factor: float):
            super().__init__(palette)
            self.factor = factor

        @lru_cache(1024)
        def truecolor_style(self, style, background):
            if not style.dim:
                return super().truecolor_style(style, background)
            plain = super().truecolor_style(style + Style(dim=False), background)
            if plain.color is None or plain.color.triplet is None:
                return style
            under = plain.bgcolor if plain.bgcolor is not None and plain.bgcolor.triplet else background
            return plain + Style(color=dim_color(under, plain.color, self.factor))

    return DimmedTruecolor
