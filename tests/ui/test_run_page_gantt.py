"""The run page's Gantt chart (each step on the run's time span; the live page redraws it from `stepStats`) and
the event rows' attributes the event-log filters read."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from runs import services
from runs.services import EventInput
from tests.runs.locations import queued
from tests.ui.live import live_config, live_poll
from tests.workspace.stored import store_location

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def run(tmp_path, settings):
    queued(settings)
    store_location(tmp_path)
    return services.run_create(job_name="etl", location_name="data")


def _bars(html: str) -> dict[str, tuple[float, float, str]]:
    # A finished run's rows are labels of the step picker's checkboxes; a running one's are spans.
    found = re.findall(r'<(?:span|label) class="gantt-step" role="rowheader"[^>]*>([^<]+)</(?:span|label)>\s*'
                       r'<(?:span|label) class="gantt-lane"[^>]*>'
                       r'<span class="gantt-bar ([^"]+)" style="left: ([\d.]+)%; width: ([\d.]+)%"', html)
    return {step: (float(left), float(width), classes) for step, classes, left, width in found}


def test_steps_are_placed_on_the_run_s_span_and_follow_the_live_poll(run, client):
    t0 = timezone.now() - timedelta(seconds=100)
    services.event_store(run_id=run.run_id, events=[
        EventInput(event_type="RUN_START", timestamp=t0),
        EventInput(event_type="STEP_START", step_key="emit", timestamp=t0),
        EventInput(event_type="STEP_SUCCESS", step_key="emit", timestamp=t0 + timedelta(seconds=25)),
        EventInput(event_type="STEP_START", step_key="double", timestamp=t0 + timedelta(seconds=50)),
        EventInput(event_type="STEP_FAILURE", step_key="double", timestamp=t0 + timedelta(seconds=75)),
        EventInput(event_type="RUN_FAILURE", timestamp=t0 + timedelta(seconds=100)),
    ])
    bars = _bars(client.get(f"/runs/{run.run_id}/").content.decode())
    assert list(bars) == ["emit", "double"]  # in start order
    emit, double = bars["emit"], bars["double"]
    assert emit[:2] == pytest.approx((0, 25), abs=0.5) and "status-bg-success" in emit[2]
    assert double[:2] == pytest.approx((50, 25), abs=0.5) and "status-bg-failure" in double[2]
    # What the live page draws the same chart from: each step's times, in seconds, as Dagster's RunStepStats.
    live = live_poll(client, live_config(client.get(f"/runs/{run.run_id}/").content.decode()), after="0", steps=True)
    stats = {s["stepKey"]: s for s in live["runOrError"]["stepStats"]}
    assert stats["double"]["status"] == "FAILURE" and stats["emit"]["status"] == "SUCCESS"
    assert stats["double"]["endTime"] - stats["double"]["startTime"] == pytest.approx(25, abs=0.01)
    assert stats["emit"]["attempts"] == [{"startTime": stats["emit"]["startTime"], "endTime": stats["emit"]["endTime"]}]


def test_a_running_step_reaches_now_and_is_marked_running(run, client):
    t0 = timezone.now() - timedelta(seconds=60)
    services.event_store(run_id=run.run_id, events=[
        EventInput(event_type="RUN_START", timestamp=t0),
        EventInput(event_type="STEP_START", step_key="emit", timestamp=t0 + timedelta(seconds=30)),
    ])
    left, width, classes = _bars(client.get(f"/runs/{run.run_id}/").content.decode())["emit"]
    assert left == pytest.approx(50, abs=1) and left + width == pytest.approx(100, abs=1)
    assert "running" in classes and "status-bg-in_progress" in classes


def test_event_rows_carry_what_the_filters_read(run, client):
    services.event_store(run_id=run.run_id, events=[
        EventInput(event_type="STEP_START", step_key="emit"),
        EventInput(message="boom", level=logging.ERROR, step_key="emit"),
    ])
    html = client.get(f"/runs/{run.run_id}/").content.decode()
    assert 'data-type="STEP_START" data-step="emit" data-level="INFO"' in html
    assert 'data-type="LOG" data-step="emit" data-level="ERROR"' in html
    assert 'id="event-filters"' in html and "/static/ui/events.js" in html


def test_a_poll_without_new_events_answers_no_rows_and_keeps_its_cursor(run, client):
    services.event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_START")])
    config = live_config(client.get(f"/runs/{run.run_id}/").content.decode())
    idle = live_poll(client, config)["logsForRun"]
    assert idle["events"] == [] and idle["cursor"] == config["cursor"] and idle["hasMore"] is False
    services.event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_SUCCESS")])
    last = live_poll(client, config)
    assert last["runOrError"]["status"] == "SUCCESS" and [e["eventType"] for e in last["logsForRun"]["events"]] == [
        "RUN_SUCCESS"]
