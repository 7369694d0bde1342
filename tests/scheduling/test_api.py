"""Scheduling's REST endpoints over the states reconciled from a real code server's snapshot."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from runs.models import Run
from scheduling import services
from scheduling.models import Backfill, InstigatorState, Tick, TickStatus
from tests.scheduling.conftest import LOCATION
from workspace.models import CodeLocation, LocationStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def location(location):
    """The stored location with its states (reconciled on commit, which a test transaction never reaches)."""
    services.instigators_reconcile(location_name=LOCATION)
    return location


def post(client, path: str, body: dict | None = None):
    return client.post(path, json.dumps(body or {}), content_type="application/json")


def test_list_and_get_schedules_with_state_and_recent_ticks(client, location):
    state = InstigatorState.objects.get(kind="SCHEDULE", name="skipping_schedule")
    for minute in range(7):
        Tick.objects.create(state=state, kind=state.kind, status=TickStatus.SKIPPED, skip_reason=f"skip {minute}",
                            scheduled_time=timezone.now().replace(minute=minute, second=0, microsecond=0))
    listed = {s["name"]: s for s in client.get(f"/api/schedules?location={LOCATION}").json()}
    assert listed["hourly"]["status"] == "RUNNING" and listed["hourly"]["next_tick_at"]
    assert listed["two_crons"]["cron_schedule"] == ["0 9 * * *", "30 17 * * 1-5"]
    assert [t["skip_reason"] for t in listed["skipping_schedule"]["recent_ticks"]] == \
        [f"skip {m}" for m in (6, 5, 4, 3, 2)]
    running = client.get("/api/schedules?status=RUNNING").json()
    assert [s["name"] for s in running] == ["hourly"]

    one = client.get(f"/api/schedules/{LOCATION}/skipping_schedule?ticks=3").json()
    assert one["job_name"] == "my_job" and len(one["recent_ticks"]) == 3
    ticks = client.get(f"/api/schedules/{LOCATION}/skipping_schedule/ticks?limit=2&before={one['recent_ticks'][1]['id']}")
    assert [t["skip_reason"] for t in ticks.json()] == ["skip 4", "skip 3"]
    missing = client.get(f"/api/schedules/{LOCATION}/nope")
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]


def test_start_stop_and_reset_a_schedule(client, location):
    started = post(client, f"/api/schedules/{LOCATION}/two_crons/start")
    assert started.status_code == 200 and started.json()["status"] == "RUNNING"
    assert started.json()["status_overridden"] is True and started.json()["next_tick_at"]
    stopped = post(client, f"/api/schedules/{LOCATION}/two_crons/stop").json()
    assert stopped["status"] == "STOPPED" and stopped["next_tick_at"] is None
    stopped_hourly = post(client, f"/api/schedules/{LOCATION}/hourly/stop").json()
    assert stopped_hourly["status"] == "STOPPED"
    reset = post(client, f"/api/schedules/{LOCATION}/hourly/reset").json()
    assert (reset["status"], reset["status_overridden"]) == ("RUNNING", False)
    assert post(client, f"/api/schedules/{LOCATION}/nope/start").status_code == 404


def test_sensors_list_start_stop_and_cursor(client, location):
    listed = {s["name"]: s for s in client.get("/api/sensors").json()}
    assert listed["counting_sensor"]["min_interval_seconds"] == 45 and listed["counting_sensor"]["status"] == "RUNNING"
    assert listed["orders_sensor"]["sensor_type"] == "ASSET"
    started = post(client, f"/api/sensors/{LOCATION}/result_sensor/start").json()
    assert started["status"] == "RUNNING"
    response = client.put(f"/api/sensors/{LOCATION}/result_sensor/cursor", json.dumps({"cursor": "done"}),
                          content_type="application/json")
    assert response.status_code == 200 and response.json()["cursor"] == "done"
    services.sensor_tick(state_id=InstigatorState.objects.get(kind="SENSOR", name="result_sensor").pk)
    one = client.get(f"/api/sensors/{LOCATION}/result_sensor").json()
    assert [(t["status"], t["skip_reason"], t["cursor_before"]) for t in one["recent_ticks"]] == \
        [("SKIPPED", "already done", "done")]
    cleared = client.put(f"/api/sensors/{LOCATION}/result_sensor/cursor", json.dumps({"cursor": None}),
                         content_type="application/json").json()
    assert cleared["cursor"] is None
    assert post(client, f"/api/sensors/{LOCATION}/result_sensor/stop").json()["status"] == "STOPPED"
    assert post(client, f"/api/sensors/{LOCATION}/nope/stop").status_code == 404


def test_backfills_create_list_get_cancel(client, location):
    response = post(client, "/api/backfills", {"location_name": LOCATION, "job_name": "daily_job",
                                               "partition_range": ["2024-01-01", "2024-01-03"],
                                               "tags": {"team": "data"}})
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["status"] == "REQUESTED"
    assert created["partition_names"] == ["2024-01-01", "2024-01-02", "2024-01-03"]
    assert [b["backfill_id"] for b in client.get("/api/backfills?status=requested").json()] == [created["backfill_id"]]
    assert client.get(f"/api/backfills/{created['backfill_id']}").json()["tags"] == {"team": "data"}

    canceled = post(client, f"/api/backfills/{created['backfill_id']}/cancel")
    assert canceled.status_code == 200 and canceled.json()["status"] == "CANCELED"
    again = post(client, f"/api/backfills/{created['backfill_id']}/cancel")
    assert again.status_code == 409
    retried = post(client, f"/api/backfills/{created['backfill_id']}/reexecute")
    assert retried.status_code == 201 and retried.json()["from_failure_of"] == created["backfill_id"]
    assert retried.json()["partition_names"] == created["partition_names"]

    assert post(client, f"/api/backfills/{created['backfill_id']}/resume").status_code == 409
    Backfill.objects.filter(backfill_id=created["backfill_id"]).update(status="FAILED")
    resumed = post(client, f"/api/backfills/{created['backfill_id']}/resume")
    assert resumed.status_code == 200 and resumed.json()["status"] == "REQUESTED"

    bad = post(client, "/api/backfills", {"location_name": LOCATION, "job_name": "daily_job",
                                          "partition_names": ["1999-01-01"]})
    assert bad.status_code == 400 and "1999-01-01" in bad.json()["detail"]
    unpartitioned = post(client, "/api/backfills", {"location_name": LOCATION, "job_name": "my_job",
                                                    "all_partitions": True})
    assert unpartitioned.status_code == 400 and "has no partitions" in unpartitioned.json()["detail"]
    assert post(client, "/api/backfills", {"location_name": LOCATION, "job_name": "nope",
                                           "all_partitions": True}).status_code == 404
    assert client.get("/api/backfills/zzzz").status_code == 404
    assert Run.objects.count() == 0  # the daemon submits a backfill's runs, not the request


def test_changes_are_refused_without_permission(client, location, login_as):
    login_as("viewer")
    assert post(client, f"/api/schedules/{LOCATION}/two_crons/start").status_code == 403
    assert post(client, f"/api/sensors/{LOCATION}/result_sensor/start").status_code == 403
    assert post(client, "/api/backfills", {"location_name": LOCATION, "job_name": "daily_job",
                                           "all_partitions": True}).status_code == 403
    assert InstigatorState.objects.get(kind="SCHEDULE", name="two_crons").status == "STOPPED"
    assert not Backfill.objects.exists()


def test_listing_schedules_costs_the_same_queries_for_2_or_20(client):
    counts = {}
    for name, count in (("two", 2), ("twenty", 20)):
        schedules = [{"kind": "schedule", "name": f"s{i}", "cron_schedule": "0 * * * *", "job_name": "j",
                      "default_status": "RUNNING"} for i in range(count)]
        CodeLocation.objects.create(name=name, status=LocationStatus.LOADED, snapshot_id=name,
                                    snapshot={"repository_name": "r", "jobs": [], "schedules": schedules})
        services.instigators_reconcile(location_name=name)
        for state in InstigatorState.objects.filter(location_name=name):
            Tick.objects.bulk_create(Tick(state=state, kind=state.kind, status=TickStatus.SUCCESS) for _ in range(3))
        with CaptureQueriesContext(connection) as queries:
            listed = client.get(f"/api/schedules?location={name}&ticks=2").json()
        assert len(listed) == count and all(len(s["recent_ticks"]) == 2 for s in listed)
        counts[name] = len(queries)
    assert counts["two"] == counts["twenty"], counts
