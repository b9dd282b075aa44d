"""The user's config file: ~/.config/hydra/config.toml.

    theme = "hydra-light"
    [keys]            # binding id = keys, as listed by `?`
    "app.quit" = "q,ctrl+q"
    "line.down" = "j,down,ctrl+n"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field

from hydra.tui.themes import config_dir


@dataclass
class Config:
    theme: str | None = None
    keys: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def load_config() -> Config:
    path = config_dir() / "config.toml"
    config = Config()
    if not path.is_file():
        return config
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        config.problems.append(f"{path}: {error}; using defaults")
        return config
    if isinstance(data.get("theme"), str):
        config.theme = data["theme"]
    keys = data.get("keys") or {}
    if isinstance(keys, dict):
        config.keys = {str(k): str(v) for k, v in keys.items() if isinstance(v, str)}
    return config
