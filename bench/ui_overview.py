"""The overview's timeline with many runs: before (every run of the window drawn as a bar, newest 2,000
plus those in flight) and after (a job with many runs drawn as buckets of adjacent runs, `runs.timeline`),
side by side in one process on the same database.

Fills `--runs` finished runs of one job, 10 s apart (10,000 runs: 28 h; 100,000: 11.6 days), then times
the `/overview/` page through Django's test client for each window, alternating before/after so both see
the same machine load; reports the median and p95 server time, queries, and the page's size. Uses a fresh
ORCHESTRA_HOME on SQLite, or PostgreSQL with `--pg-url` (the database is created and dropped).

    /work/venv/bin/python bench/ui_overview.py [--runs 100000] [--requests 20] [--pg-url postgresql://...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def child(runs: int, requests: int) -> None:
    import django

    django.setup()
    from datetime import timedelta

    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.db import connection
    from django.db.models import Q
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    import scheduling.views_overview as overview
    from bench._fixtures import fill_runs
    from runs.models import Run
    from runs.selectors import IN_FLIGHT
    from runs.timeline import Timeline, run_timeline

    fill_runs(runs)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    def before(*, start, end, limit=2000):
        """The timeline as it was: each run of the window, the newest `limit`, plus every run in flight."""
        fields = ("run_id", "job_name", "location_name", "status", "created_at", "started_at", "ended_at")
        recent = (
            Run.objects.filter(created_at__gte=start - timedelta(days=1), created_at__lt=end)
            .filter(Q(ended_at__gte=start) | Q(ended_at__isnull=True))
            .order_by("-id")
            .values(*fields)[:limit]
        )
        in_flight = (
            Run.objects.filter(status__in=IN_FLIGHT, created_at__lt=end)
            .order_by("-id")
            .values(*fields)[:limit]
        )
        rows = {row["run_id"]: row for row in recent}
        for row in in_flight:
            rows.setdefault(row["run_id"], row)
        found = list(rows.values())
        return Timeline(runs=found, buckets=[], in_flight=sum(1 for r in found if r["status"] in IN_FLIGHT))

    print(f"{Run.objects.count()} runs; {connection.vendor}; load average {os.getloadavg()[0]:.1f}")
    client = Client(HTTP_HOST="127.0.0.1")
    print(f"{'page':24} {'how':7} {'median':>9} {'p95':>9} {'queries':>8} {'bars':>6} {'HTML':>8}")
    for url in ("/overview/", "/overview/?window=1h", "/overview/?window=7d"):
        results = {"before": ([], set(), 0, 0), "after": ([], set(), 0, 0)}
        for _how, selector in (("before", before), ("after", run_timeline)):
            overview.run_timeline = selector
            client.get(url)  # warm-up
        for _ in range(requests):
            for how, selector in (("before", before), ("after", run_timeline)):
                overview.run_timeline = selector
                with CaptureQueriesContext(connection) as queries:
                    began = time.perf_counter()
                    response = client.get(url)
                    elapsed = time.perf_counter() - began
                assert response.status_code == 200
                times, counts, _, _ = results[how]
                times.append(elapsed)
                counts.add(len(queries))
                html = response.content
                results[how] = (times, counts, html.count(b'class="tl-bar'), len(html))
        overview.run_timeline = run_timeline
        for how, (times, counts, bars, size) in results.items():
            ordered = sorted(times)
            p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
            print(
                f"{url:24} {how:7} {statistics.median(ordered) * 1000:7.1f}ms {p95 * 1000:7.1f}ms "
                f"{','.join(map(str, sorted(counts))):>8} {bars:6} {size / 1024:6.0f}KB"
            )
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--pg-url", default=None, help="PostgreSQL URL of a database to create, use and drop")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.runs, args.requests)
        return
    sys.path.insert(0, str(REPO))
    from bench._fixtures import run_child_in_fresh_home

    run_child_in_fresh_home(
        __file__,
        ["--runs", str(args.runs), "--requests", str(args.requests)],
        pg_url=args.pg_url,
        prefix="ui-overview-bench-",
    )


if __name__ == "__main__":
    main()
