"""TOML tables remembered by their text: the same tables as tomllib's, without tomllib once
remembered, and never from a cache someone else may write."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib

import pytest

from hydra import config

TEXTS = ['name = "x"\nprimary = "#ff0000"\n[syntax]\nkeyword = "#00ff00"\n',
         'symbols = ["~/a", "/b"]\ndebug_cache = false\n[keys]\n"app.quit" = "q"\nn = 1.5\nm = 7\n',
         'when = 1979-05-27T07:32:00Z\n']


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv(config.NO_USER_FILES, raising=False)
    config._toml_caches.clear()
    yield tmp_path / "hydra" / "toml.cache"
    config._toml_caches.clear()


def test_remembered_tables_are_tomllib_s(cache):
    for _ in range(2):
        for text in TEXTS:
            assert config.parse_toml(text, "f.toml") == tomllib.loads(text)
        config._toml_caches.clear()          # the next round reads the file
    assert cache.is_file()


def test_a_bad_text_is_an_error_each_time(cache):
    for _ in range(2):
        with pytest.raises(ValueError, match="f.toml: "):
            config.parse_toml("name = ", "f.toml")


def test_a_remembered_text_needs_no_tomllib(cache):
    config.parse_toml(TEXTS[0], "f.toml")
    probe = ("import sys\nfrom hydra import config\n"
             f"assert config.parse_toml({TEXTS[0]!r}, 'f.toml')['syntax']['keyword'] == '#00ff00'\n"
             "print('tomllib' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "XDG_CACHE_HOME": str(cache.parent.parent)})
    assert done.stdout.strip() == "False", done.stderr


def test_a_cache_others_may_write_is_not_read(cache):
    config.parse_toml(TEXTS[0], "f.toml")
    planted = cache.read_bytes().replace(b"#00ff00", b"#0000ff")
    cache.write_bytes(planted)
    cache.chmod(0o666)
    config._toml_caches.clear()
    assert config.parse_toml(TEXTS[0], "f.toml")["syntax"]["keyword"] == "#00ff00"
