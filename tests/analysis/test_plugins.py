"""Analyzers from other packages, found through the `hydra.analyzers` entry points."""

from __future__ import annotations

import json
import os
import subprocess

from tests.conftest import hydra_command

PLUGIN = '''
def tag(context):
    thread = context.faulting_thread
    context.classify("from-plugin", f"{len(thread.frames)} frames")
    context.annotate("hello from a plug-in", tid=thread.tid, frame=0, source="example")
    context.attribute("plugin.first_function", thread.frames[0].function or "")
    context.attribute("plugin.saw_memory", str(context.read(thread.registers["rsp"], 8) is not None))


def broken(context):
    context.classify("half-done", "added before the failure")
    context.annotate("half-done too", tid=context.faulting_thread.tid, frame=0, source="broken")
    context.attribute("plugin.half_done", "yes")
    raise RuntimeError("this analyzer is broken")
'''


def install_plugin(folder) -> dict:
    (folder / "hydra_example_plugin.py").write_text(PLUGIN)
    info = folder / "hydra_example_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hydra-example-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[hydra.analyzers]\nexample = hydra_example_plugin:tag\nbroken = hydra_example_plugin:broken\n"
        "missing = hydra_example_plugin:does_not_exist\n")
    return {**os.environ, "PYTHONPATH": str(folder)}


def test_plugin_runs_beside_the_builtins(crashes, tmp_path):
    core = crashes.core("classes.c", "O0", "null-read")
    done = subprocess.run(hydra_command() + ["bt", "--json", core], capture_output=True, text=True,
                          timeout=120, env=install_plugin(tmp_path))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert {"from-plugin", "null-dereference"} <= set(report["classifiers"])
    assert report["attributes"]["plugin.first_function"] == "read_weight"
    assert report["attributes"]["plugin.saw_memory"] == "True"
    assert any(a["text"] == "hello from a plug-in" and a["source"] == "example" for a in report["annotations"])
    warnings = "\n".join(report["warnings"])
    assert "analyzer broken failed: RuntimeError: this analyzer is broken" in warnings
    # what a failing analyzer did before it failed is dropped with it
    assert "half-done" not in report["classifiers"] and "plugin.half_done" not in report["attributes"]
    assert not any(a["source"] == "broken" for a in report["annotations"])
    assert "analyzer missing: cannot load" in warnings


def test_a_plug_in_installed_after_a_listing_is_found(crashes, tmp_path):
    """The listing is remembered per state of the import path; installing changes it."""
    core = crashes.core("classes.c", "O0", "null-read")
    site = tmp_path / "site"
    site.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "XDG_CACHE_HOME": str(tmp_path / "cache")}

    def classifiers() -> set[str]:
        done = subprocess.run(hydra_command() + ["bt", "--json", core], capture_output=True, text=True,
                              timeout=120, env=env)
        assert done.returncode == 0, done.stderr
        return set(json.loads(done.stdout)["classifiers"])

    assert "from-plugin" not in classifiers()
    assert (tmp_path / "cache" / "hydra" / "analyzers.cache").is_file()
    assert "from-plugin" not in classifiers()          # from the remembered listing
    env.update(install_plugin(site), XDG_CACHE_HOME=str(tmp_path / "cache"))
    assert "from-plugin" in classifiers()
