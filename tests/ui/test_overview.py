"""The overview page: a timeline of runs by job over a zoomable window, failing schedules and sensors,
daemon health and broken code locations, in a constant number of queries."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from runs import services
from runs.models import Run, RunStatus
from scheduling.models import InstigatorState, InstigatorStatus, Tick, TickStatus
from scheduling.services import instigators_reconcile
from tests.runs.locations import queued
from tests.workspace.stored import store_broken_location, store_location

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


@pytest.fixture
def data(tmp_path, settings):
    queued(settings)
    return store_location(tmp_path)


def _run(job: str, status: str, started_ago: timedelta, took: timedelta | None) -> Run:
    run = services.run_create(job_name=job, location_name="data")
    began = timezone.now() - started_ago
    Run.objects.filter(pk=run.pk).update(status=status, created_at=began, started_at=began,
                                         ended_at=began + took if took is not None else None)
    return run


def _bars(html: str) -> dict[str, tuple[float, float, str]]:
    """run id -> (left %, width %, classes) of each bar on the timeline."""
    found = re.findall(r'<a class="tl-bar ([^"]*)" style="left: ([\d.]+)%; width: ([\d.]+)%" href="/runs/([0-9a-f-]{36})/"',
                       html)
    return {run_id: (float(left), float(width), classes) for classes, left, width, run_id in found}


def test_the_timeline_places_runs_of_the_window_by_job(data, client):
    done = _run("etl", RunStatus.SUCCESS, timedelta(hours=12), timedelta(hours=1))
    running = _run("plain", RunStatus.STARTED, timedelta(hours=2), None)
    old = _run("etl", RunStatus.FAILURE, timedelta(days=3), timedelta(minutes=5))
    html = client.get("/overview/").content.decode()
    bars = _bars(html)
    assert set(bars) == {done.run_id, running.run_id}
    left, width, classes = bars[done.run_id]
    assert left == pytest.approx(50, abs=0.2) and width == pytest.approx(100 / 24, abs=0.1)
    assert "status-bg-success" in classes and "running" not in classes
    left, width, classes = bars[running.run_id]
    assert left == pytest.approx(100 - 100 / 12, abs=0.2) and left + width == pytest.approx(100, abs=0.2)
    assert "running" in classes
    assert "<strong>1</strong> run in flight" in html
    assert html.index(">etl</a>") < html.index(">plain</a>")  # one row per job, by name
    assert old.run_id in _bars(client.get("/overview/?window=7d").content.decode())


def test_the_window_moves_earlier_and_refuses_a_bad_end(data, client):
    old = _run("etl", RunStatus.SUCCESS, timedelta(hours=30), timedelta(minutes=30))
    assert old.run_id not in _bars(client.get("/overview/").content.decode())
    end = (timezone.now() - timedelta(hours=20)).strftime("%Y-%m-%dT%H:%M:%S")
    html = client.get(f"/overview/?window=24h&end={end}").content.decode()
    assert old.run_id in _bars(html) and 'rel="next"' in html
    response = client.get("/overview/?end=yesterday")
    assert response.status_code == 400 and "end must be a date and time" in response.content.decode()


def test_failing_schedules_daemons_and_broken_locations_are_shown(data, client):
    store_broken_location()
    instigators_reconcile(location_name="data", force=True)
    schedule = InstigatorState.objects.get(name="hourly")
    InstigatorState.objects.filter(pk=schedule.pk).update(status=InstigatorStatus.RUNNING)
    Tick.objects.create(state=schedule, kind=schedule.kind, status=TickStatus.FAILURE,
                        error={"cls_name": "ValueError", "message": "bad " + HOSTILE, "stack": [], "cause": None})
    services.daemon_heartbeat_record(daemon_type="SCHEDULER", daemon_id="d1")
    html = client.get("/overview/").content.decode()
    assert "<strong>1</strong> failing schedule or sensor" in html
    assert "ValueError" in html and "<script>alert" not in html and "&lt;script&gt;" in html
    assert "<strong>1</strong> code location failed to load" in html
    assert "SyntaxError" in html
    assert re.search(r"SCHEDULER: <span[^>]*>HEALTHY</span>", html)


def test_the_overview_makes_a_constant_number_of_queries(data, client):
    counts = []
    for n in (2, 40):
        for i in range(n):
            _run("etl" if i % 2 else "plain", RunStatus.SUCCESS, timedelta(minutes=10 + i), timedelta(minutes=1))
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/overview/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def _many(job: str, count: int, every: timedelta, *, failing_every: int = 4) -> None:
    now = timezone.now()
    rows = []
    for i in range(count):
        began = now - timedelta(minutes=1) - every * i
        rows.append(Run(run_id=str(uuid.uuid4()), job_name=job, location_name="data",
                        status=RunStatus.FAILURE if i % failing_every == 0 else RunStatus.SUCCESS,
                        created_at=began, started_at=began, ended_at=began + timedelta(seconds=20)))
    Run.objects.bulk_create(rows)


def _buckets(html: str) -> list[tuple[str, int, dict[str, int]]]:
    """(runs-list query, count, status mix) of each bucket bar on the timeline."""
    found = []
    for query, body in re.findall(r'<a class="tl-bar tl-bucket[^"]*" style="[^"]*" href="/runs/\?([^"]*)"[^>]*>(.*?)</a>', html):
        hidden = re.search(r'<span class="visually-hidden">(\d+) runs: ([^<]*)</span>', body)
        mix = {status: int(n) for n, status in re.findall(r"(\d+) ([A-Z_]+)", hidden.group(2))}
        found.append((query.replace("&amp;", "&"), int(hidden.group(1)), mix))
    return found


def test_a_job_with_many_runs_is_drawn_as_buckets_with_counts_and_status_mix(data, client):
    _many("busy", 300, timedelta(minutes=4))  # 20 h of runs, every fourth failed
    quiet = _run("quiet", RunStatus.SUCCESS, timedelta(hours=3), timedelta(minutes=2))
    running = _run("busy", RunStatus.STARTED, timedelta(minutes=30), None)
    html = client.get("/overview/").content.decode()
    buckets = _buckets(html)
    assert 10 <= len(buckets) <= 96  # bounded by the buckets of the window, not by the runs
    assert sum(count for _, count, _ in buckets) == 301
    assert sum(mix.get("FAILURE", 0) for _, _, mix in buckets) == 75
    assert sum(mix.get("STARTED", 0) for _, _, mix in buckets) == 1
    assert all(sum(mix.values()) == count for _, count, mix in buckets)
    assert set(_bars(html)) == {quiet.run_id}  # the quiet job keeps its run-by-run bars
    assert running.run_id not in html and "<strong>1</strong> run in flight" in html
    assert re.search(r'class="tl-bar tl-bucket running"', html)
    # every segment of a bucket says its status in text as well as colour
    assert all(re.search(r"\d+ runs: \d+ [A-Z]", body) for body in re.findall(r'tl-bucket.*?</a>', html))
    # placed where their runs are: 20 h of runs end a minute ago in a 24 h window
    lefts = [float(left) for left in re.findall(r'class="tl-bar tl-bucket[^"]*" style="left: ([\d.]+)%', html)]
    assert lefts == sorted(lefts) and min(lefts) == pytest.approx(100 - 100 * 20 / 24, abs=1.5)
    assert max(lefts) == pytest.approx(100, abs=2)
    query, count, _ = buckets[len(buckets) // 2]
    listed = client.get(f"/runs/?{query}").content.decode()
    assert "busy" in listed and listed.count('<a href="/runs/') >= min(count, 50) - 1


def test_the_bucketed_overview_makes_the_same_queries_for_any_number_of_runs(data, client):
    counts = []
    _run("quiet", RunStatus.SUCCESS, timedelta(hours=3), timedelta(minutes=2))
    for n in (100, 1000):
        _many("busy", n, timedelta(seconds=60))
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/overview/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
