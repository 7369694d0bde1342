"""`orchestra dev` end to end: a real process tree on the test database and broker (SQLite + the
embedded broker, or PostgreSQL + Redis with ORCHESTRA_TEST_STORAGE/BROKER), driven with Dagster's own
`DagsterGraphQLClient`, stopped with Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:gql"),  # raised inside Dagster's client
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def health(port: int) -> bytes | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return response.read() if response.status == 200 else None
    except OSError:
        return None


def descendants(root: int) -> set[tuple[int, str]]:
    """Live (pid, start time) of `root` and every process below it, read from /proc."""
    children: dict[int, list[int]] = {}
    start: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == "Z":
            continue
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)
        start[pid] = fields[19]
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid in start:
            found.add((pid, start[pid]))
        todo.extend(children.get(pid, []))
    return found


def alive(processes: set[tuple[int, str]]) -> set[tuple[int, str]]:
    left = set()
    for pid, started in processes:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and fields[19] == started:
            left.add((pid, started))
    return left


class Dev:
    """`orchestra dev` started as a user starts it, in its own session, output in a log file."""

    def __init__(self, home: Path, workdir: Path, log: Path, *args: str):
        self.port, self.log = free_port(), log
        env = {k: v for k, v in os.environ.items() if k not in ("ORCHESTRA_HOME", "DJANGO_SETTINGS_MODULE")}
        env["PYTHONPATH"] = str(REPO)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "orchestra", "dev", "--home", str(home), "--port", str(self.port), *args],
            cwd=workdir, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
        )

    def wait_for(self, predicate, what: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"orchestra dev exited ({self.proc.returncode}) before {what}:\n{self.log.read_text()}")
            if predicate():
                return
            time.sleep(0.3)
        raise AssertionError(f"timed out waiting for {what}:\n{self.log.read_text()[-5000:]}")

    def wait_until_ready(self, location: str = "quickstart") -> None:
        from workspace.models import CodeLocation

        self.wait_for(lambda: health(self.port) is not None, "the webserver")
        self.wait_for(lambda: CodeLocation.objects.filter(name=location, status="LOADED").exists(),
                      f"location {location} to load")

    def interrupt_and_check_everything_stopped(self) -> None:
        tree = descendants(self.proc.pid)
        assert len(tree) >= 5, tree  # dev, webserver, worker (+ pool), beat, code servers
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(60)
        finally:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)
        assert self.proc.returncode == 0, self.log.read_text()[-3000:]
        deadline = time.monotonic() + 5
        while alive(tree) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert alive(tree) == set(), f"processes left behind: {alive(tree)}"
        assert health(self.port) is None

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


@pytest.fixture
def empty_project(tmp_path) -> Path:
    workdir = tmp_path / "empty-project"
    workdir.mkdir()
    return workdir


def wait_for_status(client, run_id: str, statuses, timeout: float = 120):
    from dagster import DagsterRunStatus

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get_run_status(run_id)
        if status in statuses or status in (DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED):
            return status
        time.sleep(0.3)
    return client.get_run_status(run_id)


def test_a_run_submitted_through_graphql_succeeds_and_ctrl_c_stops_every_process(child_home, empty_project, tmp_path):
    from dagster import DagsterRunStatus
    from dagster_graphql import DagsterGraphQLClient

    from runs.models import Run

    dev = Dev(child_home, empty_project, tmp_path / "dev.log")
    try:
        dev.wait_until_ready()
        client = DagsterGraphQLClient("127.0.0.1", port_number=dev.port)
        run_id = client.submit_job_execution("hello_job", repository_location_name="quickstart",
                                             repository_name="__repository__", tags={"e2e": "default"})
        assert wait_for_status(client, run_id, {DagsterRunStatus.SUCCESS}) == DagsterRunStatus.SUCCESS
        run = Run.objects.get(run_id=run_id)
        assert run.job_name == "hello_job"
        assert run.tags.get(key="e2e").value == "default"
        assert "serving the bundled example" in dev.log.read_text()
        dev.interrupt_and_check_everything_stopped()
    finally:
        dev.kill()


DAEMON_HEALTH = """
{ instance { runQueuingSupported daemonHealth { allDaemonStatuses { daemonType required healthy } } } }
"""


def graphql(port: int, query: str) -> dict:
    import json

    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_queued_runs_all_succeed_through_the_daemon_and_daemon_health_turns_healthy(child_home, empty_project, tmp_path):
    from dagster import DagsterRunStatus
    from dagster_graphql import DagsterGraphQLClient

    with (child_home / "orchestra.yaml").open("a") as config:
        config.write("run_queue:\n  max_concurrent_runs: 2\n")
    dev = Dev(child_home, empty_project, tmp_path / "dev.log")
    try:
        dev.wait_until_ready()
        before = graphql(dev.port, DAEMON_HEALTH)["data"]["instance"]
        assert before["runQueuingSupported"] is True
        required = {s["daemonType"] for s in before["daemonHealth"]["allDaemonStatuses"] if s["required"]}
        assert {"QUEUED_RUN_COORDINATOR", "SENSOR", "SCHEDULER", "BACKFILL", "MONITORING"} <= required

        client = DagsterGraphQLClient("127.0.0.1", port_number=dev.port)
        run_ids = [
            client.submit_job_execution("hello_job", repository_location_name="quickstart",
                                        repository_name="__repository__", tags={"e2e": "queued", "n": str(n)})
            for n in range(5)
        ]
        finals = [wait_for_status(client, run_id, {DagsterRunStatus.SUCCESS}) for run_id in run_ids]
        assert finals == [DagsterRunStatus.SUCCESS] * 5

        from runs.models import EventLogEntry

        # Every run went through the queue: RUN_ENQUEUED, then RUN_DEQUEUED by the daemon.
        for event_type in ("RUN_ENQUEUED", "RUN_DEQUEUED"):
            marked = set(EventLogEntry.objects.filter(run_id__in=run_ids, event_type=event_type)
                         .values_list("run_id", flat=True))
            assert marked == set(run_ids), event_type

        def all_healthy() -> bool:
            statuses = graphql(dev.port, DAEMON_HEALTH)["data"]["instance"]["daemonHealth"]["allDaemonStatuses"]
            return all(s["healthy"] for s in statuses if s["required"])

        # The scheduler, sensor and backfill daemons beat once a minute; the run queue every 2 s.
        dev.wait_for(all_healthy, "every required daemon to report healthy", timeout=180)
        dev.interrupt_and_check_everything_stopped()
    finally:
        dev.kill()


def test_dev_serves_a_module_with_dash_m_in_a_home_under_the_current_directory(tmp_path):
    """No --home and no ORCHESTRA_HOME: the home is ./.orchestra, kept between runs."""
    import sqlite3

    project = tmp_path / "project"
    (project / "pipelines").mkdir(parents=True)
    (project / "pipelines" / "__init__.py").write_text("")
    (project / "pipelines" / "defs.py").write_text(
        "import orchestra as dg\n\n\n@dg.asset\ndef numbers():\n    return [1, 2, 3]\n\n\n"
        "defs = dg.Definitions(assets=[numbers])\n"
    )
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("ORCHESTRA_HOME", "DJANGO_SETTINGS_MODULE")}
    env["PYTHONPATH"] = str(REPO)
    log = tmp_path / "dev.log"
    proc = subprocess.Popen([sys.executable, "-m", "orchestra", "dev", "-m", "pipelines.defs", "-p", str(port)],
                            cwd=project, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    dev = Dev.__new__(Dev)
    dev.proc, dev.port, dev.log = proc, port, log

    def location() -> tuple | None:
        try:
            with sqlite3.connect(project / ".orchestra" / "orchestra.sqlite3") as db:
                return db.execute("select name, status from workspace_codelocation").fetchone()
        except sqlite3.Error:
            return None

    try:
        dev.wait_for(lambda: health(port) is not None and location() == ("pipelines.defs", "LOADED"),
                     "the module's location to load")
        assert "home: " + str(project / ".orchestra") in log.read_text()
        dev.interrupt_and_check_everything_stopped()
    finally:
        dev.kill()
