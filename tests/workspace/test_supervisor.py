"""The supervisor with real processes: start in the entry's Python, restart with back-off, startup timeouts."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

from workspace.config import LocationEntry
from workspace.supervisor import CodeServerStartError, ManagedCodeServer, Supervisor


def file_entry(path: Path, name: str | None = None, executable: str | None = None) -> LocationEntry:
    return LocationEntry(name=name or path.name, kind="python_file", python_file=str(path),
                         working_directory=str(path.parent), executable_path=executable)


def script(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def test_a_managed_server_starts_on_a_free_loopback_port(defs_file):
    server = ManagedCodeServer(file_entry(defs_file), startup_timeout=30)
    try:
        info = server.start()
        assert info["host"] == "127.0.0.1" and info["port"] > 0 and info["loaded"] is True
        assert server.client().snapshot()["snapshot"]["location_name"] == "defs.py"
    finally:
        server.stop()
    assert not server.alive()


def test_a_killed_server_is_restarted_and_reported(defs_file):
    started: list[dict] = []
    supervisor = Supervisor([file_entry(defs_file)], startup_timeout=30, initial_backoff=0.1,
                            on_start=lambda s: started.append(dict(s.info)))
    try:
        assert supervisor.start() == {"defs.py": None}
        managed = supervisor.servers["defs.py"]
        first = dict(managed.info)
        os.kill(first["pid"], signal.SIGKILL)
        wait_for(lambda: len(started) == 2)
        second = managed.info
        assert second["pid"] != first["pid"] and second["server_id"] != first["server_id"]
        assert managed.restarts == 1
        assert managed.client().health()["status"] == "ok"
    finally:
        supervisor.stop()


def test_restarts_back_off_while_the_server_keeps_dying(tmp_path, defs_file):
    failures: list[float] = []
    dying = script(tmp_path, "dying-python", "echo 'cannot start here' >&2; exit 3")
    supervisor = Supervisor([file_entry(defs_file, executable=dying)], startup_timeout=10, initial_backoff=0.1,
                            max_backoff=0.4, on_failure=lambda s, e: failures.append(time.monotonic()))
    try:
        [error] = supervisor.start().values()
        assert isinstance(error, CodeServerStartError)
        assert "its process exited with status 3" in str(error) and "cannot start here" in str(error)
        wait_for(lambda: len(failures) >= 5, timeout=10)
    finally:
        supervisor.stop()
    gaps = [b - a for a, b in zip(failures, failures[1:], strict=False)]
    assert gaps[0] < gaps[2]  # 0.2 s, then 0.4 s (capped)
    assert all(gap >= 0.15 for gap in gaps)
    assert max(gaps) < 1.5


def test_a_server_silent_past_the_startup_timeout_is_stopped(tmp_path, defs_file):
    silent = script(tmp_path, "silent-python", "exec sleep 60")
    server = ManagedCodeServer(file_entry(defs_file, executable=silent), startup_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(CodeServerStartError, match=r"not listening after 0.5 s"):
        server.start()
    assert time.monotonic() - started < 5
    assert not server.alive()


def test_a_missing_executable_is_a_start_error(defs_file):
    server = ManagedCodeServer(file_entry(defs_file, executable="/nowhere/bin/python"))
    with pytest.raises(CodeServerStartError, match="executable_path '/nowhere/bin/python' does not exist"):
        server.start()


def test_code_server_entries_are_not_started(defs_file):
    remote = LocationEntry(name="remote", kind="code_server", host="127.0.0.1", port=4000)
    assert Supervisor([remote, file_entry(defs_file)]).servers.keys() == {"defs.py"}
    with pytest.raises(ValueError, match="Orchestra does not start it"):
        ManagedCodeServer(remote)


@pytest.fixture(scope="module")
def separate_venv(tmp_path_factory) -> Path:
    """A virtualenv of its own that sees this project and its dependencies through a .pth file."""
    root = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=120)
    site = subprocess.run([str(root / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    ours = sysconfig.get_paths()
    Path(site, "orchestra-under-test.pth").write_text(
        "\n".join([str(Path(__file__).resolve().parents[2]), ours["purelib"], ours["platlib"]]) + "\n"
    )
    return root / "bin" / "python"


def test_a_location_runs_in_its_own_virtualenv(separate_venv, defs_file):
    server = ManagedCodeServer(file_entry(defs_file, executable=str(separate_venv)), startup_timeout=60)
    try:
        info = server.start()
        argv0 = Path(f"/proc/{info['pid']}/cmdline").read_bytes().split(b"\0")[0].decode()
        assert argv0 == str(separate_venv)
        assert server.client().snapshot()["error"] is None
    finally:
        server.stop()


def test_a_server_stops_when_the_process_that_started_it_dies(tmp_path, defs_file):
    # The supervising process is killed outright (no clean-up runs): its code server must not linger.
    parent = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from workspace.config import LocationEntry; "
         "from workspace.supervisor import ManagedCodeServer; "
         f"s = ManagedCodeServer(LocationEntry(name='d', kind='python_file', python_file={str(defs_file)!r})); "
         "print(s.start()['pid'], flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2],
    )
    child_pid = int(parent.stdout.readline())
    assert Path(f"/proc/{child_pid}").exists()
    parent.kill()
    parent.wait(10)
    wait_for(lambda: not Path(f"/proc/{child_pid}").exists() or
             Path(f"/proc/{child_pid}/stat").read_text().split()[2] == "Z", timeout=10)
