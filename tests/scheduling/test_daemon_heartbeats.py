"""The scheduling sweeps are the SCHEDULER, SENSOR and BACKFILL daemons' heartbeats (instance daemonHealth)."""

import pytest

from runs.daemon_health import latest_heartbeats
from scheduling.tasks import backfills_sweep_task, sweep_task

pytestmark = pytest.mark.django_db(transaction=True)


def test_sweeps_record_the_scheduling_daemons_heartbeats():
    assert not {"SCHEDULER", "SENSOR", "BACKFILL"} & set(latest_heartbeats())
    sweep_task.apply()
    assert {"SCHEDULER", "SENSOR"} <= set(latest_heartbeats())
    backfills_sweep_task.apply()
    assert "BACKFILL" in latest_heartbeats()
