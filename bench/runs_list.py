"""`runsOrError` listing the 50 newest of 10,000 runs, Orchestra's webserver side by side with Dagster's.

The query is the run list's (runId, status, jobName, tags, startTime, endTime, limit 50). Reported per
server: the median latency with one client (`--queries` sequential requests after a warm-up) and the
p95 with 8 clients at once (each sending `--queries` requests). The 10,000 runs (finished, with three
tags each) are created once per server before it starts:

- Orchestra on SQLite and on PostgreSQL (database `orch_w2_bench`, `--pg-url`, re-created and
  dropped): rows written through the ORM in a child process, then the ASGI webserver that
  `orchestra dev` runs (uvicorn with `orchestra_site.asgi`, one process; `--server dev`) and/or the
  production command `orchestra webserver` at its default worker count (`--server webserver`);
- Dagster (SQLite), when `--dagster-python` names a Python with dagster, dagster-webserver and
  dagster-graphql: runs created with `DagsterInstance.add_run`, then `dagster-webserver`.

    /work/venv/bin/python bench/runs_list.py [--dagster-python /tmp/w2dagster/bin/python] [--storage sqlite]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/orch_w2_bench"

QUERY = """
query RunsRoot($limit: Int, $cursor: String, $filter: RunsFilter) {
  runsOrError(limit: $limit, cursor: $cursor, filter: $filter) {
    __typename
    ... on Runs {
      results { id runId status jobName startTime endTime tags { key value } }
    }
    ... on PythonError { message }
  }
}
"""

DEFS = """
import {module} as dg


@dg.op
def first() -> int:
    return 1


@dg.job
def three_ops():
    first()


defs = dg.Definitions(jobs=[three_ops])
"""

ORCHESTRA_FILL = """
import sys
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from runs.models import Run

from bench._fixtures import fill_runs
fill_runs(int(sys.argv[1]))
print(Run.objects.count())
"""

DAGSTER_FILL = """
import random, sys, time
from dagster import DagsterInstance, DagsterRunStatus
from dagster._core.storage.dagster_run import DagsterRun
from dagster._core.utils import make_new_run_id

n = int(sys.argv[1])
instance = DagsterInstance.get()
rng = random.Random(3)
now = time.time()
for i in range(n):
    run = DagsterRun(job_name="three_ops", run_id=make_new_run_id(),
                     status=rng.choice([DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE]),
                     tags={"dagster/code_location": "bench", "team": f"team-{rng.randrange(5)}", "dagster/from_ui": "true"})
    instance.add_run(run)
print(len(instance.get_run_ids(limit=n + 1)))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _post(port: int, body: bytes) -> float:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=body,
                                     headers={"Content-Type": "application/json"})
    began = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        payload = response.read()
    elapsed = time.perf_counter() - began
    answer = json.loads(payload)
    results = (answer.get("data") or {}).get("runsOrError", {}).get("results")
    if results is None or len(results) != 50:
        raise RuntimeError(f"unexpected answer: {payload[:500]!r}")
    return elapsed


def _wait_up(port: int, proc: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    body = json.dumps({"query": QUERY, "variables": {"limit": 50}}).encode()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            _post(port, body)
            return
        except Exception:
            time.sleep(0.5)
    raise RuntimeError(f"server not answering after {timeout} s:\n{log.read_text()[-3000:]}")


def _measure(port: int, queries: int) -> dict:
    body = json.dumps({"query": QUERY, "variables": {"limit": 50}}).encode()
    for _ in range(20):
        _post(port, body)
    single = [_post(port, body) for _ in range(queries)]
    concurrent: list[float] = []
    lock = threading.Lock()

    def client() -> None:
        mine = [_post(port, body) for _ in range(queries)]
        with lock:
            concurrent.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    concurrent.sort()
    return {
        "median_ms": statistics.median(single) * 1000,
        "p95_ms": concurrent[int(len(concurrent) * 0.95) - 1] * 1000,
        "median8_ms": statistics.median(concurrent) * 1000,
    }


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _recreate_pg(url: str, drop_only: bool = False) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


def orchestra(work: Path, storage: str, runs: int, queries: int, pg_url: str, server: str = "dev") -> dict:
    home = work / f"orchestra-{storage}-{server}"
    home.mkdir(parents=True)
    (home / "orchestra.yaml").write_text(  # no credentials sent, as to Dagster's webserver
        (f"storage:\n  postgres:\n    postgres_url: {pg_url}\n" if storage == "postgres" else "")
        + "auth:\n  mode: none\n")
    if storage == "postgres":
        _recreate_pg(pg_url)
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(ORCHESTRA_HOME=str(home), DJANGO_SETTINGS_MODULE="orchestra_site.settings", PYTHONPATH=str(REPO))
    try:
        subprocess.run([sys.executable, "-c", ORCHESTRA_FILL, str(runs)], env=env, check=True, cwd=REPO)
        port, log = _free_port(), home / "webserver.log"
        command = ([sys.executable, "-m", "uvicorn", "orchestra_site.asgi:application", "--port", str(port),
                    "--log-level", "warning"] if server == "dev" else
                   [sys.executable, "-m", "orchestra", "webserver", "--port", str(port)])
        proc = subprocess.Popen(command, env=env, cwd=REPO, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            _wait_up(port, proc, log)
            return _measure(port, queries)
        finally:
            _stop(proc)
    finally:
        if storage == "postgres":
            _recreate_pg(pg_url, drop_only=True)


def dagster(work: Path, python: str, runs: int, queries: int) -> dict:
    home, project = work / "dagster-home", work / "dagster-project"
    home.mkdir(parents=True)
    project.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    (project / "defs.py").write_text(DEFS.format(module="dagster"))
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "VIRTUAL_ENV")}
    env["DAGSTER_HOME"] = str(home)
    subprocess.run([python, "-c", DAGSTER_FILL, str(runs)], env=env, check=True, cwd=project)
    port, log = _free_port(), home / "webserver.log"
    proc = subprocess.Popen(
        [str(Path(python).parent / "dagster-webserver"), "-f", "defs.py", "-p", str(port)],
        env=env, cwd=project, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_up(port, proc, log)
        return _measure(port, queries)
    finally:
        _stop(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dagster-python", help="a Python with dagster, dagster-webserver and dagster-graphql")
    parser.add_argument("--storage", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=100, help="requests per client")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--skip-orchestra", action="store_true")
    parser.add_argument("--server", choices=["dev", "webserver", "both"], default="dev",
                        help="dev: uvicorn in one process, as `orchestra dev` runs it; webserver: `orchestra "
                             "webserver` at its default --workers")
    args = parser.parse_args()

    results: dict[str, dict] = {}
    note = None
    with tempfile.TemporaryDirectory(prefix="bench-runs-list-") as tmp:
        work = Path(tmp)
        if not args.skip_orchestra:
            for storage in (["sqlite", "postgres"] if args.storage == "both" else [args.storage]):
                for server in (["dev", "webserver"] if args.server == "both" else [args.server]):
                    name = f"Orchestra {storage}" + (" (webserver)" if server == "webserver" else "")
                    results[name] = orchestra(work, storage, args.runs, args.queries, args.pg_url, server)
        python = args.dagster_python
        if python and (Path(python).parent / "dagster-webserver").exists():
            results["Dagster sqlite"] = dagster(work, python, args.runs, args.queries)
        else:
            note = "Dagster not measured: pass --dagster-python (a venv with dagster, dagster-webserver, dagster-graphql)."

    print(f"runsOrError, 50 newest of {args.runs} runs (with tags)")
    print(f"{'':28}{'median, 1 client':>18}{'p95, 8 clients':>16}{'median, 8 clients':>19}")
    for name, figures in results.items():
        print(f"{name:28}{figures['median_ms']:>15.1f} ms{figures['p95_ms']:>13.1f} ms{figures['median8_ms']:>16.1f} ms")
    if note:
        print(note)


if __name__ == "__main__":
    main()
