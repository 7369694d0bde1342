"""`orchestra dev` as a new user starts it: time to a healthy /health and to the code location
LOADED, then peak resident memory of the whole process tree while N runs execute.

    python bench/dev_deployment.py [--runs 10] [-f defs.py -m module ...extra `orchestra dev` args]

Runs in a fresh temporary directory (so `./.orchestra` is new: the first start migrates), with the
bundled example; the runs are `hello_job` submitted at once through Dagster's DagsterGraphQLClient.
RSS counts shared pages once per process (as `ps` does); PSS, where /proc has it, shares them out.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import warnings
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    children.setdefault(int(stat.read().rsplit(")", 1)[1].split()[1]), []).append(int(entry))
            except OSError:
                pass
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def memory_kib(pids: list[int]) -> tuple[int, int]:
    rss = pss = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as rollup:
                for line in rollup:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
        except OSError:
            pass
    return rss, pss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args, dev_args = parser.parse_known_args()
    warnings.simplefilter("ignore")
    from dagster_graphql import DagsterGraphQLClient

    workdir = Path(tempfile.mkdtemp(prefix="orchestra-dev-bench-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("ORCHESTRA_HOME", "DJANGO_SETTINGS_MODULE")}
    log = workdir / "dev.log"
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "orchestra", "dev", "-p", str(port), *dev_args], cwd=workdir,
                            env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        health_at = loaded_at = None
        while loaded_at is None:
            if proc.poll() is not None:
                sys.exit(f"orchestra dev exited:\n{log.read_text()}")
            if health_at is None:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                        health_at = time.perf_counter() - started
                except OSError:
                    pass
            try:
                with sqlite3.connect(workdir / ".orchestra" / "orchestra.sqlite3") as db:
                    if db.execute("select 1 from workspace_codelocation where status = 'LOADED'").fetchone():
                        loaded_at = time.perf_counter() - started
            except sqlite3.Error:
                pass
            time.sleep(0.05)
        while health_at is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                    health_at = time.perf_counter() - started
            except OSError:
                time.sleep(0.05)
        idle_rss, idle_pss = memory_kib(tree(proc.pid))

        peak = [0, 0]
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                rss, pss = memory_kib(tree(proc.pid))
                peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        client = DagsterGraphQLClient("127.0.0.1", port_number=port)
        submitted = time.perf_counter()
        run_ids = [client.submit_job_execution("hello_job") for _ in range(args.runs)]
        statuses = {}
        while len(statuses) < len(run_ids):
            for run_id in run_ids:
                if run_id not in statuses:
                    status = client.get_run_status(run_id).value
                    if status in ("SUCCESS", "FAILURE", "CANCELED"):
                        statuses[run_id] = status
            time.sleep(0.1)
        elapsed = time.perf_counter() - submitted
        stop.set()
        sampler.join()
        print(f"orchestra dev in a new directory ({workdir}):")
        print(f"  start -> /health healthy:          {health_at:6.2f} s")
        print(f"  start -> code location LOADED:     {loaded_at:6.2f} s")
        print(f"  idle process tree:                 RSS {idle_rss / 1024:6.0f} MiB, PSS {idle_pss / 1024:6.0f} MiB")
        print(f"  {args.runs} runs (hello_job) submitted at once: all ended in {elapsed:.2f} s; "
              f"{sum(s == 'SUCCESS' for s in statuses.values())} SUCCESS")
        print(f"  peak of the process tree meanwhile: RSS {peak[0] / 1024:6.0f} MiB, PSS {peak[1] / 1024:6.0f} MiB")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
