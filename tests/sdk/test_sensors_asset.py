"""`@asset_sensor`: one evaluation per new materialization, cursor = last storage id. Expected values
were taken from Dagster 1.13 (its instance answered `fetch_materializations`; here a stand-in does)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

import orchestra as dg


@dataclass(frozen=True)
class Key:
    """Stands in for AssetKey until the assets area provides it; prints like Dagster's."""

    path: tuple[str, ...]

    def __str__(self) -> str:
        return f"AssetKey({list(self.path)!r})"


@dataclass
class Record:
    storage_id: int
    event_log_entry: object


@dataclass
class Answer:
    records: list


@dataclass
class FakeInstance:
    materializations: list = field(default_factory=list)  # (storage_id, entry) for one asset
    queries: list = field(default_factory=list)

    def fetch_materializations(self, records_filter, ascending, limit):
        self.queries.append((records_filter.asset_key, records_filter.after_storage_id, ascending, limit))
        after = records_filter.after_storage_id or 0
        newer = [Record(sid, entry) for sid, entry in self.materializations if sid > after]
        return Answer(sorted(newer, key=lambda r: r.storage_id, reverse=not ascending)[:limit])


ORDERS = Key(("orders",))


def test_asset_sensor_definition_attributes():
    @dg.asset_sensor(asset_key=ORDERS, job_name="j")
    def orders_updated(context, asset_event):
        return dg.RunRequest(run_key=context.cursor)

    assert isinstance(orders_updated, dg.AssetSensorDefinition)
    assert (orders_updated.asset_key, orders_updated.sensor_type.value) == (ORDERS, "ASSET")
    assert (orders_updated.required_resource_keys, orders_updated.minimum_interval_seconds) == (set(), 30)


def test_no_new_materialization_skips_with_dagsters_message():
    @dg.asset_sensor(asset_key=ORDERS, job_name="j")
    def orders_updated(context, asset_event):
        return dg.RunRequest()

    tick = orders_updated.evaluate_tick(dg.build_sensor_context(instance=FakeInstance()))
    assert tick.skip_message == "No new materialization events found for asset key AssetKey(['orders'])"


def test_a_new_materialization_runs_the_function_then_moves_the_cursor():
    entries = []

    @dg.asset_sensor(asset_key=ORDERS, job_name="j")
    def orders_updated(context, asset_event):
        entries.append(asset_event)
        return dg.RunRequest(run_key=context.cursor)  # the cursor moves after the function

    instance = FakeInstance(materializations=[(7, "entry-7"), (10, "entry-10")])
    tick = orders_updated.evaluate_tick(dg.build_sensor_context(instance=instance))
    assert ([r.run_key for r in tick.run_requests], tick.cursor, entries) == ([None], "10", ["entry-10"])
    assert instance.queries == [(ORDERS, None, False, 1)]
    again = orders_updated.evaluate_tick(dg.build_sensor_context(instance=instance, cursor="10"))
    assert (again.skip_message, again.cursor) == ("No new materialization events found for asset key AssetKey(['orders'])", "10")


def test_direct_invocation_yields_the_functions_requests():
    @dg.asset_sensor(asset_key=ORDERS, job_name="j")
    def orders_updated(context, asset_event):
        return dg.RunRequest()

    instance = FakeInstance(materializations=[(1, "e")])
    assert list(orders_updated(dg.build_sensor_context(instance=instance))) == [dg.RunRequest()]


def test_asset_sensors_may_not_set_the_cursor():
    @dg.asset_sensor(asset_key=ORDERS, job_name="j")
    def sets_cursor(context, asset_event):
        return dg.SensorResult(cursor="mine")

    with pytest.raises(dg.DagsterInvariantViolationError, match="The cursor is managed by the asset sensor"):
        sets_cursor.evaluate_tick(dg.build_sensor_context(instance=FakeInstance(materializations=[(1, "e")])))


def test_function_may_take_only_the_context():
    @dg.asset_sensor(asset_key=ORDERS, job_name="j", name="ctx_only")
    def orders_updated(context):
        return dg.SkipReason(f"saw cursor {context.cursor}")

    tick = orders_updated.evaluate_tick(dg.build_sensor_context(instance=FakeInstance(materializations=[(3, "e")])))
    assert (tick.skip_message, tick.cursor) == ("saw cursor None", "3")
