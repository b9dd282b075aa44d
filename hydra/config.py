"""The user's config file: ~/.config/hydra/config.toml.

    theme = "hydra-light"
    symbols = ["~/symbols", "/srv/breakpad"]   # .sym folders, searched after --symbols
    fingerprint_rules = "~/crash.rules"        # used before the default fingerprint rules
    debug_cache = false                        # no inflated debug files, no remembered scopes
    [keys]            # binding id = keys, as listed by `?`
    "app.quit" = "q,ctrl+q"
    "line.down" = "j,down,ctrl+n"
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "hydra"


def cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "hydra")


@dataclass
class Config:
    theme: str | None = None
    keys: dict[str, str] = field(default_factory=dict)
    symbols: list[str] = field(default_factory=list)
    fingerprint_rules: str | None = None
    debug_cache: bool = True
    problems: list[str] = field(default_factory=list)


def load_config() -> Config:
    path = config_dir() / "config.toml"
    config = Config()
    if not path.is_file():
        return config
    import tomllib      # most runs have no config file to parse

    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        config.problems.append(f"{path}: {error}; using defaults")
        return config
    if isinstance(data.get("theme"), str):
        config.theme = data["theme"]
    if isinstance(data.get("fingerprint_rules"), str):
        config.fingerprint_rules = os.path.expanduser(data["fingerprint_rules"])
    if isinstance(data.get("debug_cache"), bool):
        config.debug_cache = data["debug_cache"]
    symbols = data.get("symbols") or []
    if isinstance(symbols, str):
        symbols = [symbols]
    if isinstance(symbols, list):
        config.symbols = [os.path.expanduser(str(s)) for s in symbols if isinstance(s, str)]
    keys = data.get("keys") or {}
    if isinstance(keys, dict):
        config.keys = {str(k): str(v) for k, v in keys.items() if isinstance(v, str)}
    return config
