"""The run worker's step fork server is a fork of the worker, speaks Python's forkserver protocol and
dies with the worker (`runs.multiprocess_executor.fork_step_server`).

A real Python process (no Django, as in a run worker before it connects) forks its server, then
starts step-like processes through `multiprocessing.get_context("forkserver")`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

from tests.conftest import REPO

LIVENESS_BOUND = 60.0  # seconds a process may take to go away before the test gives up

SCRIPT = textwrap.dedent(
    """
    import json, multiprocessing, os, sys, types
    from runs.multiprocess_executor import fork_step_server

    sys.modules["imported_before_the_fork"] = types.ModuleType("imported_before_the_fork")


    def child(queue, lock):
        with lock:  # a semaphore: registered with the resource tracker
            queue.put({"pid": os.getpid(), "parent": os.getppid(),
                       "warm": "imported_before_the_fork" in sys.modules})


    if __name__ == "__main__":
        started = fork_step_server()
        from multiprocessing import forkserver, resource_tracker

        mp = multiprocessing.get_context("forkserver")
        queue, lock = mp.Queue(), mp.Lock()
        process = mp.Process(target=child, args=(queue, lock))
        process.start()
        answer = queue.get(timeout=60)
        process.join(60)
        answer.update(started=started, exitcode=process.exitcode, me=os.getpid(),
                      server=forkserver._forkserver._forkserver_pid,
                      tracker=resource_tracker._resource_tracker._pid)
        print(json.dumps(answer), flush=True)
    """
)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_steps_fork_from_a_copy_of_the_run_worker_that_ends_with_it(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, str(script)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["started"] is True
    # forked by the server, itself forked from the worker: it finds what the worker had imported
    assert answer["parent"] == answer["server"] != answer["me"]
    assert answer["warm"] is True
    assert answer["exitcode"] == 0
    # the server and the resource tracker do not outlive the worker
    deadline = time.monotonic() + LIVENESS_BOUND
    while any(_alive(answer[name]) for name in ("server", "tracker", "pid")):
        assert time.monotonic() < deadline, answer
        time.sleep(0.05)
