"""Run-queue benchmark: dequeue throughput with 1,000 queued runs under a per-value tag limit.

For each storage kind, in a throwaway ORCHESTRA_HOME (its orchestra.yaml written as a user writes
it, then `migrate`): 1,000 QUEUED runs (tag `tenant` over 20 values, a random `dagster/priority`
for a third of them), a queue of `max_concurrent_runs: 50` with `tenant` limited to 5 runs per
value. Rounds of `runs.queue.run_queue_dequeue()` (claim under lock, RUN_DEQUEUED, `run_launch`
-> RUN_STARTING, a launcher that starts nothing) until the queue is empty; between rounds the
launched runs are finished (not timed). Reported: runs per second over the timed dequeue calls,
median ms per call, and the cost of an iteration that finds every slot taken (the beat's idle case;
the first 50 runs fill the slots for it, so 950 runs are timed).

PostgreSQL uses the database `orch_h1b_bench` (`--pg-url`), re-created at the start and dropped at the end.

    /work/venv/bin/python bench/run_queue.py                 # SQLite and PostgreSQL
    /work/venv/bin/python bench/run_queue.py --storage sqlite --runs 1000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/orch_h1b_bench"
QUEUE_CONFIG = """
run_queue:
  max_concurrent_runs: 50
  tag_concurrency_limits:
    - key: tenant
      value: {applyLimitPerUniqueValue: true}
      limit: 5
run_launcher:
  module: run_queue
  class: NullLauncher
"""

try:  # importable as `run_queue` by the measuring child (bench/ on its path), where Django is set up
    from runs.launching import RunLauncher

    class NullLauncher(RunLauncher):
        """Starts nothing: the benchmark measures the queue, not process start-up."""

        def launch_run(self, context) -> None:
            pass

        def terminate(self, run_id: str) -> bool:
            return False
except Exception:  # the parent process has no Django
    pass


def measure(runs: int) -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from runs import services
    from runs.models import Run, RunStatus
    from runs.queue import IN_PROGRESS_STATUSES, run_queue_dequeue
    from runs.services import EventInput

    rng = random.Random(7)
    for i in range(runs):
        tags = {"tenant": f"tenant-{rng.randrange(20)}"}
        if i % 3 == 0:
            tags["dagster/priority"] = str(rng.randrange(-5, 6))
        run = services.run_create(job_name="bench", tags=tags)
        services.event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_ENQUEUED")])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    def finish_in_progress():
        for run_id in Run.objects.filter(status__in=IN_PROGRESS_STATUSES).values_list("run_id", flat=True):
            services.event_store(run_id=run_id, events=[EventInput(event_type="RUN_SUCCESS")])

    # The idle case first: fill every slot, then time iterations that can take nothing.
    run_queue_dequeue()
    idle = []
    for _ in range(20):
        start = time.perf_counter()
        assert run_queue_dequeue() == []
        idle.append((time.perf_counter() - start) * 1000)
    finish_in_progress()

    calls, dequeued, elapsed = [], 0, 0.0
    while Run.objects.filter(status=RunStatus.QUEUED).exists():
        start = time.perf_counter()
        taken = run_queue_dequeue()
        spent = time.perf_counter() - start
        elapsed += spent
        calls.append(spent * 1000)
        dequeued += len(taken)
        finish_in_progress()
    return {
        "storage": connection.vendor,
        "runs": runs,
        "dequeued": dequeued,
        "calls": len(calls),
        "runs_per_second": round(dequeued / elapsed, 1),
        "median_ms_per_call": round(statistics.median(calls), 1),
        "runs_per_call": round(dequeued / len(calls), 1),
        "idle_iteration_ms_median": round(statistics.median(idle), 2),
    }


def run_kind(storage: str, runs: int, pg_url: str) -> dict:
    home = Path(tempfile.mkdtemp(prefix="orchestra-bench-queue-"))
    try:
        config = QUEUE_CONFIG
        if storage == "postgres":
            import psycopg

            parts = urlsplit(pg_url)
            admin = urlunsplit(parts._replace(path="/postgres"))
            name = parts.path.lstrip("/")
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
                conn.execute(f'CREATE DATABASE "{name}"')
            config = f"storage:\n  postgres:\n    postgres_url: {pg_url}\n" + config
        (home / "orchestra.yaml").write_text(config)
        env = dict(os.environ, ORCHESTRA_HOME=str(home), DJANGO_SETTINGS_MODULE="orchestra_site.settings",
                   PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "bench"), os.environ.get("PYTHONPATH", "")]))
        out = subprocess.run(
            [sys.executable, __file__, "--child", "--runs", str(runs)], env=env, cwd=REPO,
            capture_output=True, text=True, check=True,
        )
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(home, ignore_errors=True)
        if storage == "postgres":
            import psycopg

            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storage", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.runs)))
        return
    kinds = ["sqlite", "postgres"] if args.storage == "both" else [args.storage]
    for kind in kinds:
        print(json.dumps(run_kind(kind, args.runs, args.pg_url)))


if __name__ == "__main__":
    main()
