"""GraphQL `instance`: daemon health from stored heartbeats (Dagster's rules), launcher and run queue."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.instance_config import ClassEntry, RunMonitoringConfig, RunQueueConfig, TagConcurrencyLimit
from runs import services
from runs.models import DaemonHeartbeat
from tests.runs.test_schema import gql

pytestmark = pytest.mark.django_db

INSTANCE = """
{ instance { id hasInfo info runQueuingSupported runLauncher { name }
    runQueueConfig { maxConcurrentRuns tagConcurrencyLimitsYaml isOpConcurrencyAware }
    daemonHealth { id
      sensor: daemonStatus(daemonType: "SENSOR") { id daemonType required healthy lastHeartbeatTime }
      asset: daemonStatus(daemonType: "ASSET") { daemonType required healthy }
      allDaemonStatuses { id daemonType required healthy lastHeartbeatTime lastHeartbeatErrors { message } } } } }
"""


def configure(settings, **updates) -> None:
    config = settings.INSTANCE.config.model_copy(update=updates)
    settings.INSTANCE = dataclasses.replace(settings.INSTANCE, config=config)


def beat(daemon_type: str, age: timedelta = timedelta(0), daemon_id: str = "d1", errors=()) -> None:
    services.daemon_heartbeat_record(daemon_type=daemon_type, daemon_id=daemon_id, errors=list(errors))
    DaemonHeartbeat.objects.filter(daemon_type=daemon_type, daemon_id=daemon_id).update(
        timestamp=timezone.now() - age)


def instance(client) -> dict:
    return gql(client, INSTANCE)["data"]["instance"]


def test_default_instance_needs_sensor_backfill_scheduler_and_monitoring_daemons(client):
    data = instance(client)
    statuses = {s["daemonType"]: s for s in data["daemonHealth"]["allDaemonStatuses"]}
    # run monitoring is on unless `run_monitoring.enabled: false` is written out
    assert list(statuses) == ["SENSOR", "BACKFILL", "SCHEDULER", "MONITORING"]
    assert all(s["required"] and s["healthy"] is False and s["lastHeartbeatTime"] is None for s in statuses.values())
    assert data["runQueuingSupported"] is False and data["runQueueConfig"] is None
    assert data["runLauncher"] == {"name": "SubprocessRunLauncher"}
    assert data["hasInfo"] and "database" in data["info"]


def test_a_recent_heartbeat_is_healthy_and_one_older_than_dagsters_tolerance_is_not(client):
    beat("SENSOR", age=timedelta(minutes=30))  # interval 30 s + tolerance 1800 s: still healthy
    beat("BACKFILL", age=timedelta(minutes=31))
    beat("SCHEDULER", daemon_id="old", age=timedelta(hours=2))
    beat("SCHEDULER", daemon_id="new", errors=["the schedule broke"])  # the newest daemon process counts
    statuses = {s["daemonType"]: s for s in instance(client)["daemonHealth"]["allDaemonStatuses"]}
    assert statuses["SENSOR"]["healthy"] is True
    assert statuses["BACKFILL"]["healthy"] is False
    # Errors are reported, but as in Dagster's GraphQL they do not make the daemon unhealthy.
    assert statuses["SCHEDULER"]["healthy"] is True
    assert statuses["SCHEDULER"]["lastHeartbeatErrors"] == [{"message": "the schedule broke"}]
    assert statuses["SENSOR"]["lastHeartbeatTime"] == pytest.approx(
        DaemonHeartbeat.objects.get(daemon_type="SENSOR").timestamp.timestamp())


def test_monitoring_written_off_is_not_required(client, settings):
    configure(settings, run_monitoring=RunMonitoringConfig(enabled=False))
    statuses = [s["daemonType"] for s in instance(client)["daemonHealth"]["allDaemonStatuses"]]
    assert statuses == ["SENSOR", "BACKFILL", "SCHEDULER"]


def test_a_daemon_the_instance_does_not_need_has_no_health(client):
    beat("ASSET")
    health = instance(client)["daemonHealth"]
    assert health["asset"] == {"daemonType": "ASSET", "required": False, "healthy": None}
    assert health["sensor"]["id"] == "SENSOR" and health["sensor"]["required"] is True


def test_queue_monitoring_and_retries_add_their_daemons_and_the_queue_config_is_served(client, settings):
    configure(settings, run_queue=RunQueueConfig(max_concurrent_runs=3, tag_concurrency_limits=[
        TagConcurrencyLimit(key="team", value="data", limit=1)]),
        run_monitoring=RunMonitoringConfig(enabled=True),
        run_launcher=ClassEntry(module="launchers.celery", **{"class": "CeleryRunLauncher"}))
    data = instance(client)
    assert [s["daemonType"] for s in data["daemonHealth"]["allDaemonStatuses"]] == [
        "SENSOR", "BACKFILL", "SCHEDULER", "QUEUED_RUN_COORDINATOR", "MONITORING"]
    assert data["runQueuingSupported"] is True
    assert data["runQueueConfig"] == {"maxConcurrentRuns": 3, "isOpConcurrencyAware": True,
                                      "tagConcurrencyLimitsYaml": "- key: team\n  limit: 1\n  value: data\n"}
    assert data["runLauncher"] == {"name": "CeleryRunLauncher"}


def test_a_queued_coordinator_entry_with_concurrency_overrides(client, settings):
    from core.instance_config import ConcurrencyConfig, ConcurrencyRunsConfig

    configure(settings, run_coordinator=ClassEntry(module="dagster.core.run_coordinator",
                                                   config={"max_concurrent_runs": 7}, **{"class": "QueuedRunCoordinator"}),
              concurrency=ConcurrencyConfig(runs=ConcurrencyRunsConfig(max_concurrent_runs=4)))
    assert instance(client)["runQueueConfig"]["maxConcurrentRuns"] == 4


def test_daemon_health_takes_one_query_however_many_heartbeats(client):
    for i in range(5):
        beat("SENSOR", daemon_id=f"d{i}")
        beat("SCHEDULER", daemon_id=f"d{i}")
    with CaptureQueriesContext(connection) as queries:
        gql(client, "{ instance { daemonHealth { allDaemonStatuses { healthy lastHeartbeatTime } } } }")
    assert len(queries) == 1
