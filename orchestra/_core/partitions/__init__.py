"""Partitions: definitions (time windows, static, dynamic, multi), mappings and partitioned config.

Layering (a module imports only those listed before it): `tags`, `cron` -> `base` -> `time_window`
-> `cadences`, `static`, `dynamic` -> `multi` -> `mapping` -> `mapping_multi` -> `config`, `snapshot`.
"""

# Loaded on first use (PEP 562), as `orchestra` itself: a location with daily partitions imports
# `base`, `time_window` and `cadences`, not the static, dynamic and multi-dimensional definitions,
# mappings, partitioned config and snapshot readers it never uses.
from __future__ import annotations

from typing import TYPE_CHECKING

from orchestra._lazy import lazy_getattr

_EXPORTS = {
    "AllPartitionMapping": "mapping",
    "AssetPartitionStatus": "base",
    "DailyPartitionsDefinition": "cadences",
    "DimensionPartitionMapping": "mapping_multi",
    "DynamicPartitionsDefinition": "dynamic",
    "DynamicPartitionsStore": "base",
    "HourlyPartitionsDefinition": "cadences",
    "IdentityPartitionMapping": "mapping",
    "LastPartitionMapping": "mapping",
    "MonthlyPartitionsDefinition": "cadences",
    "MultiPartitionKey": "multi",
    "MultiPartitionMapping": "mapping_multi",
    "MultiPartitionsDefinition": "multi",
    "MultiToSingleDimensionPartitionMapping": "mapping_multi",
    "Partition": "base",
    "PartitionKeyRange": "base",
    "PartitionMapping": "mapping",
    "PartitionedConfig": "config",
    "PartitionsDefinition": "base",
    "SpecificPartitionsPartitionMapping": "mapping",
    "StaticPartitionMapping": "mapping",
    "StaticPartitionsDefinition": "static",
    "TimeWindow": "time_window",
    "TimeWindowPartitionMapping": "mapping",
    "TimeWindowPartitionsDefinition": "time_window",
    "UpstreamPartitionsResult": "mapping",
    "WeeklyPartitionsDefinition": "cadences",
    "daily_partitioned_config": "config",
    "dynamic_partitioned_config": "config",
    "hourly_partitioned_config": "config",
    "infer_partition_mapping": "mapping_multi",
    "monthly_partitioned_config": "config",
    "partition_loading_context": "base",
    "partition_mapping_from_snapshot": "snapshot",
    "partitioned_config": "config",
    "partitions_def_from_snapshot": "snapshot",
    "static_partitioned_config": "config",
    "weekly_partitioned_config": "config",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS, globals())


if TYPE_CHECKING:  # static checkers see ordinary re-exports
    from orchestra._core.partitions.base import AssetPartitionStatus as AssetPartitionStatus
    from orchestra._core.partitions.base import DynamicPartitionsStore as DynamicPartitionsStore
    from orchestra._core.partitions.base import Partition as Partition
    from orchestra._core.partitions.base import PartitionKeyRange as PartitionKeyRange
    from orchestra._core.partitions.base import PartitionsDefinition as PartitionsDefinition
    from orchestra._core.partitions.base import partition_loading_context as partition_loading_context
    from orchestra._core.partitions.cadences import DailyPartitionsDefinition as DailyPartitionsDefinition
    from orchestra._core.partitions.cadences import HourlyPartitionsDefinition as HourlyPartitionsDefinition
    from orchestra._core.partitions.cadences import MonthlyPartitionsDefinition as MonthlyPartitionsDefinition
    from orchestra._core.partitions.cadences import WeeklyPartitionsDefinition as WeeklyPartitionsDefinition
    from orchestra._core.partitions.config import PartitionedConfig as PartitionedConfig
    from orchestra._core.partitions.config import daily_partitioned_config as daily_partitioned_config
    from orchestra._core.partitions.config import dynamic_partitioned_config as dynamic_partitioned_config
    from orchestra._core.partitions.config import hourly_partitioned_config as hourly_partitioned_config
    from orchestra._core.partitions.config import monthly_partitioned_config as monthly_partitioned_config
    from orchestra._core.partitions.config import partitioned_config as partitioned_config
    from orchestra._core.partitions.config import static_partitioned_config as static_partitioned_config
    from orchestra._core.partitions.config import weekly_partitioned_config as weekly_partitioned_config
    from orchestra._core.partitions.dynamic import DynamicPartitionsDefinition as DynamicPartitionsDefinition
    from orchestra._core.partitions.mapping import AllPartitionMapping as AllPartitionMapping
    from orchestra._core.partitions.mapping import IdentityPartitionMapping as IdentityPartitionMapping
    from orchestra._core.partitions.mapping import LastPartitionMapping as LastPartitionMapping
    from orchestra._core.partitions.mapping import PartitionMapping as PartitionMapping
    from orchestra._core.partitions.mapping import (
        SpecificPartitionsPartitionMapping as SpecificPartitionsPartitionMapping,
    )
    from orchestra._core.partitions.mapping import StaticPartitionMapping as StaticPartitionMapping
    from orchestra._core.partitions.mapping import TimeWindowPartitionMapping as TimeWindowPartitionMapping
    from orchestra._core.partitions.mapping import UpstreamPartitionsResult as UpstreamPartitionsResult
    from orchestra._core.partitions.mapping_multi import (
        DimensionPartitionMapping as DimensionPartitionMapping,
    )
    from orchestra._core.partitions.mapping_multi import MultiPartitionMapping as MultiPartitionMapping
    from orchestra._core.partitions.mapping_multi import (
        MultiToSingleDimensionPartitionMapping as MultiToSingleDimensionPartitionMapping,
    )
    from orchestra._core.partitions.mapping_multi import infer_partition_mapping as infer_partition_mapping
    from orchestra._core.partitions.multi import MultiPartitionKey as MultiPartitionKey
    from orchestra._core.partitions.multi import MultiPartitionsDefinition as MultiPartitionsDefinition
    from orchestra._core.partitions.snapshot import (
        partition_mapping_from_snapshot as partition_mapping_from_snapshot,
    )
    from orchestra._core.partitions.snapshot import (
        partitions_def_from_snapshot as partitions_def_from_snapshot,
    )
    from orchestra._core.partitions.static import StaticPartitionsDefinition as StaticPartitionsDefinition
    from orchestra._core.partitions.time_window import TimeWindow as TimeWindow
    from orchestra._core.partitions.time_window import (
        TimeWindowPartitionsDefinition as TimeWindowPartitionsDefinition,
    )
