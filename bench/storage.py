"""Storage benchmarks: event appends and the runs list, on SQLite and PostgreSQL.

What it measures, for each storage kind, on a fresh database in a throwaway ORCHESTRA_HOME (its
orchestra.yaml written the way a user writes it, then `migrate`):

1. Event appends through `runs.services.event_store` into one open (STARTED) run: a realistic
   STEP_OUTPUT event (step key, message, small JSON payload), one event per call and in batches of
   100 and 1000 events per call. Each call is one transaction; the figure is events per second.
2. The runs list, `runs.selectors.run_list(limit=50)`, on `--runs` runs (default 100,000), each
   with 3 tags (`team`, 20 values with a skewed Zipf-like share; `env`; `dagster/schedule_name`):
   newest 50; tag filters (the most common team, the rarest, a team no run has, two tags in both
   orders, a list of values); status filters; the second page by cursor. Median and p95 wall ms
   over `--reps` calls, timed without the debug cursor (and this process's median CPU ms, steadier
   on a busy machine); SQL queries per call, counted with `CaptureQueriesContext` at page sizes
   10, 50 and 200 (one number = constant).
   The runs are seeded by `bulk_create` of Run and RunTag rows in batches, not by one service
   call per run; then ANALYZE on PostgreSQL (SQLite is left as Django leaves it: never analyzed).
3. The query plans of the runs query of each filtered case, as Django sent it (EXPLAIN ANALYZE on
   PostgreSQL, EXPLAIN QUERY PLAN on SQLite).

PostgreSQL uses the database `orchestra_bench` (`--pg-url`): dropped and re-created at the start,
dropped at the end unless `--keep` (which also keeps the temporary ORCHESTRA_HOMEs). Each storage
kind runs in its own child process, since Django's settings are fixed once per process.

Run (about 2 minutes for both kinds at 100,000 runs on 2 cores):

    /work/venv/bin/python bench/storage.py                      # both kinds, 100,000 runs
    /work/venv/bin/python bench/storage.py --storage sqlite --runs 20000 --reps 20
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/orchestra_bench"
TEAMS = [f"team-{name}" for name in "ads analytics billing core data fin growth infra ml ops".split()] + [
    f"team-{name}" for name in "payments platform research risk search security sre support web zz".split()
]
ENVS = (("prod", 70), ("staging", 20), ("dev", 10))
SCHEDULES = [f"schedule_{i:02d}" for i in range(40)]
# Share of finished and in-flight runs in a long-lived instance.
STATUSES = (
    ("SUCCESS", 8500),
    ("FAILURE", 900),
    ("CANCELED", 200),
    ("STARTED", 150),
    ("QUEUED", 200),
    ("STARTING", 50),
)
SEED_BATCH = 5000
STEP_OUTPUT = {
    "event_type": "STEP_OUTPUT",
    "step_key": "compute_orders",
    "message": 'Yielded output "result" of type "DataFrame". (Type check passed).',
    "payload": {
        "step_output_data": {"step_output_handle": {"step_key": "compute_orders", "output_name": "result"}},
        "type_check_data": {"success": True, "label": "result", "description": None, "metadata": {}},
        "metadata": {"row_count": 1234, "path": "s3://bucket/orders/2024-01-01.parquet"},
    },
}


# --------------------------------------------------------------------------------------- child side


def _recreate_pg_database(pg_url: str, *, create: bool = True) -> None:
    import psycopg

    parts = urlsplit(pg_url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            conn.execute(f'CREATE DATABASE "{name}"')


def _setup_django(storage: str, home: Path, pg_url: str) -> None:
    if storage == "postgres":
        (home / "orchestra.yaml").write_text(f"storage:\n  postgres:\n    postgres_url: {pg_url}\n")
    else:
        (home / "orchestra.yaml").write_text("storage:\n  sqlite: {}\n")
    os.environ["ORCHESTRA_HOME"] = str(home)
    os.environ["DJANGO_SETTINGS_MODULE"] = "orchestra_site.settings"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def _bench_events(seconds: float) -> list[dict[str, Any]]:
    from runs.services import EventInput, event_store, run_create

    run = run_create(job_name="bench_events", tags={"team": TEAMS[0]})
    event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_STARTING")])
    assert event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_START")]).status == "STARTED"
    event = EventInput(**STEP_OUTPUT)
    results = []
    for batch_size, max_calls in ((1, 5000), (100, 400), (1000, 60)):
        batch = [event] * batch_size
        event_store(run_id=run.run_id, events=batch)  # warm-up
        calls = 0
        start = time.perf_counter()
        while calls < max_calls and time.perf_counter() - start < seconds:
            event_store(run_id=run.run_id, events=batch)
            calls += 1
        elapsed = time.perf_counter() - start
        results.append(
            {
                "batch": batch_size,
                "calls": calls,
                "events": calls * batch_size,
                "seconds": elapsed,
                "events_per_s": calls * batch_size / elapsed,
                "ms_per_call": elapsed / calls * 1000,
            }
        )
        print(f"  events: batch {batch_size:>4}: {results[-1]['events_per_s']:,.0f} events/s", flush=True)
    return results


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...], n: int) -> list[str]:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs], k=n)


def _seed_runs(n: int) -> dict[str, Any]:
    """Insert `n` runs with 3 tags each by bulk_create, oldest first, in batches of SEED_BATCH."""
    from django.db import transaction
    from django.utils import timezone

    from runs.models import Run, RunTag, new_run_id

    rng = random.Random(42)
    team_weights = [1 / (i + 1) ** 1.5 for i in range(len(TEAMS))]  # skewed: a few big teams
    start = time.perf_counter()
    base = timezone.now() - timedelta(seconds=30 * n)
    for offset in range(0, n, SEED_BATCH):
        size = min(SEED_BATCH, n - offset)
        statuses = _weighted(rng, STATUSES, size)
        teams = rng.choices(TEAMS, weights=team_weights, k=size)
        envs = _weighted(rng, ENVS, size)
        runs = []
        for i in range(size):
            created = base + timedelta(seconds=30 * (offset + i))
            finished = statuses[i] in ("SUCCESS", "FAILURE", "CANCELED")
            runs.append(
                Run(
                    run_id=new_run_id(),
                    job_name=f"job_{rng.randrange(60):02d}",
                    location_name="bench_location",
                    repository_name="__repository__",
                    status=statuses[i],
                    run_config={"ops": {"compute_orders": {"config": {"date": "2024-01-01"}}}},
                    created_at=created,
                    updated_at=created + timedelta(seconds=90),
                    started_at=created + timedelta(seconds=2) if statuses[i] not in ("QUEUED",) else None,
                    ended_at=created + timedelta(seconds=90) if finished else None,
                )
            )
        with transaction.atomic():
            Run.objects.bulk_create(runs)  # returns primary keys on SQLite >= 3.35 and PostgreSQL
            tags = []
            for i, run in enumerate(runs):
                tags.append(RunTag(run=run, key="team", value=teams[i]))
                tags.append(RunTag(run=run, key="env", value=envs[i]))
                tags.append(RunTag(run=run, key="dagster/schedule_name", value=rng.choice(SCHEDULES)))
            RunTag.objects.bulk_create(tags)
        done = offset + size
        if done % (SEED_BATCH * 4) == 0 or done == n:
            rate = done / (time.perf_counter() - start)
            print(f"  seeding runs: {done:,}/{n:,} ({rate:,.0f} runs/s)", flush=True)
    return {"runs": n, "tags": 3 * n, "seconds": time.perf_counter() - start}


def _analyze() -> None:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE runs_run")
            cursor.execute("VACUUM ANALYZE runs_runtag")


def _team_counts() -> list[tuple[str, int]]:
    from django.db.models import Count

    from runs.models import RunTag

    rows = RunTag.objects.filter(key="team").values("value").annotate(n=Count("id")).order_by("-n")
    return [(r["value"], r["n"]) for r in rows]


def _list_cases(team_counts: list[tuple[str, int]]) -> list[tuple[str, dict[str, Any]]]:
    from runs.selectors import RunFilter, run_list

    common, common_n = team_counts[0]
    rare, rare_n = team_counts[-1]
    page1 = run_list(limit=50)
    page1_tag = run_list(filters=RunFilter(tags={"team": common}), limit=50)
    return [
        ("newest 50", {}),
        (f"tag team={common} ({common_n:,} runs)", {"filters": RunFilter(tags={"team": common})}),
        (f"tag team={rare} ({rare_n:,} runs)", {"filters": RunFilter(tags={"team": rare})}),
        ("tag team=team-none (0 runs)", {"filters": RunFilter(tags={"team": "team-none"})}),
        (f"tags team={rare}+env=prod", {"filters": RunFilter(tags={"team": rare, "env": "prod"})}),
        (f"tags env=prod+team={rare}", {"filters": RunFilter(tags={"env": "prod", "team": rare})}),
        (f"tag team in [{rare}, {common}]", {"filters": RunFilter(tags={"team": [rare, common]})}),
        ("status FAILURE", {"filters": RunFilter(statuses=["FAILURE"])}),
        ("status QUEUED|STARTED", {"filters": RunFilter(statuses=["QUEUED", "STARTED"])}),
        (
            "status SUCCESS|FAILURE|CANCELED",
            {"filters": RunFilter(statuses=["SUCCESS", "FAILURE", "CANCELED"])},
        ),
        ("cursor: page 2", {"cursor": page1[-1].run_id}),
        (
            f"cursor: page 2, tag team={common}",
            {"filters": RunFilter(tags={"team": common}), "cursor": page1_tag[-1].run_id},
        ),
    ]


def _bench_list(reps: int, team_counts: list[tuple[str, int]]) -> list[dict[str, Any]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from runs.selectors import run_list

    results = []
    for label, kwargs in _list_cases(team_counts):
        # Query counts at three page sizes (also the warm-up): constant means the same for all.
        counts, sql = set(), []
        for limit in (10, 50, 200):
            with CaptureQueriesContext(connection) as ctx:
                page = run_list(limit=limit, **kwargs)
            counts.add(len(ctx.captured_queries))
            if limit == 50:
                rows, sql = len(page), [q["sql"] for q in ctx.captured_queries]
        # Timed calls without the debug cursor (on SQLite it runs an extra query to quote params).
        times, cpu = [], []
        for _ in range(reps):
            start, start_cpu = time.perf_counter(), time.process_time()
            run_list(limit=50, **kwargs)
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
        times.sort()
        results.append(
            {
                "case": label,
                "rows": rows,
                "median_ms": statistics.median(times),
                "p95_ms": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
                "cpu_ms": statistics.median(cpu),
                "queries": sorted(counts),
                # The runs query: the longest on runs_run (not the cursor's anchor, not the tags prefetch).
                "list_sql": max((s for s in sql if 'FROM "runs_run"' in s), key=len),
            }
        )
        r = results[-1]
        print(f"  list: {label:<45} {r['median_ms']:7.2f} ms median  queries={r['queries']}", flush=True)
    return results


def _explain(sql: str) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql)
            return [row[0] for row in cursor.fetchall()]
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        return [row[-1] for row in cursor.fetchall()]


def _server_description() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
            version = cursor.fetchone()[0]
            cursor.execute("PRAGMA journal_mode")
            journal = cursor.fetchone()[0]
            cursor.execute("PRAGMA synchronous")
            sync = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(cursor.fetchone()[0], "?")
            return f"SQLite {version} (journal_mode={journal}, synchronous={sync})"
        cursor.execute("SELECT version()")
        version = " ".join(cursor.fetchone()[0].split()[:2])
        cursor.execute("SHOW synchronous_commit")
        return f"{version} (synchronous_commit={cursor.fetchone()[0]})"


def _indexes_used(plan: list[str]) -> list[str]:
    found = []
    for match in re.finditer(r"(?:using|USING (?:COVERING )?INDEX) (\w+)", "\n".join(plan)):
        if match.group(1) not in found:
            found.append(match.group(1))
    return found


def child_main(args: argparse.Namespace) -> None:
    home = Path(tempfile.mkdtemp(prefix=f"orchestra-bench-{args.child}-"))
    try:
        if args.child == "postgres":
            _recreate_pg_database(args.pg_url)
        print(f"[{args.child}] ORCHESTRA_HOME={home}; migrating a fresh database", flush=True)
        _setup_django(args.child, home, args.pg_url)
        from django.db import connection

        out: dict[str, Any] = {"storage": args.child}
        out["version"] = _server_description()
        out["events"] = _bench_events(args.event_seconds)
        print(f"[{args.child}] seeding {args.runs:,} runs x 3 tags by bulk_create", flush=True)
        out["seed"] = _seed_runs(args.runs)
        _analyze()
        team_counts = _team_counts()
        out["list"] = _bench_list(args.reps, team_counts)
        out["plans"] = {r["case"]: _explain(r["list_sql"]) for r in out["list"] if r["case"] != "newest 50"}
        connection.close()
        Path(args.out).write_text(json.dumps(out))
    finally:
        if args.keep:
            print(f"[{args.child}] kept ORCHESTRA_HOME={home}", flush=True)
        else:
            shutil.rmtree(home, ignore_errors=True)
            if args.child == "postgres":
                from django.db import connections

                connections.close_all()
                _recreate_pg_database(args.pg_url, create=False)


# -------------------------------------------------------------------------------------- parent side


def _print_report(results: list[dict[str, Any]]) -> None:
    kinds = [r["storage"] for r in results]
    print("\n" + "=" * 100)
    for r in results:
        print(f"{r['storage']}: {r['version']}")
    print(
        f"load average now (1/5/15 min, {os.cpu_count()} cores): {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print()
    print("Event appends via runs.services.event_store (STEP_OUTPUT into a STARTED run; 1 transaction/call)")
    print("batch = events per call")
    print(f"{'batch':>6}  " + "  ".join(f"{k + ' events/s':>18} {'ms/call':>9}" for k in kinds))
    for i, row in enumerate(results[0]["events"]):
        cells = []
        for r in results:
            e = r["events"][i]
            cells.append(f"{e['events_per_s']:>18,.0f} {e['ms_per_call']:>9.2f}")
        print(f"{row['batch']:>6}  " + "  ".join(cells))

    seed = ", ".join(f"{r['storage']} {r['seed']['seconds']:.1f} s" for r in results)
    print(
        f"\nRuns list via runs.selectors.run_list(limit=50) on {results[0]['seed']['runs']:,} runs, "
        f"{results[0]['seed']['tags']:,} tags"
    )
    print(
        f"(seeded with bulk_create of Run and RunTag rows in batches of {SEED_BATCH}: {seed}; ANALYZE on PostgreSQL)"
    )
    header = f"{'case':<45} {'rows':>4}"
    for k in kinds:
        header += f" | {k + ' median':>15} {'p95':>6} {'cpu':>6} {'q':>3}"
    print(header)
    print("-" * len(header))
    for i, row in enumerate(results[0]["list"]):
        line = f"{row['case']:<45} {row['rows']:>4}"
        for r in results:
            c = r["list"][i]
            q = "/".join(str(n) for n in c["queries"])
            line += f" | {c['median_ms']:>12.2f} ms {c['p95_ms']:>6.2f} {c['cpu_ms']:>6.2f} {q:>3}"
        print(line)
    print(
        "median, p95: wall ms of the run_list call (SQL + building Run/RunTag objects); cpu: median CPU ms of\n"
        "this process per call (includes SQLite's work, not the PostgreSQL server's; steadier than wall time\n"
        "on a busy machine); q: SQL queries per call at limit 10, 50 and 200 (one number = constant; an empty\n"
        "page skips the tags prefetch)"
    )

    for r in results:
        print(f"\nQuery plans on {r['version']} (the runs query of each list case)")
        for case, plan in r["plans"].items():
            print(f"-- {case}  [indexes: {', '.join(_indexes_used(plan)) or 'none'}]")
            for line in plan:
                print(f"   {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--storage", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--runs", type=int, default=100_000, help="runs to seed for the list benchmark")
    parser.add_argument("--reps", type=int, default=50, help="timed calls per list case")
    parser.add_argument("--event-seconds", type=float, default=4.0, help="time cap per event batch size")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL database to drop and re-create")
    parser.add_argument(
        "--keep", action="store_true", help="keep the databases (and the ORCHESTRA_HOMEs) afterwards"
    )
    parser.add_argument("--child", choices=("sqlite", "postgres"), help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args)
        return

    kinds = ["sqlite", "postgres"] if args.storage == "both" else [args.storage]
    results = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="orchestra-bench-") as tmp:
        for kind in kinds:
            out = Path(tmp) / f"{kind}.json"
            cmd = [
                sys.executable,
                __file__,
                "--child",
                kind,
                "--out",
                str(out),
                "--runs",
                str(args.runs),
                "--reps",
                str(args.reps),
                "--event-seconds",
                str(args.event_seconds),
                "--pg-url",
                args.pg_url,
            ]
            if args.keep:
                cmd.append("--keep")
            subprocess.run(cmd, check=True)
            results.append(json.loads(out.read_text()))
    _print_report(results)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
