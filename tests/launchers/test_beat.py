"""The daemon's beat entries follow the instance configuration."""

from __future__ import annotations

from pathlib import Path

from core.instance_config import ResolvedInstance, parse_instance_config
from launchers.beat import daemon_beat_schedule


def _schedule(yaml: str) -> dict:
    return daemon_beat_schedule(ResolvedInstance(home=Path("/nonexistent"), config=parse_instance_config(yaml, "t"), source="t"))


def test_without_a_queue_only_monitoring_and_audit_retention_are_scheduled_on_the_daemon_queue():
    assert _schedule("") == {
        "orchestra run monitoring": {
            "task": "launchers.run_monitoring", "schedule": 10.0, "options": {"queue": "daemon", "expires": 10.0}},
        "orchestra audit retention": {
            "task": "core.audit_purge", "schedule": 3600.0, "options": {"queue": "daemon", "expires": 3600.0}},
    }


def test_audit_entries_kept_for_ever_need_no_retention_duty():
    assert "orchestra audit retention" not in _schedule("retention: {audit: {purge_after_days: -1}}\n")
    assert "orchestra audit retention" in _schedule("retention: {audit: {purge_after_days: 30}}\n")


def test_a_queue_is_dequeued_every_two_seconds_unless_its_interval_is_written_out():
    assert _schedule("run_queue: {max_concurrent_runs: 3}\n")["orchestra run queue"] == {
        "task": "runs.run_queue_dequeue", "schedule": 2.0, "options": {"queue": "daemon", "expires": 2.0}}
    assert _schedule("run_queue: {dequeue_interval_seconds: 7}\n")["orchestra run queue"]["schedule"] == 7.0
    coordinator = (
        "run_coordinator:\n  module: dagster.core.run_coordinator\n  class: QueuedRunCoordinator\n"
        "  config: {dequeue_interval_seconds: 4}\n"
    )
    assert _schedule(coordinator)["orchestra run queue"]["schedule"] == 4.0


def test_monitoring_follows_its_config():
    assert "orchestra run monitoring" not in _schedule("run_monitoring: {enabled: false}\n")
    assert _schedule("run_monitoring: {enabled: true, poll_interval_seconds: 30}\n")[
        "orchestra run monitoring"]["schedule"] == 30.0
