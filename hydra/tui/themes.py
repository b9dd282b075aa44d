"""Themes: the bundled TOML files (hydra.resources), and the user's in ~/.config/hydra/themes."""

from __future__ import annotations

import tomllib
from pathlib import Path

from textual.color import Color
from textual.theme import Theme

from hydra.config import config_dir

# Syntax colours are part of a theme: [syntax] keyword = "#..." and so on.
SYNTAX_ROLES = ("keyword", "string", "number", "comment", "function", "type", "preproc", "operator")
THEME_FIELDS = ("primary", "secondary", "warning", "error", "success", "accent", "foreground",
                "background", "surface", "panel", "boost")


def user_theme_dir() -> Path | None:
    from hydra.config import user_files

    folder = config_dir() / "themes"
    return folder if user_files() and folder.is_dir() else None


class ThemeError(Exception):
    pass


def load_theme_text(path: str, text: str) -> tuple[Theme, dict[str, str]]:
    """A theme from a TOML text; `path` names it in errors, and its stem is the default name."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ThemeError(f"{path}: {error}") from None
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
    try:
        theme = Theme(name=name, dark=bool(data.get("dark", True)), **fields)
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
