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

import marshal
import os

from hydra.model.files import MARSHAL_VERSION, read_cache, write_cache
from hydra.model.record import field, record


NO_USER_FILES = "HYDRA_NO_USER_FILES"


def user_files() -> bool:
    """Whether Hydra reads the config in the user's home and keeps caches there. The crash
    collector runs with HOME=/ as root, and a capture for another user runs with that
    user's rights: neither reads nor writes anything but what it was told to."""
    return os.environ.get(NO_USER_FILES) != "1"


def config_dir() -> str:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "hydra")


def cache_dir() -> str | None:
    """Hydra's cache folder, or None when it keeps no caches (see user_files)."""
    if not user_files():
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "hydra")


@record
class Config:
    theme: str | None = None
    keys: dict[str, str] = field(default_factory=dict)
    symbols: list[str] = field(default_factory=list)
    fingerprint_rules: str | None = None
    debug_cache: bool = True
    problems: list[str] = field(default_factory=list)


def read_toml(path: str) -> dict:
    """A TOML file's table; ValueError naming the file and the problem."""
    try:
        with open(path, "rb") as handle:
            return parse_toml(handle.read().decode("utf-8"), path)
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except OSError as error:
        raise ValueError(f"{path}: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: {error}") from None


TOML_CACHE_ENTRIES = 64       # texts whose tables are remembered


def parse_toml(text: str, path: str, remember: bool = True) -> dict:
    """A TOML text's table; ValueError naming the file and the problem. With remember,
    tables are remembered by their text in the cache folder (marshal, read only when
    private): every TUI start parses the themes, and tomllib's import and parse cost it
    1.4 ms."""
    folder = cache_dir() if remember else None
    remembered = _toml_cache(folder) if folder else {}
    if text in remembered:
        try:
            table = marshal.loads(remembered[text])
            if isinstance(table, dict):
                return table
        except (ValueError, EOFError, TypeError, MemoryError):
            pass
    import tomllib      # here: most runs parse nothing, or only what they parsed before

    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{path}: {error}") from None
    if folder:
        _remember_toml(folder, remembered, text, table)
    return table


_toml_caches: dict[str, dict[str, bytes]] = {}


def _toml_cache(folder: str) -> dict[str, bytes]:
    """The remembered tables of a cache folder: {TOML text: its table, marshalled}."""
    if folder not in _toml_caches:
        loaded = read_cache(os.path.join(folder, "toml.cache"), folder)
        valid = isinstance(loaded, dict) and all(isinstance(k, str) and isinstance(v, bytes) for k, v in loaded.items())
        _toml_caches[folder] = loaded if valid else {}
    return _toml_caches[folder]


def _remember_toml(folder: str, remembered: dict[str, bytes], text: str, table: dict) -> None:
    try:
        remembered[text] = marshal.dumps(table, MARSHAL_VERSION)
    except ValueError:
        return              # a TOML date or time: marshal does not keep them, parsed each time
    while len(remembered) > TOML_CACHE_ENTRIES:
        del remembered[next(iter(remembered))]
    write_cache(os.path.join(folder, "toml.cache"), folder, remembered)


def load_config(path: str | None = None) -> Config:
    """The config at path, or else the user's (none when user_files() is off)."""
    config = Config()
    if path is None:
        if not user_files():
            return config
        path = os.path.join(config_dir(), "config.toml")
        if not os.path.isfile(path):
            return config
    try:
        data = read_toml(path)
    except ValueError as error:
        config.problems.append(f"{error}; using defaults")
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
