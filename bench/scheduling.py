"""Scheduling benchmarks: 1,000 schedules due in the same minute, and a backfill of 1,000 partitions.

What it measures, in a throwaway ORCHESTRA_HOME (orchestra.yaml with a run queue, so submitted runs
wait QUEUED as on a daemon deployment; SQLite by default, PostgreSQL with `--pg-url`), against a
real code server started on a generated definitions file:

1. Schedule ticks: `--schedules` schedules (default 1,000) on `--cron` (default `0 * * * *`), all
   running with exactly one tick due (`* * * * *` costs more: the SDK's cron walk starts three hours
   early to handle daylight-saving transitions, 180 croniter steps each way for a minutely cron). The ticks are split across `--workers` processes (default 2, one per core: what
   two Celery daemon workers do), each calling `scheduling.services.schedule_tick` for its share:
   claim the tick row, evaluate it in the code server over HTTP, submit the run through
   `run_submit`, finish the tick. Figure: wall seconds until every tick is finished and its run
   exists (issue #8 asks for under 30 s on a 2-core machine), and ticks per second.
2. Backfill: a daily-partitioned job, `--partitions` partitions (default 1,000), one process calling
   `scheduling.backfills.backfill_progress` (batches of 100: one partition-config request to the
   code server, then one transaction submitting the batch's runs). Figure: runs submitted per
   second (issue #8 asks for at least 50).

Run (about a minute on SQLite on 2 cores):

    /work/venv/bin/python bench/scheduling.py
    /work/venv/bin/python bench/scheduling.py --pg-url postgresql://postgres@127.0.0.1:5432/orch_h8_bench
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def definitions(schedules: int, cron: str) -> str:
    return f'''
import orchestra as dg


@dg.op
def hello():
    return 1


@dg.job
def my_job():
    hello()


@dg.job(partitions_def=dg.DailyPartitionsDefinition(start_date="2020-01-01"))
def daily_job():
    hello()


def make(i):
    @dg.schedule(name=f"every_minute_{{i:04d}}", cron_schedule="{cron}", job=my_job,
                 default_status=dg.DefaultScheduleStatus.RUNNING)
    def _schedule(context):
        return dg.RunRequest(tags={{"i": str(i)}})
    return _schedule


defs = dg.Definitions(jobs=[my_job, daily_job], schedules=[make(i) for i in range({schedules})])
'''


def setup_home(pg_url: str | None) -> Path:
    home = Path(tempfile.mkdtemp(prefix="orchestra-bench-scheduling-"))
    storage = f"storage:\n  postgres:\n    postgres_url: {pg_url}\n" if pg_url else ""
    (home / "orchestra.yaml").write_text(storage + "run_queue: {}\n")
    sys.path.insert(0, str(REPO))
    if pg_url:
        from bench._fixtures import recreate_database

        recreate_database(pg_url)
    os.environ["ORCHESTRA_HOME"] = str(home)
    os.environ["DJANGO_SETTINGS_MODULE"] = "orchestra_site.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return home


def start_code_server(home: Path, schedules: int, cron: str) -> tuple[subprocess.Popen, dict]:
    (home / "defs.py").write_text(definitions(schedules, cron))
    ready = home / "ready.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestra", "code-server", "start", "-f", str(home / "defs.py"), "--location-name",
         "bench", "--port", "0", "--ready-file", str(ready), "--exit-with-parent"],
        stdout=(home / "server.log").open("wb"), stderr=subprocess.STDOUT, cwd=home,
    )
    deadline = time.monotonic() + 120
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"code server did not start:\n{(home / 'server.log').read_text()}")
        time.sleep(0.05)
    return process, json.loads(ready.read_text())


def _init_worker() -> None:
    from django.db import connections

    connections.close_all()  # the forked child opens its own connection


def _tick_share(args: tuple[list[int], str]) -> int:
    from scheduling.services import schedule_tick

    ids, now_iso = args
    now = dt.datetime.fromisoformat(now_iso)
    return sum(len(schedule_tick(state_id=pk, now=now)) for pk in ids)


def bench_schedule_ticks(workers: int, cron: str) -> dict:
    from django.db import connections
    from django.utils import timezone

    from orchestra._core.automation.cron import latest_tick
    from runs.models import Run
    from scheduling.models import InstigatorKind, InstigatorState, Tick, TickStatus

    due = latest_tick(cron, "UTC", timezone.now())
    now = due + dt.timedelta(seconds=30)
    running = InstigatorState.objects.filter(kind=InstigatorKind.SCHEDULE, status="RUNNING", present=True)
    # Started just before the latest cron time: exactly one tick is due for each, 30 s ago.
    running.update(started_at=due - dt.timedelta(seconds=1), last_scheduled_time=None)
    ids = list(running.values_list("pk", flat=True))
    shares = [(ids[i::workers], now.isoformat()) for i in range(workers)]
    connections.close_all()
    started = time.perf_counter()
    with ProcessPoolExecutor(workers, initializer=_init_worker) as pool:
        ticks = sum(pool.map(_tick_share, shares))
    seconds = time.perf_counter() - started
    succeeded = Tick.objects.filter(status=TickStatus.SUCCESS).count()
    return {"schedules": len(ids), "cron": cron, "workers": workers, "ticks": ticks, "successful_ticks": succeeded,
            "runs": Run.objects.count(), "seconds": round(seconds, 2), "ticks_per_second": round(ticks / seconds, 1)}


def bench_backfill(partitions: int) -> dict:
    from runs.models import Run
    from scheduling.backfills import backfill_create, backfill_progress

    before = Run.objects.count()
    start = dt.date(2020, 1, 1)
    names = [(start + dt.timedelta(days=i)).isoformat() for i in range(partitions)]
    backfill = backfill_create(location_name="bench", job_name="daily_job", partition_names=names)
    started = time.perf_counter()
    backfill = backfill_progress(backfill_id=backfill.backfill_id)
    seconds = time.perf_counter() - started
    runs = Run.objects.count() - before
    return {"partitions": partitions, "runs": runs, "submitted": backfill.submitted, "seconds": round(seconds, 2),
            "runs_per_second": round(runs / seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--schedules", type=int, default=1000)
    parser.add_argument("--partitions", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cron", default="0 * * * *",
                        help="the schedules' cron string (default hourly; '* * * * *' shows the SDK's cron walk cost)")
    parser.add_argument("--pg-url", default=None)
    parser.add_argument("--keep", action="store_true", help="keep the temporary ORCHESTRA_HOME")
    args = parser.parse_args()

    home = setup_home(args.pg_url)
    process, info = start_code_server(home, args.schedules, args.cron)
    try:
        from workspace.config import LocationEntry
        from workspace.services import location_load

        entry = LocationEntry(name="bench", kind="code_server", host=info["host"], port=info["port"])
        location = location_load(entry=entry)  # stores the snapshot; scheduling reconciles on the signal
        assert location.status == "LOADED", location.load_error
        results = {"storage": "postgresql" if args.pg_url else "sqlite",
                   "schedule_ticks": bench_schedule_ticks(args.workers, args.cron),
                   "backfill": bench_backfill(args.partitions)}
        print(json.dumps(results, indent=2))
    finally:
        process.terminate()
        process.wait(10)
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)
            if args.pg_url:
                drop_database(args.pg_url)


def drop_database(pg_url: str) -> None:
    from django.db import connections

    from bench import _fixtures

    connections.close_all()
    _fixtures.drop_database(pg_url)


if __name__ == "__main__":
    main()
