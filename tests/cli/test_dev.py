"""`orchestra dev` as a new user runs it: one command, real processes, the bundled example, Ctrl-C stops all."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request

from tests.conftest import REPO


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(predicate, timeout: float, what: str, proc: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"orchestra dev exited ({proc.returncode}) before {what}:\n{log.read_text()}")
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}:\n{log.read_text()}")


def _location_status(db_path) -> tuple[str, str] | None:
    try:
        with sqlite3.connect(db_path) as db:
            return db.execute("select status, snapshot_id from workspace_codelocation where name = 'quickstart'").fetchone()
    except sqlite3.Error:
        return None


def _group_members(pgid: int) -> list[int]:
    """Live processes in a process group (read from /proc; zombies are not counted)."""
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry))
    return members


def _health(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return json.loads(response.read())
    except OSError:
        return None


def test_dev_serves_the_bundled_example_and_stops_everything_on_interrupt(tmp_path):
    home, workdir, port = tmp_path / "home", tmp_path / "empty-project", _free_port()
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("ORCHESTRA_HOME", "DJANGO_SETTINGS_MODULE")}
    env["PYTHONPATH"] = str(REPO)
    log = tmp_path / "dev.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "orchestra", "dev", "--home", str(home), "--port", str(port)],
        cwd=workdir, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        _wait_for(lambda: _health(port) == {"status": "ok", "database": "ok"}, 90, "the webserver", proc, log)
        _wait_for(lambda: (_location_status(home / "orchestra.sqlite3") or ("",))[0] == "LOADED", 90,
                  "the example location", proc, log)
        status, snapshot_id = _location_status(home / "orchestra.sqlite3")
        assert snapshot_id
        output = log.read_text()
        assert "Created the first admin user: admin / " in output
        assert "serving the bundled example" in output
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    # Every child went with it: nothing is left in the process group.
    time.sleep(1)
    assert _group_members(proc.pid) == [], "processes left behind"
    assert _health(port) is None
