"""A schedule's and a sensor's page: definition, next ticks, cursor, and the tick history filtered by status
and paged; actions come back to the page."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scheduling import views_instigators
from scheduling.models import InstigatorState, InstigatorStatus, Tick, TickStatus
from scheduling.services import instigators_reconcile
from tests.runs.locations import queued
from tests.workspace.stored import store_location

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


@pytest.fixture
def states(tmp_path, settings):
    queued(settings)
    store_location(tmp_path)
    instigators_reconcile(location_name="data", force=True)
    return InstigatorState.objects.get(name="hourly"), InstigatorState.objects.get(name="watcher")


def _tick_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr id="tick-(\d+)">', html)]


def test_a_running_schedule_shows_its_cron_and_next_ticks(states, client):
    schedule, _ = states
    client.post("/automation/schedule/data/hourly/start")
    html = client.get("/locations/data/schedules/hourly/").content.decode()
    assert "<code>0 * * * *</code>" in html and 'href="/locations/data/jobs/plain/"' in html
    next_ticks = re.findall(r"<li>(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC</li>", html)
    assert len(next_ticks) == 5 and all(tick.endswith(":00:00") for tick in next_ticks)
    assert "?tag=dagster/schedule_name%3Dhourly" in html


def test_tick_history_filters_by_status_pages_and_escapes(states, client, monkeypatch):
    schedule, _ = states
    monkeypatch.setattr(views_instigators, "TICK_PAGE", 3)
    ticks = [Tick.objects.create(state=schedule, kind=schedule.kind,
                                 status=TickStatus.FAILURE if i % 2 else TickStatus.SKIPPED,
                                 skip_reason=None if i % 2 else f"skip {i} {HOSTILE}",
                                 error={"cls_name": "ValueError", "message": "bad", "stack": [], "cause": None}
                                 if i % 2 else None) for i in range(5)]
    html = client.get("/locations/data/schedules/hourly/").content.decode()
    assert _tick_ids(html) == [ticks[4].id, ticks[3].id, ticks[2].id]
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    older = re.search(r'href="\?before=(\d+)" rel="next"', html).group(1)
    assert _tick_ids(client.get(f"/locations/data/schedules/hourly/?before={older}").content.decode()) == \
        [ticks[1].id, ticks[0].id]
    failed = client.get("/locations/data/schedules/hourly/?status=failure").content.decode()
    assert _tick_ids(failed) == [ticks[3].id, ticks[1].id] and "ValueError" in failed


def test_a_sensor_page_shows_and_sets_its_cursor_and_comes_back(states, client):
    html = client.get("/locations/data/sensors/watcher/").content.decode()
    assert '<pre class="config" id="sensor-cursor">(none)</pre>' in html
    response = client.post("/automation/sensor/data/watcher/cursor",
                           {"cursor": "42", "next": "/locations/data/sensors/watcher/"})
    assert response.status_code == 302 and response.url == "/locations/data/sensors/watcher/"
    assert InstigatorState.objects.get(name="watcher").cursor == "42"
    response = client.post("/automation/sensor/data/watcher/start", {"next": "https://evil.example/"})
    assert response.url == "/automation/"  # never off-site
    assert InstigatorState.objects.get(name="watcher").status == InstigatorStatus.RUNNING


def test_unknown_instigators_answer_404_and_queries_stay_constant(states, client):
    schedule, _ = states
    assert client.get("/locations/data/schedules/nope/").status_code == 404
    assert client.get("/locations/data/sensors/hourly/").status_code == 404  # a schedule, not a sensor
    counts = []
    for n in (1, 30):
        Tick.objects.bulk_create([Tick(state=schedule, kind=schedule.kind, status=TickStatus.SKIPPED)
                                  for _ in range(n)])
        with CaptureQueriesContext(connection) as queries:
            client.get("/locations/data/schedules/hourly/")
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_automation_list_links_to_the_pages(states, client):
    html = client.get("/automation/").content.decode()
    assert 'href="/locations/data/schedules/hourly/"' in html and 'href="/locations/data/sensors/watcher/"' in html
