"""Asset queries over an instance's event log (`get_latest_materialization_event`, `fetch_materializations`, ...).

`DagsterInstance` delegates its asset methods here. They read through the instance's storage
interface (runs, then each run's records), so they work on any storage; a database-backed
storage may answer them directly with indexed queries instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from orchestra._core.assets.keys import AssetCheckKey, AssetKey, coerce_asset_key

_MATERIALIZATION = "ASSET_MATERIALIZATION"
_OBSERVATION = "ASSET_OBSERVATION"
_CHECK = "ASSET_CHECK_EVALUATION"


class AssetRecordsFilter(NamedTuple):
    """Which asset events `fetch_materializations`/`fetch_observations` return."""

    asset_key: AssetKey
    asset_partitions: Sequence[str] | None = None
    after_timestamp: float | None = None
    before_timestamp: float | None = None
    after_storage_id: int | None = None
    before_storage_id: int | None = None
    storage_ids: Sequence[int] | None = None


class EventRecordsResult(NamedTuple):
    records: list[Any]
    cursor: str
    has_more: bool


def entry_data(entry: Any, event_type: str) -> Any:
    """The AssetMaterialization / AssetObservation / AssetCheckEvaluation an entry carries, else None."""
    event = getattr(entry, "dagster_event", None)
    if event is None or event.event_type_value != event_type:
        return None
    data = event.event_specific_data
    if event_type == _MATERIALIZATION:
        return getattr(data, "materialization", None)
    if event_type == _OBSERVATION:
        return getattr(data, "asset_observation", None)
    return data


def _records(instance: Any, event_type: str) -> list[Any]:
    """Every record of one asset event type, oldest first, minus wiped ones."""
    storage = instance.event_log_storage
    records = []
    for run in instance.get_runs():
        records.extend(storage.get_records_for_run(run.run_id, of_type=event_type))
    records.sort(key=lambda r: r.storage_id)
    wiped = getattr(instance, "_orchestra_asset_wipes", {})
    if wiped:
        records = [r for r in records if r.storage_id > wiped.get(_key_of(r.event_log_entry, event_type), 0)]
    return records


def _key_of(entry: Any, event_type: str) -> AssetKey | None:
    data = entry_data(entry, event_type)
    return getattr(data, "asset_key", None)


def latest_materialization_event(instance: Any, asset_key: Any) -> Any:
    key = coerce_asset_key(asset_key)
    found = None
    for record in _records(instance, _MATERIALIZATION):
        if _key_of(record.event_log_entry, _MATERIALIZATION) == key:
            found = record.event_log_entry
    return found


def latest_materialization_events(instance: Any, asset_keys: Any) -> dict[AssetKey, Any]:
    keys = [coerce_asset_key(k) for k in asset_keys]
    latest: dict[AssetKey, Any] = dict.fromkeys(keys)
    for record in _records(instance, _MATERIALIZATION):
        key = _key_of(record.event_log_entry, _MATERIALIZATION)
        if key in latest:
            latest[key] = record.event_log_entry
    return latest


def fetch(instance: Any, event_type: str, records_filter: Any, limit: int, cursor: str | None, ascending: bool) -> EventRecordsResult:
    if not isinstance(records_filter, AssetRecordsFilter):
        records_filter = AssetRecordsFilter(asset_key=coerce_asset_key(records_filter))
    matched = [r for r in _records(instance, event_type) if _matches(r, event_type, records_filter)]
    if not ascending:
        matched.reverse()
    if cursor is not None:
        position = int(cursor)
        matched = [r for r in matched if (r.storage_id > position if ascending else r.storage_id < position)]
    page = matched[:limit]
    next_cursor = str(page[-1].storage_id) if page else (cursor or "")
    return EventRecordsResult(page, next_cursor, len(matched) > limit)


def _matches(record: Any, event_type: str, records_filter: AssetRecordsFilter) -> bool:
    data = entry_data(record.event_log_entry, event_type)
    if data is None or data.asset_key != records_filter.asset_key:
        return False
    if records_filter.asset_partitions is not None and data.partition not in records_filter.asset_partitions:
        return False
    timestamp = record.event_log_entry.timestamp
    if records_filter.after_timestamp is not None and timestamp <= records_filter.after_timestamp:
        return False
    if records_filter.before_timestamp is not None and timestamp >= records_filter.before_timestamp:
        return False
    if records_filter.after_storage_id is not None and record.storage_id <= records_filter.after_storage_id:
        return False
    if records_filter.before_storage_id is not None and record.storage_id >= records_filter.before_storage_id:
        return False
    return records_filter.storage_ids is None or record.storage_id in records_filter.storage_ids


def materialized_partitions(instance: Any, asset_key: Any, before_cursor: int | None = None,
                            after_cursor: int | None = None) -> set[str]:
    key = coerce_asset_key(asset_key)
    partitions = set()
    for record in _records(instance, _MATERIALIZATION):
        if before_cursor is not None and record.storage_id >= before_cursor:
            continue
        if after_cursor is not None and record.storage_id <= after_cursor:
            continue
        data = entry_data(record.event_log_entry, _MATERIALIZATION)
        if data.asset_key == key and data.partition is not None:
            partitions.add(data.partition)
    return partitions


def asset_keys(instance: Any, prefix: Sequence[str] | None = None, limit: int | None = None,
               cursor: str | None = None) -> list[AssetKey]:
    keys = set()
    for event_type in (_MATERIALIZATION, _OBSERVATION):
        for record in _records(instance, event_type):
            key = _key_of(record.event_log_entry, event_type)
            if key is not None:
                keys.add(key)
    ordered = sorted(k for k in keys if prefix is None or k.has_prefix(prefix))
    if cursor is not None:
        ordered = [k for k in ordered if k.to_string() > cursor]
    return ordered[:limit] if limit is not None else ordered


def wipe_assets(instance: Any, keys: Sequence[Any]) -> None:
    """Forget the asset events recorded so far for these keys (runs and their other events stay)."""
    last_id = 0
    for event_type in (_MATERIALIZATION, _OBSERVATION, _CHECK):
        for record in _records(instance, event_type):
            last_id = max(last_id, record.storage_id)
    wipes = getattr(instance, "_orchestra_asset_wipes", None)
    if wipes is None:
        wipes = {}
        instance._orchestra_asset_wipes = wipes
    for key in keys:
        wipes[coerce_asset_key(key)] = last_id


def latest_check_evaluation(instance: Any, check_key: AssetCheckKey) -> Any:
    found = None
    for record in _records(instance, _CHECK):
        data = entry_data(record.event_log_entry, _CHECK)
        if data is not None and data.asset_check_key == check_key:
            found = record
    return found
