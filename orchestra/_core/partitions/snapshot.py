"""Rebuild partitions definitions and mappings from their plain-JSON snapshots (`to_snapshot()`).

The webserver reads stored snapshots without the user's code: the rebuilt objects list keys, parse
keys into time windows and map partitions exactly like the originals. A `DynamicPartitionsDefinition`
that used a `partition_fn` comes back as a named-less placeholder whose keys cannot be listed.
"""

from __future__ import annotations

from typing import Any

from orchestra._core.partitions.base import PartitionsDefinition
from orchestra._errors import DagsterInvariantViolationError


def partitions_def_from_snapshot(snapshot: dict[str, Any]) -> PartitionsDefinition:
    from orchestra._core.partitions import cadences
    from orchestra._core.partitions.dynamic import DynamicPartitionsDefinition
    from orchestra._core.partitions.multi import MultiPartitionsDefinition
    from orchestra._core.partitions.static import StaticPartitionsDefinition
    from orchestra._core.partitions.time_window import TimestampWithTimezone, TimeWindowPartitionsDefinition

    kind = snapshot.get("kind")
    if kind == "static":
        return StaticPartitionsDefinition(list(snapshot["partition_keys"]))
    if kind == "dynamic":
        if snapshot.get("name") is None:
            return DynamicPartitionsDefinition(partition_fn=lambda _current_time: [])
        return DynamicPartitionsDefinition(name=snapshot["name"])
    if kind == "multi":
        return MultiPartitionsDefinition(
            {d["name"]: partitions_def_from_snapshot(d["partitions_def"]) for d in snapshot["dimensions"]}
        )
    if kind == "time_window":
        cls = getattr(cadences, snapshot.get("class", ""), None)
        if not (isinstance(cls, type) and issubclass(cls, TimeWindowPartitionsDefinition)):
            cls = TimeWindowPartitionsDefinition
        exclusions = [
            e if isinstance(e, str) else TimestampWithTimezone(float(e["timestamp"]), e["timezone"])
            for e in snapshot.get("exclusions") or ()
        ]
        return cls._from_fields(
            start_ts=snapshot["start"],
            end_ts=snapshot.get("end"),
            timezone=snapshot["timezone"],
            fmt=snapshot["fmt"],
            end_offset=snapshot.get("end_offset", 0),
            cron_schedule=snapshot["cron_schedule"],
            exclusions=exclusions or None,
        )
    raise DagsterInvariantViolationError(f"Unknown partitions definition snapshot kind {kind!r}.")


def partition_mapping_from_snapshot(snapshot: dict[str, Any]):
    from orchestra._core.partitions import mapping, mapping_multi

    kind = snapshot.get("kind")
    simple = {
        "IdentityPartitionMapping": mapping.IdentityPartitionMapping,
        "AllPartitionMapping": mapping.AllPartitionMapping,
        "LastPartitionMapping": mapping.LastPartitionMapping,
    }
    if kind in simple:
        return simple[kind]()
    if kind == "SpecificPartitionsPartitionMapping":
        return mapping.SpecificPartitionsPartitionMapping(snapshot["partition_keys"])
    if kind == "StaticPartitionMapping":
        return mapping.StaticPartitionMapping(snapshot["downstream_partition_keys_by_upstream_partition_key"])
    if kind == "TimeWindowPartitionMapping":
        return mapping.TimeWindowPartitionMapping(
            start_offset=snapshot["start_offset"],
            end_offset=snapshot["end_offset"],
            allow_nonexistent_upstream_partitions=snapshot["allow_nonexistent_upstream_partitions"],
        )
    if kind == "MultiToSingleDimensionPartitionMapping":
        return mapping_multi.MultiToSingleDimensionPartitionMapping(snapshot["partition_dimension_name"])
    if kind == "MultiPartitionMapping":
        return mapping_multi.MultiPartitionMapping(
            {
                up: mapping_multi.DimensionPartitionMapping(
                    m["dimension_name"], partition_mapping_from_snapshot(m["partition_mapping"])
                )
                for up, m in snapshot["downstream_mappings_by_upstream_dimension"].items()
            }
        )
    raise DagsterInvariantViolationError(f"Unknown partition mapping snapshot kind {kind!r}.")
