"""The crash collector's settings: the `[coresnap]` table of Hydra's config file.

    [coresnap]
    dir = "/var/lib/hydra/coresnap"      # the archive
    keep_core = false                    # keep the core once its snapshot is made
    defaults_command = "/usr/local/bin/crash-attributes"   # gets the executable; prints key=value lines
    route = ["db postgres|mysqld", "web nginx.*"]          # NAME <regex on the executable>
    [coresnap.dump]
    quota = 10                           # percent of the disk to keep free; below it cores are skipped
    [coresnap.purge]
    age = "2w"                           # <N><s|m|h|d|w|M>
    disabled = false
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field

AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "M": 30 * 86400}


def default_directory() -> str:
    if os.geteuid() == 0:
        return "/var/lib/hydra/coresnap"
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "hydra", "coresnap")


def parse_age(text: str) -> int:
    match = re.fullmatch(r"(\d+)([smhdwM])", text.strip())
    if not match:
        raise ValueError(f"purge.age {text!r}: write <N><s|m|h|d|w|M>, e.g. 2w")
    return int(match[1]) * AGE_UNITS[match[2]]


@dataclass
class Settings:
    directory: str = field(default_factory=default_directory)
    quota: float = 5.0
    purge_age: int = 30 * 86400
    purge_disabled: bool = False
    keep_core: bool = False
    routes: list[tuple[str, re.Pattern]] = field(default_factory=list)
    defaults_command: str | None = None
    problems: list[str] = field(default_factory=list)

    def route_for(self, executable: str) -> str:
        for name, pattern in self.routes:
            if pattern.search(executable):
                return name
        return "default"


def load_settings(config_file: str | None = None, directory: str | None = None) -> Settings:
    from hydra.config import config_dir

    settings = Settings()
    path = config_file or str(config_dir() / "config.toml")
    data: dict = {}
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle).get("coresnap") or {}
    except FileNotFoundError:
        if config_file:
            settings.problems.append(f"{config_file}: no such file; using defaults")
    except (OSError, tomllib.TOMLDecodeError) as error:
        settings.problems.append(f"{path}: {error}; using defaults")
    if isinstance(data.get("dir"), str):
        settings.directory = os.path.expanduser(data["dir"])
    if directory:
        settings.directory = directory
    dump = data.get("dump") or {}
    purge = data.get("purge") or {}
    try:
        if "quota" in dump:
            settings.quota = float(dump["quota"])
        if "age" in purge:
            settings.purge_age = parse_age(str(purge["age"]))
        settings.purge_disabled = bool(purge.get("disabled", False))
        settings.keep_core = bool(data.get("keep_core", False))
        if isinstance(data.get("defaults_command"), str):
            settings.defaults_command = data["defaults_command"]
        routes = data.get("route") or []
        for rule in [routes] if isinstance(routes, str) else routes:
            name, _, pattern = str(rule).strip().partition(" ")
            if not name or not pattern.strip() or "/" in name or name.startswith("."):
                raise ValueError(f"route {rule!r}: write `NAME REGEX`")
            settings.routes.append((name, re.compile(pattern.strip())))
    except (ValueError, re.error) as error:
        settings.problems.append(f"{path}: {error}")
    return settings
