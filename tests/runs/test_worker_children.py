"""Everything a run worker starts dies with it (issue 12 invariant 1, DESIGN.md §5).

Real `orchestra api execute-run` processes against the test database. The op records its own pid
and the pid of a `sleep 300` it starts, then sleeps before a side effect; the test kills or stops
the worker and waits (a liveness bound, not a timing) until every process below the worker is gone.
A process that is gone can no longer write the side effect, which is checked last.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from runs import selectors, services
from runs.models import Run, RunStatus
from runs.services import EventInput
from tests.conftest import REPO, child_env
from tests.runs.holding_launcher import use_holding_launcher

pytestmark = pytest.mark.django_db(transaction=True)

LIVENESS_BOUND = 60.0  # seconds a condition may take before the test gives up on it

DEFS = textwrap.dedent(
    """
    import os
    import subprocess
    import time
    import orchestra as dg

    MARKS = os.environ["TEST_MARKS"]
    with open(os.path.join(MARKS, "imported-by"), "a") as handle:  # every process that imports this code
        handle.write(f"{os.getpid()}\\n")

    def mark(name, text=""):
        with open(os.path.join(MARKS, name + ".tmp"), "w") as handle:
            handle.write(text)
        os.replace(os.path.join(MARKS, name + ".tmp"), os.path.join(MARKS, name))

    @dg.op
    def spawner():
        sleeper = subprocess.Popen(["sleep", "300"])
        mark("grandchild-pid", str(sleeper.pid))
        mark("step-pid", str(os.getpid()))
        time.sleep(float(os.environ.get("TEST_OP_SLEEP", "30")))
        mark("side-effect")

    @dg.job
    def spawning():
        spawner()

    defs = dg.Definitions(jobs=[spawning])
    """
)

EXECUTION = {
    "default": {},  # the job's default: multiprocess, forkserver
    "spawn": {"execution": {"config": {"multiprocess": {"start_method": {"spawn": {}}}}}},
    "forkserver": {"execution": {"config": {"multiprocess": {"start_method": {"forkserver": {}}}}}},
    "in_process": {"execution": {"config": {"in_process": {}}}},
}


@pytest.fixture(autouse=True)
def holding_launcher(settings):
    """The launcher stops nothing: what stops the worker here is the worker itself."""
    use_holding_launcher(settings)


@pytest.fixture
def code(tmp_path):
    (tmp_path / "code").mkdir()
    (tmp_path / "marks").mkdir()
    (tmp_path / "code" / "defs.py").write_text(DEFS)
    return tmp_path


def _start(code, child_home, execution, *, op_sleep=30.0, new_session=False):
    run = services.run_create(
        job_name="spawning", origin={"python_file": str(code / "code" / "defs.py"), "attribute": "defs"},
        run_config=EXECUTION[execution],
    )
    services.event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_STARTING")])
    env = child_env(child_home)
    env["TEST_MARKS"] = str(code / "marks")
    env["TEST_OP_SLEEP"] = str(op_sleep)
    env["ORCHESTRA_RUN_WORKER_HEARTBEAT_SECONDS"] = "0.5"
    worker = subprocess.Popen(
        [sys.executable, "-m", "orchestra", "api", "execute-run", run.run_id], env=env, cwd=REPO,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=new_session,
    )
    return run, worker


def _wait_for(predicate, what):
    deadline = time.monotonic() + LIVENESS_BOUND
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what}: not reached within {LIVENESS_BOUND} s")


def _stat(pid):
    """(state, ppid) of a live process, None for one that is gone or a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] in ("Z", "X") else (fields[0], int(fields[1]))


def _descendants(pid):
    """Every live process below `pid`."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (stat := _stat(int(name))) is not None:
            children.setdefault(stat[1], []).append(int(name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _pids(code):
    marks = code / "marks"
    _wait_for(lambda: (marks / "step-pid").exists(), "the op recorded its pids")
    return int((marks / "step-pid").read_text()), int((marks / "grandchild-pid").read_text())


def _wait_gone(pids):
    try:
        _wait_for(lambda: all(_stat(pid) is None for pid in pids), "every process below the run worker gone")
    except AssertionError as exc:
        alive = {pid: _cmdline(pid) for pid in pids if _stat(pid) is not None}
        raise AssertionError(f"{exc}; still alive: {alive}") from None


def _cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "?"


def _cleanup(worker, pids):
    if worker.poll() is None:
        worker.kill()
    worker.communicate()
    for pid in pids:
        if _stat(pid) is not None:
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("start_method", ["spawn", "forkserver"])
def test_a_step_process_and_what_its_op_started_die_with_a_sigkilled_run_worker(code, child_home, start_method):
    run, worker = _start(code, child_home, start_method)
    below: list[int] = []
    try:
        step_pid, grandchild_pid = _pids(code)
        below = _descendants(worker.pid)
        assert {step_pid, grandchild_pid} <= set(below)
        if start_method == "forkserver":  # the step's parent is the fork server, itself the worker's child
            forkserver = _stat(step_pid)[1]
            assert forkserver != worker.pid and forkserver in below
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=LIVENESS_BOUND)
        # the step process, its watchdog, the op's `sleep 300`, the fork server: all of them
        _wait_gone(below)
    finally:
        _cleanup(worker, below)
    assert not (code / "marks" / "side-effect").exists()
    assert Run.objects.get(pk=run.pk).status == RunStatus.STARTED  # nobody wrote its end: monitoring will


@pytest.mark.parametrize("end", ["force_terminate", "failed_elsewhere"])
def test_a_run_ended_by_someone_else_stops_its_worker_and_its_step_processes(code, child_home, end):
    run, worker = _start(code, child_home, "spawn")
    below: list[int] = []
    try:
        step_pid, grandchild_pid = _pids(code)
        below = _descendants(worker.pid)
        if end == "force_terminate":
            services.run_terminate(run_id=run.run_id, force=True)  # the launcher here stops nothing
            expected = RunStatus.CANCELED
        else:  # as run monitoring does
            services.event_store(run_id=run.run_id, events=[EventInput(
                event_type="RUN_FAILURE", message="Run timed out.", payload={"failure_reason": "RUN_EXCEPTION"})])
            expected = RunStatus.FAILURE
        assert worker.wait(timeout=LIVENESS_BOUND) == 1
        _wait_gone([step_pid, grandchild_pid, *below])
    finally:
        _cleanup(worker, below)
    assert not (code / "marks" / "side-effect").exists()
    assert Run.objects.get(pk=run.pk).status == expected
    [exited] = [e for e in selectors.events_after(run_id=run.run_id, cursor=None, limit=1000)
                if e.message.startswith("Process for run exited")]
    assert exited.payload["pid"] == worker.pid


def test_a_process_an_op_leaves_behind_does_not_outlive_a_multiprocess_run(code, child_home):
    run, worker = _start(code, child_home, "spawn", op_sleep=0)
    grandchild_pid = None
    try:
        _, grandchild_pid = _pids(code)
        assert worker.wait(timeout=LIVENESS_BOUND) == 0, worker.stderr.read()
        _wait_gone([grandchild_pid])
    finally:
        _cleanup(worker, [grandchild_pid] if grandchild_pid else [])
    assert (code / "marks" / "side-effect").exists()
    assert Run.objects.get(pk=run.pk).status == RunStatus.SUCCESS


def test_an_in_process_run_worker_leading_its_group_kills_what_its_op_started_when_stopped(code, child_home):
    """In-process, the worker is the step process. Started in a session of its own (as the subprocess
    launcher starts it), it SIGKILLs what is left in its group on its way out; here after a SIGTERM."""
    run, worker = _start(code, child_home, "in_process", new_session=True)
    grandchild_pid = None
    try:
        step_pid, grandchild_pid = _pids(code)
        assert step_pid == worker.pid
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=LIVENESS_BOUND) == 1
        _wait_gone([grandchild_pid])
    finally:
        _cleanup(worker, [grandchild_pid] if grandchild_pid else [])
    assert not (code / "marks" / "side-effect").exists()
    assert Run.objects.get(pk=run.pk).status == RunStatus.CANCELED


def test_an_in_process_run_forks_no_step_server(code, child_home):
    run, worker = _start(code, child_home, "in_process", op_sleep=0.5)
    below: list[int] = []
    try:
        step_pid, grandchild_pid = _pids(code)
        below = _descendants(worker.pid)
        assert step_pid == worker.pid  # the op runs in the worker
        assert below == [grandchild_pid], {pid: _cmdline(pid) for pid in below}  # no fork server, no tracker
        assert worker.wait(timeout=LIVENESS_BOUND) == 0
    finally:
        _cleanup(worker, below)
    assert selectors.run_get(run_id=run.run_id).status == RunStatus.SUCCESS


def test_a_multiprocess_run_forks_its_step_server_from_the_worker_and_succeeds(code, child_home):
    run, worker = _start(code, child_home, "default", op_sleep=0.5)
    below: list[int] = []
    try:
        step_pid, grandchild_pid = _pids(code)
        below = _descendants(worker.pid)
        server = _stat(step_pid)[1]
        # a copy of the worker (its command line), not a fresh `multiprocessing.forkserver` interpreter
        assert _stat(server)[1] == worker.pid and _cmdline(server) == _cmdline(worker.pid)
        assert worker.wait(timeout=LIVENESS_BOUND) == 0
    finally:
        _cleanup(worker, below)
    assert selectors.run_get(run_id=run.run_id).status == RunStatus.SUCCESS
    # the step ran the job its worker had loaded: the code was imported once, by the worker
    assert (code / "marks" / "imported-by").read_text().split() == [str(worker.pid)]
