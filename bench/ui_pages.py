"""Server time and query count of each UI page, with 10,000 runs (three tags each), a run of 200 steps and
2,000 events, and a code location of 2,000 assets (half of them materialized).

Each page is requested `--requests` times with Django's test client after one warm-up request; reported:
the median and p95 server time and the number of SQL queries per request. This is the time Django takes
to answer (view, queries, template), not a browser's time to content. Uses a fresh ORCHESTRA_HOME on
SQLite, or PostgreSQL with `--pg-url` (the database is created and dropped).

    /work/venv/bin/python bench/ui_pages.py [--runs 10000] [--requests 20] [--pg-url postgresql://...] [--only overview]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

DEFS = """
import orchestra as dg


@dg.op(config_schema={"n": int})
def first(context) -> int:
    return context.op_config["n"]


@dg.job(tags={"team": "bench"})
def three_ops():
    first()


def make(i):
    @dg.asset(name=f"asset_{i:04d}", group_name=f"group_{i % 10}", key_prefix=["bench"])
    def _asset():
        return i
    return _asset


defs = dg.Definitions(jobs=[three_ops], assets=[make(i) for i in range(2000)])
"""


def child(runs: int, requests: int, only: str = "") -> None:

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench._fixtures import fill_runs
    from orchestra._core.definitions_class.module_loading import load_definitions
    from orchestra._core.snapshot.location import snapshot_from_definitions
    from runs.models import AssetIndex, EventLogEntry, Run
    from workspace.models import CodeLocation, LocationStatus

    home = Path(os.environ["ORCHESTRA_HOME"])
    (home / "defs.py").write_text(DEFS)
    snapshot = snapshot_from_definitions(load_definitions(python_file=str(home / "defs.py")), "bench")
    CodeLocation.objects.create(name="bench", status=LocationStatus.LOADED, snapshot=snapshot,
                                snapshot_id=snapshot["snapshot_id"],
                                origin={"name": "bench", "kind": "python_file", "python_file": str(home / "defs.py")})
    fill_runs(runs)
    with transaction.atomic():
        big = Run.objects.order_by("-id").first()
        events = []
        for step in range(200):
            for kind in ("STEP_START", "STEP_OUTPUT", "HANDLED_OUTPUT", "LOADED_INPUT", "STEP_SUCCESS"):
                events.append(EventLogEntry(run=big, event_type=kind, step_key=f"step_{step:03d}",
                                            message=f"{kind} of step_{step:03d}"))
        for i in range(0, 2000, 2):
            events.append(EventLogEntry(run=big, event_type="ASSET_MATERIALIZATION", step_key="step_000",
                                        asset_key=f"bench/asset_{i:04d}", message="materialized"))
        EventLogEntry.objects.bulk_create(events)
        materializations = EventLogEntry.objects.filter(run=big, event_type="ASSET_MATERIALIZATION")
        AssetIndex.objects.bulk_create([AssetIndex(asset_key=e.asset_key, last_materialization=e, last_run_id=big.run_id)
                                        for e in materializations])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # as autovacuum would after a bulk load
    print(f"{Run.objects.count()} runs, {EventLogEntry.objects.count()} events, "
          f"{len(snapshot['asset_nodes'])} assets; {connection.vendor}")
    pages = {
        "/runs/": "/runs/",
        "/runs/?status=FAILURE&tag=team=team-1": "/runs/?status=FAILURE&tag=team%3Dteam-1",
        "/runs/?cursor=<page 2>": f"/runs/?cursor={Run.objects.order_by('-id').values_list('run_id', flat=True)[49]}",
        "/runs/<run, 2000 events>/": f"/runs/{big.run_id}/",
        # the "Load earlier events" fragment (new events come from /graphql's logsForRun)
        "/runs/<run>/events?before=<newest 500>": f"/runs/{big.run_id}/events?before={events[-500].id}",
        "/jobs/": "/jobs/",
        "/locations/bench/jobs/three_ops/": "/locations/bench/jobs/three_ops/",
        "/assets/ (2,000)": "/assets/",
        "/assets/?group=group_3": "/assets/?group=group_3",
        "/assets/bench/asset_0000/": "/assets/bench/asset_0000/",
        "/asset-groups/ (2,000: by group)": "/asset-groups/",
        "/asset-groups/?group=group_3@bench": "/asset-groups/?group=group_3@bench",
        "/automation/": "/automation/",
        "/overview/ (24 h, bucketed)": "/overview/",
        "/overview/?window=7d": "/overview/?window=7d",
        "/overview/?window=1h": "/overview/?window=1h",
        "/runs/?view=backfills": "/runs/?view=backfills",
        "/search?q=asset_00 (htmx)": "/search?q=asset_00",
        "/deployment/": "/deployment/",
    }
    client = Client(HTTP_HOST="127.0.0.1")
    print(f"{'page':42} {'median':>9} {'p95':>9} {'queries':>8}")
    for label, url in pages.items():
        if only and only not in label:
            continue
        assert client.get(url).status_code == 200, url
        times, counts = [], set()
        for _ in range(requests):
            with CaptureQueriesContext(connection) as queries:
                start = time.perf_counter()
                response = client.get(url)
                times.append(time.perf_counter() - start)
            assert response.status_code == 200, url
            counts.add(len(queries))
        ordered = sorted(times)
        p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
        print(f"{label:42} {statistics.median(ordered) * 1000:7.1f}ms {p95 * 1000:7.1f}ms {','.join(map(str, sorted(counts))):>8}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--pg-url", default=None, help="PostgreSQL URL of a database to create, use and drop")
    parser.add_argument("--only", default="", help="measure only the pages whose label contains this text")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.runs, args.requests, args.only)
        return
    sys.path.insert(0, str(REPO))
    from bench._fixtures import run_child_in_fresh_home

    run_child_in_fresh_home(
        __file__,
        ["--runs", str(args.runs), "--requests", str(args.requests), "--only", args.only],
        pg_url=args.pg_url,
        prefix="ui-bench-",
    )


if __name__ == "__main__":
    main()
