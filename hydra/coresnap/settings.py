"""The crash collector's settings: the `[coresnap]` table of Hydra's config file.

    fingerprint_rules = "/etc/hydra/crash.rules"   # (top level) used by the snapshot step too
    [coresnap]
    dir = "/var/lib/hydra/coresnap"      # the archive
    keep_core = false                    # keep the core once its snapshot is made
    store = "/var/lib/hydra/crashes.db"  # add each new snapshot to this crash store (hydra query);
                                         # or a team's: "postgresql://hydra@db.example/crashes"
    defaults_command = "/usr/local/bin/crash-attributes"   # gets the executable; prints key=value lines
    route = ["db postgres|mysqld", "web nginx.*"]          # NAME <regex on the executable>
    [coresnap.dump]
    quota = 10                           # percent of the disk to keep free; below it cores are skipped
    max_size = "4G"                      # a larger core is cut there (the kernel ignores ulimit -c for pipes)
    [coresnap.purge]
    age = "2w"                           # <N><s|m|h|d|w|M>
    disabled = false

The handler reads only the file `install` named (the kernel runs it with HOME=/); the other
commands read `--config`, else the user's config. A setting that does not parse is an
error for the commands that use it (`need`), never silently replaced by a default.
"""

from __future__ import annotations

import os
import re

from hydra.model.record import field, record

AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "M": 30 * 86400}
MAX_ROUTE_NAME = 64


class SettingsError(ValueError):
    pass


def default_directory() -> str:
    if os.geteuid() == 0:
        return "/var/lib/hydra/coresnap"
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "hydra", "coresnap")


SIZE_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_size(text: str) -> int:
    match = re.fullmatch(r"(\d{1,15})([KMGT]?)", text.strip())
    if not match:
        raise ValueError(f"dump.max_size {text!r}: write <N>[K|M|G|T], e.g. 4G")
    return int(match[1]) * SIZE_UNITS[match[2]]


def parse_age(text: str) -> int:
    match = re.fullmatch(r"(\d{1,9})([smhdwM])", text.strip())
    if not match:
        raise ValueError(f"purge.age {text!r}: write <N><s|m|h|d|w|M>, e.g. 2w")
    return int(match[1]) * AGE_UNITS[match[2]]


@record
class Settings:
    directory: str = field(default_factory=default_directory)
    config_file: str | None = None
    quota: float = 5.0
    max_core: int | None = None       # bytes of one core kept at most (None: no limit)
    purge_age: int = 30 * 86400
    purge_disabled: bool = False
    keep_core: bool = False
    routes: list[tuple[str, object]] = field(default_factory=list)     # (name, compiled pattern)
    defaults_command: str | None = None
    fingerprint_rules: str | None = None
    store: str | None = None          # the crash store each new snapshot is added to
    errors: dict[str, str] = field(default_factory=dict)     # part of the config -> what is wrong

    def need(self, *parts: str) -> None:
        """Raise SettingsError for the first of these parts (and the file) that is broken."""
        for part in ("file",) + parts:
            if part in self.errors:
                raise SettingsError(self.errors[part])

    def route_for(self, executable: str) -> str:
        for name, pattern in self.routes:
            if pattern.search(executable[:4096]):
                return name
        return "default"


def load_settings(config_file: str | None = None, directory: str | None = None,
                  user_config: bool = True) -> Settings:
    """Settings from config_file; without one, from the user's config when user_config."""
    from hydra.config import config_dir, parse_toml, user_files
    from hydra.coresnap.folder import read_trusted_file

    settings = Settings(config_file=config_file)
    path = config_file
    if path is None and user_config and user_files():
        candidate = os.path.join(config_dir(), "config.toml")
        path = candidate if os.path.isfile(candidate) else None
    data: dict = {}
    if path is not None:
        try:
            # the handler runs as root: its config must be the administrator's own, and
            # no cache (in whatever home it was started from) takes part
            data = parse_toml(read_trusted_file(path).decode("utf-8"), path, remember=False)
        except FileNotFoundError:
            settings.errors["file"] = f"{path}: no such file"
        except (OSError, UnicodeDecodeError) as error:
            settings.errors["file"] = f"{path}: refused: {getattr(error, 'strerror', None) or error}"
        except ValueError as error:
            settings.errors["file"] = str(error)
    table = data.get("coresnap") or {}
    if not isinstance(table, dict):
        settings.errors["file"] = f"{path}: [coresnap] is not a table"
        table = {}
    _read(settings, table, data, path or "config")
    if directory:
        settings.directory = directory
    settings.directory = os.path.abspath(settings.directory)
    return settings


def _read(settings: Settings, table: dict, top: dict, path: str) -> None:
    from hydra.analysis.patterns import compile_pattern

    def section(name: str, parse) -> None:
        try:
            parse()
        except (ValueError, TypeError) as error:
            settings.errors[name] = f"{path}: {error}"

    def directory():
        if "dir" in table:
            if not isinstance(table["dir"], str) or not table["dir"].strip():
                raise ValueError("dir: write a folder's path")
            settings.directory = os.path.expanduser(table["dir"])

    def dump():
        dump = table.get("dump") or {}
        if "quota" in dump:
            quota = dump["quota"]
            if isinstance(quota, bool) or not isinstance(quota, (int, float)) or not 0 <= quota <= 100:
                raise ValueError(f"dump.quota {quota!r}: write a percentage from 0 to 100")
            settings.quota = float(quota)
        if "max_size" in dump:
            settings.max_core = parse_size(str(dump["max_size"]))

    def purge():
        purge = table.get("purge") or {}
        if "age" in purge:
            settings.purge_age = parse_age(str(purge["age"]))
        if not isinstance(purge.get("disabled", False), bool):
            raise ValueError("purge.disabled: write true or false")
        settings.purge_disabled = purge.get("disabled", False)

    def keep_core():
        if not isinstance(table.get("keep_core", False), bool):
            raise ValueError("keep_core: write true or false")
        settings.keep_core = table.get("keep_core", False)

    def store():
        path = table.get("store")
        if path is not None:
            from hydra.store.db import is_url

            if not isinstance(path, str) or not (os.path.isabs(path) or is_url(path)):
                raise ValueError("store: write the absolute path of a crash store, or a postgresql:// URL "
                                 "(as hydra index --db takes them)")
            settings.store = path

    def defaults_command():
        command = table.get("defaults_command")
        if command is not None:
            if not isinstance(command, str) or not os.path.isabs(command):
                raise ValueError("defaults_command: write the absolute path of a program")
            from hydra.coresnap.folder import open_trusted_file

            try:
                os.close(open_trusted_file(command))       # root runs it: it must be root's
            except OSError as error:
                raise ValueError(f"defaults_command {command}: refused: "
                                 f"{getattr(error, 'strerror', None) or error}") from None
            settings.defaults_command = command

    def routes():
        routes = table.get("route") or []
        for rule in [routes] if isinstance(routes, str) else routes:
            name, _, pattern = str(rule).strip().partition(" ")
            if not re.fullmatch(r"[A-Za-z0-9_+-][A-Za-z0-9._+-]*", name) or len(name) > MAX_ROUTE_NAME \
                    or not pattern.strip():
                raise ValueError(f"route {rule!r}: write `NAME REGEX` (NAME: letters, digits, ._+-)")
            settings.routes.append((name, compile_pattern(pattern.strip())))

    def rules():
        rules = top.get("fingerprint_rules")
        if rules is not None:
            if not isinstance(rules, str):
                raise ValueError("fingerprint_rules: write a file's path")
            settings.fingerprint_rules = os.path.expanduser(rules)

    for name, parse in (("dir", directory), ("dump", dump), ("purge", purge), ("keep_core", keep_core),
                        ("defaults_command", defaults_command), ("route", routes), ("rules", rules),
                        ("store", store)):
        section(name, parse)


SNAPSHOT_NEEDS = ("keep_core", "route", "rules")
HANDLE_NEEDS = ("dump", "defaults_command")
