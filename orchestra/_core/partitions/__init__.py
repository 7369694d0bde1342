"""Partitions: definitions (time windows, static, dynamic, multi), mappings and partitioned config.

Layering (a module imports only those listed before it): `tags`, `cron` -> `base` -> `time_window`
-> `cadences`, `static`, `dynamic` -> `multi` -> `mapping` -> `mapping_multi` -> `config`, `snapshot`.
"""

from orchestra._core.partitions.base import (
    AssetPartitionStatus as AssetPartitionStatus,
)
from orchestra._core.partitions.base import (
    DynamicPartitionsStore as DynamicPartitionsStore,
)
from orchestra._core.partitions.base import (
    Partition as Partition,
)
from orchestra._core.partitions.base import (
    PartitionKeyRange as PartitionKeyRange,
)
from orchestra._core.partitions.base import (
    PartitionsDefinition as PartitionsDefinition,
)
from orchestra._core.partitions.base import (
    partition_loading_context as partition_loading_context,
)
from orchestra._core.partitions.cadences import (
    DailyPartitionsDefinition as DailyPartitionsDefinition,
)
from orchestra._core.partitions.cadences import (
    HourlyPartitionsDefinition as HourlyPartitionsDefinition,
)
from orchestra._core.partitions.cadences import (
    MonthlyPartitionsDefinition as MonthlyPartitionsDefinition,
)
from orchestra._core.partitions.cadences import (
    WeeklyPartitionsDefinition as WeeklyPartitionsDefinition,
)
from orchestra._core.partitions.config import (
    PartitionedConfig as PartitionedConfig,
)
from orchestra._core.partitions.config import (
    daily_partitioned_config as daily_partitioned_config,
)
from orchestra._core.partitions.config import (
    dynamic_partitioned_config as dynamic_partitioned_config,
)
from orchestra._core.partitions.config import (
    hourly_partitioned_config as hourly_partitioned_config,
)
from orchestra._core.partitions.config import (
    monthly_partitioned_config as monthly_partitioned_config,
)
from orchestra._core.partitions.config import (
    partitioned_config as partitioned_config,
)
from orchestra._core.partitions.config import (
    static_partitioned_config as static_partitioned_config,
)
from orchestra._core.partitions.config import (
    weekly_partitioned_config as weekly_partitioned_config,
)
from orchestra._core.partitions.dynamic import (
    DynamicPartitionsDefinition as DynamicPartitionsDefinition,
)
from orchestra._core.partitions.mapping import (
    AllPartitionMapping as AllPartitionMapping,
)
from orchestra._core.partitions.mapping import (
    IdentityPartitionMapping as IdentityPartitionMapping,
)
from orchestra._core.partitions.mapping import (
    LastPartitionMapping as LastPartitionMapping,
)
from orchestra._core.partitions.mapping import (
    PartitionMapping as PartitionMapping,
)
from orchestra._core.partitions.mapping import (
    SpecificPartitionsPartitionMapping as SpecificPartitionsPartitionMapping,
)
from orchestra._core.partitions.mapping import (
    StaticPartitionMapping as StaticPartitionMapping,
)
from orchestra._core.partitions.mapping import (
    TimeWindowPartitionMapping as TimeWindowPartitionMapping,
)
from orchestra._core.partitions.mapping import (
    UpstreamPartitionsResult as UpstreamPartitionsResult,
)
from orchestra._core.partitions.mapping_multi import (
    DimensionPartitionMapping as DimensionPartitionMapping,
)
from orchestra._core.partitions.mapping_multi import (
    MultiPartitionMapping as MultiPartitionMapping,
)
from orchestra._core.partitions.mapping_multi import (
    MultiToSingleDimensionPartitionMapping as MultiToSingleDimensionPartitionMapping,
)
from orchestra._core.partitions.mapping_multi import (
    infer_partition_mapping as infer_partition_mapping,
)
from orchestra._core.partitions.multi import (
    MultiPartitionKey as MultiPartitionKey,
)
from orchestra._core.partitions.multi import (
    MultiPartitionsDefinition as MultiPartitionsDefinition,
)
from orchestra._core.partitions.snapshot import (
    partition_mapping_from_snapshot as partition_mapping_from_snapshot,
)
from orchestra._core.partitions.snapshot import (
    partitions_def_from_snapshot as partitions_def_from_snapshot,
)
from orchestra._core.partitions.static import (
    StaticPartitionsDefinition as StaticPartitionsDefinition,
)
from orchestra._core.partitions.time_window import (
    TimeWindow as TimeWindow,
)
from orchestra._core.partitions.time_window import (
    TimeWindowPartitionsDefinition as TimeWindowPartitionsDefinition,
)
