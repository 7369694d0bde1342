"""Runs on a timeline by job, for the overview: each job's runs as bars, or — when a job has many runs in
the window — as buckets of adjacent runs, each with its count and status mix, in two queries at most.

The first query groups the window's runs in SQL by (location, job, time bucket, status); a job with at
most `bars_per_job` runs then gets its runs one by one from the second query, the others keep their
buckets. So the page's size and the time to build it depend on the number of jobs and buckets, not runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Func, IntegerField, Max, Min, Q
from django.db.models.functions import Coalesce

from runs.models import Run
from runs.selectors import IN_FLIGHT

LOOKBACK = timedelta(days=1)  # a run created this long before the window and still going shows in it
RUN_FIELDS = ("run_id", "job_name", "location_name", "status", "created_at", "started_at", "ended_at")


class _Bucket(Func):
    """floor(max(0, seconds from `start` to the expression) / `seconds`): the bucket a time falls in."""

    output_field = IntegerField()

    def __init__(self, expression: Any, *, start: datetime, seconds: float):
        super().__init__(expression)
        self.start, self.seconds = start, float(seconds)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        sql, params = compiler.compile(self.source_expressions[0])
        start = connection.ops.adapt_datetimefield_value(self.start)
        return (
            f"CAST(MAX(0, (julianday({sql}) - julianday(%s)) * 86400.0) / %s AS INTEGER)",
            [*params, start, self.seconds],
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        sql, params = compiler.compile(self.source_expressions[0])
        # date_part gives a double; EXTRACT gives a numeric, whose arithmetic is several times slower
        return (
            f"CAST(FLOOR(GREATEST(0.0, date_part('epoch', {sql} - %s)) / %s) AS INTEGER)",
            [*params, self.start, self.seconds],
        )


@dataclass
class TimelineBucket:
    """Runs of one job that began in one bucket of the window."""

    location_name: str
    job_name: str
    began: datetime
    ended: datetime | None  # None while one of them is still going
    created_first: datetime
    created_last: datetime
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return sum(self.statuses.values())


@dataclass
class Timeline:
    runs: list[dict[str, Any]]  # runs of jobs shown run by run (RUN_FIELDS)
    buckets: list[TimelineBucket]  # runs of jobs with many runs, bucketed
    in_flight: int


def run_timeline(*, start: datetime, end: datetime, buckets: int = 96, bars_per_job: int = 60) -> Timeline:
    """The runs to draw on a timeline of [start, end): those created up to a day before `start` that had
    not ended by then, and every run still in flight. A job with more than `bars_per_job` of them is
    given as up to `buckets` buckets of the window instead of run by run."""
    seconds = max((end - start).total_seconds() / buckets, 1.0)
    window = Q(created_at__gte=start - LOOKBACK, created_at__lt=end) & (
        Q(ended_at__gte=start) | Q(ended_at__isnull=True)
    ) | Q(status__in=IN_FLIGHT, created_at__lt=end)
    began = Coalesce("started_at", "created_at")
    groups = (
        Run.objects.filter(window)
        .order_by()
        .annotate(bucket=_Bucket(began, start=start, seconds=seconds))
        .values("location_name", "job_name", "bucket", "status")
        .annotate(
            n=Count("id"),
            began_min=Min(began),
            ended_max=Max("ended_at"),
            open=Count("id", filter=Q(ended_at__isnull=True)),
            created_min=Min("created_at"),
            created_max=Max("created_at"),
        )
    )
    per_job: dict[tuple[str, str], dict[int, TimelineBucket]] = {}
    totals: dict[tuple[str, str], int] = {}
    in_flight = 0
    for row in groups:
        job = (row["location_name"] or "", row["job_name"])
        totals[job] = totals.get(job, 0) + row["n"]
        if row["status"] in IN_FLIGHT:
            in_flight += row["n"]
        bucket = per_job.setdefault(job, {}).get(row["bucket"])
        ended = None if row["open"] else row["ended_max"]
        if bucket is None:
            per_job[job][row["bucket"]] = TimelineBucket(
                job[0],
                job[1],
                row["began_min"],
                ended,
                row["created_min"],
                row["created_max"],
                {row["status"]: row["n"]},
            )
            continue
        bucket.began = min(bucket.began, row["began_min"])
        bucket.ended = None if bucket.ended is None or ended is None else max(bucket.ended, ended)
        bucket.created_first = min(bucket.created_first, row["created_min"])
        bucket.created_last = max(bucket.created_last, row["created_max"])
        bucket.statuses[row["status"]] = bucket.statuses.get(row["status"], 0) + row["n"]
    few = {job for job, total in totals.items() if total <= bars_per_job}
    runs: list[dict[str, Any]] = []
    if few:
        names = sorted({job_name for _, job_name in few})
        for row in Run.objects.filter(window, job_name__in=names).order_by().values(*RUN_FIELDS):
            if ((row["location_name"] or ""), row["job_name"]) in few:
                runs.append(row)
    kept = [
        bucket
        for job, by_index in per_job.items()
        if job not in few
        for _, bucket in sorted(by_index.items())
    ]
    return Timeline(runs=runs, buckets=kept, in_flight=in_flight)
