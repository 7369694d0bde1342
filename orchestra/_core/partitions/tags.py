"""Run tags Dagster uses to record which partition (or partition range) a run targets."""

from __future__ import annotations

SYSTEM_TAG_PREFIX = "dagster/"

PARTITION_NAME_TAG = f"{SYSTEM_TAG_PREFIX}partition"
# One tag per dimension of a multi-partition key: `dagster/partition/<dimension name>`.
MULTIDIMENSIONAL_PARTITION_PREFIX = f"{PARTITION_NAME_TAG}/"
ASSET_PARTITION_RANGE_START_TAG = f"{SYSTEM_TAG_PREFIX}asset_partition_range_start"
ASSET_PARTITION_RANGE_END_TAG = f"{SYSTEM_TAG_PREFIX}asset_partition_range_end"
PARTITION_SET_TAG = f"{SYSTEM_TAG_PREFIX}partition_set"


def multidimensional_partition_tag(dimension_name: str) -> str:
    return f"{MULTIDIMENSIONAL_PARTITION_PREFIX}{dimension_name}"


def dimension_from_partition_tag(tag: str) -> str:
    return tag[len(MULTIDIMENSIONAL_PARTITION_PREFIX) :]
