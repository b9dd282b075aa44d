"""Package data is found beside the code of a package on disk, and through importlib.resources
for a package imported from a zip file."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import hydra.resources

PROBE = ("import sys; sys.path.insert(0, sys.argv[1]); import hydra.resources as r; "
         "print(r.__file__); print(r.bundled_themes())")


def test_bundled_themes_are_read_from_the_installed_folder():
    names = [name for name, _text in hydra.resources.bundled_themes()]
    assert "hydra-dark.toml" in names
    assert Path(hydra.resources.sample()).is_file()


def test_a_package_in_a_zip_file_reads_its_themes_through_importlib_resources(tmp_path):
    archive = tmp_path / "hydra.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("hydra/__init__.py", "")
        out.write(hydra.resources.__file__, "hydra/resources/__init__.py")
        out.writestr("hydra/resources/theme-files/zipped.toml", 'name = "zipped"\n')
        out.writestr("hydra/resources/theme-files/notes.txt", "not a theme")
    result = subprocess.run([sys.executable, "-I", "-c", PROBE, str(archive)],
                            capture_output=True, text=True, check=True)
    where, themes = result.stdout.splitlines()
    assert where.startswith(str(archive))
    assert themes == "[('zipped.toml', 'name = \"zipped\"\\n')]"
