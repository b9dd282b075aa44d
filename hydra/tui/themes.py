"""Themes: TOML files in the repository's themes/ folder, and in the user's config folder."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from textual.color import Color
from textual.theme import Theme

from hydra.config import config_dir

# Syntax colours are part of a theme: [syntax] keyword = "#..." and so on.
SYNTAX_ROLES = ("keyword", "string", "number", "comment", "function", "type", "preproc", "operator")
THEME_FIELDS = ("primary", "secondary", "warning", "error", "success", "accent", "foreground",
                "background", "surface", "panel", "boost")


def theme_dirs() -> list[Path]:
    here = Path(__file__).resolve().parents[2] / "themes"           # a source checkout
    installed = Path(sys.prefix) / "share" / "hydra" / "themes"     # an installed package
    return [d for d in (here, installed, config_dir() / "themes") if d.is_dir()]


class ThemeError(Exception):
    pass


def load_theme_file(path: Path) -> tuple[Theme, dict[str, str]]:
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ThemeError(f"{path}: {error}") from None
    name = data.get("name") or path.stem
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
    themes, syntax, problems = {}, {}, []
    for folder in theme_dirs():
        for path in sorted(folder.glob("*.toml")):
            try:
                theme, colours = load_theme_file(path)
            except ThemeError as error:
                problems.append(str(error))
                continue
            themes[theme.name] = theme
            syntax[theme.name] = colours
    return themes, syntax, problems
