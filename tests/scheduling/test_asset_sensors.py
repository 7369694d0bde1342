"""Asset sensors: the newest materialization after the sensor's cursor, read from the event log by the daemon."""

from __future__ import annotations

import datetime as dt

import pytest

from orchestra._core.metadata.json_form import metadata_to_json
from runs.models import Run
from runs.services import EventInput, event_store, run_create
from scheduling.models import InstigatorKind, InstigatorState, TickStatus
from scheduling.services import sensor_start, sensor_tick
from tests.scheduling.conftest import LOCATION

pytestmark = pytest.mark.django_db(transaction=True)

T0 = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


def materialize(rows: int, key: str = "shop/orders") -> Run:
    run = run_create(job_name="__ASSET_JOB", location_name=LOCATION)
    event_store(run_id=run.run_id, events=[
        EventInput(event_type="RUN_START"),
        EventInput(event_type="ASSET_MATERIALIZATION", step_key="orders", asset_key=key,
                   payload={"metadata": metadata_to_json({"rows": rows})}),
    ])
    return run


def test_an_asset_sensor_requests_a_run_for_each_new_materialization(location):
    sensor_start(location_name=LOCATION, name="orders_sensor")
    state = InstigatorState.objects.get(kind=InstigatorKind.SENSOR, name="orders_sensor")
    first = sensor_tick(state_id=state.pk, now=T0)
    assert first.status == TickStatus.SKIPPED
    assert first.skip_reason.startswith("No new materialization events found for asset key")

    run = materialize(42)
    materialize(7, key="shop/customers")  # another asset
    tick = sensor_tick(state_id=state.pk, now=T0 + dt.timedelta(minutes=1))
    assert tick.status == TickStatus.SUCCESS, tick.error
    [run_id] = tick.run_ids
    tags = dict(Run.objects.get(run_id=run_id).tags.values_list("key", "value"))
    assert (tags["rows"], tags["from_run"]) == ("42", run.run_id)
    assert tick.cursor_after.isdigit() and tick.cursor_before is None

    again = sensor_tick(state_id=state.pk, now=T0 + dt.timedelta(minutes=2))
    assert again.status == TickStatus.SKIPPED  # the same materialization is not seen twice
    newer = materialize(50)
    latest = sensor_tick(state_id=state.pk, now=T0 + dt.timedelta(minutes=3))
    assert latest.run_keys == [f"orders-{newer.run_id}"]
    assert int(latest.cursor_after) > int(tick.cursor_after)
