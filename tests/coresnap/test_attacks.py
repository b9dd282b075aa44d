"""The crash collector attacked by an unprivileged local user.

The kernel runs `hydra coresnap handle` as root on a core, an executable name and files a
user controls. These tests make that user (`nobody`, through setpriv), let it plant links
and folders, crash programs of its own, and check that root's handler follows no link,
reads no file for it that it could not read, lets no control byte through and loses
nothing it could keep.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import PROGRAMS, hydra_command, snapshot_text

NOBODY = 65534
pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                                reason="attacks as another user need root and setpriv")


def as_nobody(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *command],
                          **kwargs)


@pytest.fixture
def shared():
    """A folder under /tmp that the unprivileged user can see into (its own parts are its own)."""
    folder = Path(tempfile.mkdtemp(prefix="hydra-attack-", dir="/tmp"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def handle(archive: Path, core: bytes, exe: str, uid: int | None = None, config: Path | None = None,
           env: dict | None = None, pid: int = 4242) -> subprocess.CompletedProcess:
    command = hydra_command() + ["coresnap", "handle", "--dir", str(archive)]
    if config:
        command += ["--config", str(config)]
    fields = [str(pid), str(pid), "11", str(int(time.time()))]
    if uid is not None:
        fields += [str(uid), str(uid)]
    command += fields + [exe.replace("/", "!")]
    return subprocess.run(command, input=core, capture_output=True, timeout=300,
                          env=env if env is not None else os.environ)


def entries(archive: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((archive / "entries").glob("*/entry.json"))]


@pytest.fixture(scope="module")
def secret_crash(tmp_path_factory):
    """A program of the unprivileged user's, crashed by it, whose DWARF names a root-only
    file as the source of the crashing function."""
    root = Path(tempfile.mkdtemp(prefix="hydra-secret-", dir="/tmp"))
    root.chmod(0o755)
    secret = root / "secret.c"
    secret.write_text("TOP-SECRET-ROOT-ONLY-TEXT\n")
    secret.chmod(0o600)
    public = root / "line_directive.c"
    shutil.copy(PROGRAMS / "line_directive.c", public)
    public.chmod(0o644)
    exe = root / "victim"
    subprocess.run(["gcc", "-g", "-O0", f'-DSECRET_PATH="{secret}"', "-o", str(exe), str(public)], check=True)
    exe.chmod(0o755)
    workdir = root / "run"
    workdir.mkdir()
    os.chown(workdir, NOBODY, NOBODY)
    import resource

    def allow_cores():
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))

    done = as_nobody([str(exe)], cwd=workdir, preexec_fn=allow_cores, capture_output=True, timeout=60)
    assert done.returncode < 0
    [core] = list(workdir.glob("core*"))
    assert core.stat().st_uid == NOBODY
    yield {"exe": str(exe), "core": core, "secret": secret, "public": public}
    shutil.rmtree(root, ignore_errors=True)


def test_a_root_only_file_named_in_dwarf_is_not_copied(secret_crash, shared):
    from hydra.snapshot import read_snapshot

    archive = shared / "archive"
    done = handle(archive, secret_crash["core"].read_bytes(), secret_crash["exe"], uid=NOBODY)
    assert done.returncode == 0, done.stderr
    [entry] = entries(archive)
    assert entry["state"] == "done" and entry["uid"] == NOBODY
    crash = read_snapshot(entry["snapshot"])
    assert crash.crashed_thread.frames[0].file == str(secret_crash["secret"])
    assert "TOP-SECRET" not in snapshot_text(crash)
    assert str(secret_crash["secret"]) not in crash.sources
    assert any("permission denied; left out" in w and "secret.c" in w for w in crash.warnings)
    # a file the user can read is kept
    assert str(secret_crash["public"]) in crash.sources


def test_root_snapping_a_users_core_reads_as_that_user(secret_crash, tmp_path):
    from hydra.snapshot import read_snapshot

    out = tmp_path / "out.hsnap"
    done = subprocess.run(hydra_command() + ["snap", str(secret_crash["core"]), "-o", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    crash = read_snapshot(str(out))
    assert "TOP-SECRET" not in snapshot_text(crash)
    assert "permission denied; left out" in done.stderr
    assert crash.crashed_thread.frames[0].function == "crash_here"
    assert crash.crashed_thread.frames[1].function == "main"
    # root's own reading of the same program would have copied it: the test can fail
    own = subprocess.run(hydra_command() + ["bt", "--json", str(secret_crash["core"])],
                         capture_output=True, text=True, timeout=300)
    assert own.returncode == 0 and "crash_here" in own.stdout


def test_a_world_writable_archive_with_a_planted_log_link_is_refused(secret_crash, shared):
    victim_folder = shared / "victim"
    victim_folder.mkdir(mode=0o700)
    victim = victim_folder / "passwd"
    victim.write_text("root:x:0:0::/root:/bin/bash\n")
    archive = shared / "archive"
    archive.mkdir()
    os.chown(archive, NOBODY, NOBODY)
    archive.chmod(0o777)
    as_nobody(["ln", "-s", str(victim), str(archive / "coresnap.log")], check=True)
    exe = "/tmp/x\nroot2::0:0::/root:/bin/bash\n"
    done = handle(archive, secret_crash["core"].read_bytes(), exe, uid=NOBODY)
    assert done.returncode == 1
    assert victim.read_text() == "root:x:0:0::/root:/bin/bash\n"
    assert not (archive / "entries").exists() and not (archive / "snapshots").exists()
    assert b"refused" in done.stderr and b"\nroot2" not in done.stderr


def test_foreign_folders_and_links_inside_the_archive_are_refused(secret_crash, shared):
    elsewhere = shared / "elsewhere"
    elsewhere.mkdir(mode=0o777)
    # a snapshots folder the user made before root's archive existed
    archive = shared / "archive1"
    archive.mkdir()
    archive.chmod(0o755)
    (archive / "snapshots").mkdir()
    os.chown(archive / "snapshots", NOBODY, NOBODY)
    as_nobody(["ln", "-s", str(elsewhere), str(archive / "snapshots" / "default")], check=True)
    done = handle(archive, secret_crash["core"].read_bytes(), secret_crash["exe"], uid=NOBODY)
    assert done.returncode == 1 and b"owned by uid 65534" in done.stderr
    assert list(elsewhere.iterdir()) == []
    # the archive's own folder a link (planted in a world-writable folder)
    public = shared / "public"          # as /tmp is: anyone may add to it, sticky
    public.mkdir()
    public.chmod(0o1777)
    link = public / "link"
    as_nobody(["ln", "-s", str(elsewhere), str(link)], check=True)
    done = handle(link, secret_crash["core"].read_bytes(), secret_crash["exe"], uid=NOBODY)
    assert done.returncode == 1 and b"symbolic link" in done.stderr
    assert list(elsewhere.iterdir()) == []
    # a route folder that is a link: the core stays, pending, with the reason
    archive = shared / "archive2"
    (archive / "snapshots").mkdir(parents=True, mode=0o700)
    archive.chmod(0o700)
    (archive / "snapshots" / "default").symlink_to(elsewhere)
    done = handle(archive, secret_crash["core"].read_bytes(), secret_crash["exe"], uid=NOBODY)
    assert done.returncode == 1
    [entry] = entries(archive)
    assert entry["state"] == "pending" and "symbolic link" in entry["error"]
    assert (archive / "entries" / entry["id"] / "core").exists()
    assert list(elsewhere.iterdir()) == []


def test_hostile_program_names_are_escaped_and_cut(secret_crash, shared):
    archive = shared / "archive"
    name = "/tmp/" + "\x1b]0;owned\x07\x1b[2J\nFORGED 2026-01-01 00:00:00 entry\r" + "A" * 4096
    done = handle(archive, secret_crash["core"].read_bytes(), name, uid=NOBODY)
    assert done.returncode == 0, done.stderr
    [entry] = entries(archive)
    assert entry["state"] == "done" and entry["executable"] == name
    snapshot = Path(entry["snapshot"])
    assert snapshot.exists() and len(snapshot.name) < 100
    assert set(snapshot.name) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-")
    log = (archive / "coresnap.log").read_bytes()
    assert b"\x1b" not in log and b"\x07" not in log and b"\r" not in log
    assert all(line[:4].isdigit() for line in log.splitlines())       # one line per event, each dated
    assert b"FORGED" in log            # the text is there, escaped, inside a line of ours
    listing = subprocess.run(hydra_command() + ["coresnap", "list", "--dir", str(archive)],
                             capture_output=True, timeout=60)
    assert listing.returncode == 0
    assert b"\x1b" not in listing.stdout and b"\x07" not in listing.stdout
    rows = listing.stdout.splitlines()
    assert [row.split()[0] for row in rows if not row.startswith(b" ")] == [b"STATE", b"done"]


def test_a_full_disk_is_recorded_and_leaves_nothing_partial(secret_crash, shared):
    mount = shared / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here")
    try:
        archive = mount / "archive"
        config = shared / "config.toml"
        config.write_text("[coresnap]\n[coresnap.dump]\nquota = 0\n")
        big = secret_crash["core"].read_bytes() + os.urandom(8 << 20)
        done = handle(archive, big, secret_crash["exe"], uid=NOBODY, config=config)
        assert done.returncode == 1 and b"Traceback" not in done.stderr
        [entry] = entries(archive)
        assert entry["state"] == "failed" and "No space left on device" in entry["error"]
        folder = archive / "entries" / entry["id"]
        assert sorted(p.name for p in folder.iterdir()) == ["entry.json"]
        assert "No space left on device" in (archive / "coresnap.log").read_text()
        retry = subprocess.run(hydra_command() + ["coresnap", "retry", entry["id"], "--dir", str(archive)],
                               capture_output=True, text=True, timeout=60)
        assert retry.returncode == 2 and len(retry.stderr.splitlines()) == 1 and "nothing to retry" in retry.stderr
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_truncated_core_is_kept_as_partial_and_retried(secret_crash, shared):
    archive = shared / "archive"
    whole = secret_crash["core"].read_bytes()
    done = handle(archive, whole[:100_000], secret_crash["exe"], uid=NOBODY)
    assert done.returncode == 0, done.stderr
    [entry] = entries(archive)
    assert entry["state"] == "partial" and any("truncated" in w for w in entry["warnings"])
    core = archive / "entries" / entry["id"] / "core"
    assert core.read_bytes() == whole[:100_000]
    from hydra.snapshot import read_snapshot

    assert read_snapshot(entry["snapshot"]).truncated
    core.write_bytes(whole)              # the whole core turned up: retry makes the snapshot again
    retry = subprocess.run(hydra_command() + ["coresnap", "retry", entry["id"], "--dir", str(archive)],
                           capture_output=True, text=True, timeout=300)
    assert retry.returncode == 0, retry.stderr
    [entry] = entries(archive)
    assert entry["state"] == "done" and not core.exists()
    assert not read_snapshot(entry["snapshot"]).truncated


def test_retry_reports_its_own_error(secret_crash, shared):
    archive = shared / "archive"
    assert handle(archive, b"\x7fELF" + b"\0" * 100, secret_crash["exe"], uid=NOBODY).returncode == 1
    [entry] = entries(archive)
    first = entry["error"]
    (archive / "entries" / entry["id"] / "core").write_bytes(b"not a core at all")
    retry = subprocess.run(hydra_command() + ["coresnap", "retry", entry["id"], "--dir", str(archive)],
                           capture_output=True, text=True, timeout=300)
    assert retry.returncode == 2
    [entry] = entries(archive)
    assert entry["error"] != first and "not an ELF core file" in entry["error"]
    assert "not an ELF core file" in retry.stderr and len(retry.stderr.splitlines()) == 1


def test_an_invalid_setting_stops_the_command_that_needs_it(secret_crash, shared):
    archive = shared / "archive"
    assert handle(archive, secret_crash["core"].read_bytes(), secret_crash["exe"], uid=NOBODY).returncode == 0
    config = shared / "config.toml"
    config.write_text('[coresnap]\n[coresnap.purge]\nage = "1x"\n')
    purge = subprocess.run(hydra_command() + ["coresnap", "purge", "--dir", str(archive), "--config", str(config)],
                           capture_output=True, text=True, timeout=60, env={**os.environ, "TZ": "UTC"})
    assert purge.returncode == 2 and len(purge.stderr.splitlines()) == 1 and "purge.age" in purge.stderr
    assert len(entries(archive)) == 1
    # the handler keeps the core, pending, and says why, when the settings it needs are broken
    config.write_text('[coresnap]\nroute = ["bad/name x"]\n')
    done = handle(archive, secret_crash["core"].read_bytes(), secret_crash["exe"], uid=NOBODY, config=config,
                  pid=4343)
    assert done.returncode == 1
    pending = [e for e in entries(archive) if e["pid"] == 4343]
    assert pending[0]["state"] == "pending" and "route" in pending[0]["error"]


def test_the_handler_writes_nothing_outside_its_archive(secret_crash, shared):
    home = shared / "home"
    home.mkdir()
    archive = shared / "archive"
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env["HOME"] = str(home)
    done = handle(archive, secret_crash["core"].read_bytes(), secret_crash["exe"], uid=NOBODY, env=env)
    assert done.returncode == 0, done.stderr
    assert list(home.iterdir()) == []
    for path in archive.rglob("*"):
        mode = stat.S_IMODE(path.lstat().st_mode)
        assert mode & 0o077 == 0, (path, oct(mode))


def test_the_environment_is_blanked_in_coresnap_snapshots(shared):
    """A secret in the crashing program's environment is nowhere in its snapshot."""
    from hydra.snapshot import read_snapshot

    exe = shared / "null_deref"
    subprocess.run(["gcc", "-g", "-O0", "-o", str(exe), str(PROGRAMS / "null_deref.c")], check=True)
    workdir = shared / "run"
    workdir.mkdir()
    import resource

    secret = "hunter2-" + os.urandom(6).hex()
    done = subprocess.run([str(exe)], cwd=workdir, env={"SECRET_TOKEN": secret, "PATH": "/usr/bin:/bin"},
                          preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_CORE, (-1, -1)),
                          capture_output=True, timeout=60)
    assert done.returncode < 0
    [core] = list(workdir.glob("core*"))
    assert secret.encode() in core.read_bytes()          # the core has it: the test can fail
    archive = shared / "archive"
    assert handle(archive, core.read_bytes(), str(exe)).returncode == 0
    [entry] = entries(archive)
    crash = read_snapshot(entry["snapshot"])
    assert secret not in snapshot_text(crash) and "SECRET_TOKEN" not in snapshot_text(crash)
    assert crash.crashed_thread.frames[0].function == "lookup_price"


def test_a_config_the_administrator_does_not_own_is_refused(secret_crash, shared):
    """A config (and the program it names) that another user could write is never used:
    the core is kept, pending, with the reason, and the program is not run."""
    folder = shared / "userconfig"
    folder.mkdir()
    os.chown(folder, NOBODY, NOBODY)
    marker = shared / "ran"
    script = folder / "pwn.sh"
    config = folder / "config.toml"
    as_nobody(["sh", "-c", f"printf '#!/bin/sh\\ntouch {marker}\\n' > {script} && chmod 755 {script} && "
                           f"printf '[coresnap]\\ndefaults_command = \"{script}\"\\n' > {config}"], check=True)
    archive = shared / "archive"
    done = handle(archive, secret_crash["core"].read_bytes(), secret_crash["exe"], uid=NOBODY, config=config)
    assert done.returncode == 1
    assert not marker.exists()
    [entry] = entries(archive)
    assert entry["state"] == "pending" and "refused" in entry["error"] and "owned by uid 65534" in entry["error"]
    # a root-owned config naming a program the user owns: the program is refused too
    root_config = shared / "config.toml"
    root_config.write_text(f'[coresnap]\ndefaults_command = "{script}"\n')
    done = handle(archive, secret_crash["core"].read_bytes(), secret_crash["exe"], uid=NOBODY, config=root_config,
                  pid=4343)
    assert done.returncode == 1 and not marker.exists()
    pending = [e for e in entries(archive) if e["pid"] == 4343][0]
    assert "defaults_command" in pending["error"]


def test_the_core_files_group_is_not_the_users(secret_crash, tmp_path):
    """A core in a setgid folder takes the folder's group; the capture gets the owner's groups."""
    from hydra.capture.asuser import User

    st = os.stat(secret_crash["core"])
    fake = os.stat_result((st.st_mode, st.st_ino, st.st_dev, st.st_nlink, NOBODY, 42, st.st_size,
                           st.st_atime, st.st_mtime, st.st_ctime))
    user = User.owning(fake)
    assert user.uid == NOBODY and user.gid != 42 and 42 not in user.groups


def test_a_fifo_in_place_of_the_binary_does_not_hang_the_handler(shared):
    """The capture for another user stops after its time limit (set short here)."""
    exe = shared / "victim"
    subprocess.run(["gcc", "-g", "-O0", "-o", str(exe), str(PROGRAMS / "null_deref.c")], check=True)
    exe.chmod(0o755)
    run = shared / "run"
    run.mkdir()
    os.chown(run, NOBODY, NOBODY)
    import resource

    as_nobody([str(exe)], cwd=run, capture_output=True, timeout=60,
              preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_CORE, (-1, -1)))
    [core] = list(run.glob("core*"))
    exe.unlink()
    os.mkfifo(exe)
    archive = shared / "archive"
    done = handle(archive, core.read_bytes(), str(exe), uid=NOBODY,
                  env={**os.environ, "HYDRA_CAPTURE_SECONDS": "20"})
    assert done.returncode == 1
    [entry] = entries(archive)
    assert entry["state"] == "pending" and "took more than 20 s" in entry["error"]


def test_sources_named_many_times_are_kept_once(shared):
    """A hundred paths to one large file, and procfs files, named by #line."""
    from hydra.snapshot import read_snapshot

    big = shared / "big.c"
    big.write_text("int filler;\n" * 100_000)          # 1.2 MB
    lines = ["#include <stdio.h>"]
    for number in range(100):
        link = shared / f"src{number}.c"
        link.symlink_to(big)
        lines += [f'#line 1 "{link}"', f"int f{number}(int *p) {{ return *p + {number}; }}"]
    lines += ['#line 1 "/proc/self/status"', "int g(int *p) { return f0(p) + f99(p); }",
              '#line 1 "/proc/self/maps"', "int main(void) { return g(0); }"]
    source = shared / "many.c"
    source.write_text("\n".join(lines) + "\n")
    exe = shared / "many"
    subprocess.run(["gcc", "-g", "-O0", "-o", str(exe), str(source)], check=True)
    run = shared / "run"
    run.mkdir()
    import resource

    subprocess.run([str(exe)], cwd=run, capture_output=True, timeout=60,
                   preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_CORE, (-1, -1)))
    [core] = list(run.glob("core*"))
    out = shared / "many.hsnap"
    done = subprocess.run(hydra_command() + ["snap", str(core), "-o", str(out)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert out.stat().st_size < 2 << 20
    crash = read_snapshot(str(out))
    assert "/proc/self/status" not in crash.sources and "/proc/self/maps" not in crash.sources
    assert str(shared / "src0.c") in crash.sources


def test_secret_named_values_copied_by_the_program_are_blanked(shared):
    """A token the program copied to the heap and into a struct reads as blanked in values."""
    source = shared / "copies.c"
    source.write_text(
        '#include <stdlib.h>\n#include <string.h>\n'
        'struct conf { char token[64]; int port; };\n'
        'int use(const char *dup, struct conf *c) { volatile int *p = 0; return *p + dup[0] + c->port; }\n'
        'int main(void) { const char *t = getenv("API_TOKEN"); char *dup = strdup(t);\n'
        '  struct conf c = {{0}, 80}; strncpy(c.token, t, 63); return use(dup, &c); }\n')
    exe = shared / "copies"
    subprocess.run(["gcc", "-g", "-O0", "-o", str(exe), str(source)], check=True)
    run = shared / "run"
    run.mkdir()
    import resource

    secret = "tok-" + os.urandom(8).hex()
    subprocess.run([str(exe)], cwd=run, env={"API_TOKEN": secret, "PATH": "/usr/bin:/bin"}, capture_output=True,
                   timeout=60, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_CORE, (-1, -1)))
    [core] = list(run.glob("core*"))
    done = subprocess.run(hydra_command() + ["bt", "--full", str(core)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "use (dup=" in done.stdout
    assert secret not in done.stdout and "<environment value blanked>" in done.stdout
    kept = subprocess.run(hydra_command() + ["bt", "--full", "--env", str(core)], capture_output=True, text=True,
                          timeout=300)
    assert secret in kept.stdout            # with --env it is kept: the test can fail


def test_the_disk_floor_is_kept_while_a_core_is_stored(secret_crash, shared):
    mount = shared / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        archive = mount / "archive"
        config = shared / "config.toml"
        config.write_text("[coresnap]\n[coresnap.dump]\nquota = 50\n")
        big = secret_crash["core"].read_bytes() + os.urandom(40 << 20)
        done = handle(archive, big, secret_crash["exe"], uid=NOBODY, config=config)
        assert done.returncode == 1
        [entry] = entries(archive)
        assert entry["state"] == "failed" and "dump.quota floor" in entry["error"]
        st = os.statvfs(mount)
        assert st.f_bavail / st.f_blocks > 0.5
        config.write_text('[coresnap]\n[coresnap.dump]\nquota = 0\nmax_size = "64K"\n')
        done = handle(archive, big, secret_crash["exe"], uid=NOBODY, config=config, pid=4343)
        cut = [e for e in entries(archive) if e["pid"] == 4343][0]
        assert cut["size"] == 64 << 10 and cut["state"] == "partial"
        assert any("max_size" in w for w in cut["warnings"])
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
