"""Partition mappings between multi-partitioned assets, dimension by dimension."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from orchestra._core.partitions.base import PartitionsDefinition
from orchestra._core.partitions.mapping import (
    IdentityPartitionMapping,
    PartitionKeysSubset,
    PartitionMapping,
    TimeWindowPartitionMapping,
    UpstreamPartitionsResult,
    ordered_keys,
)
from orchestra._core.partitions.multi import MultiPartitionKey, MultiPartitionsDefinition
from orchestra._core.partitions.time_window import TimeWindowPartitionsDefinition
from orchestra._errors import DagsterInvalidDefinitionError, DagsterInvariantViolationError


class DimensionDependency(NamedTuple):
    partition_mapping: PartitionMapping
    upstream_dimension_name: str | None = None
    downstream_dimension_name: str | None = None


class DimensionPartitionMapping(NamedTuple):
    """The downstream dimension an upstream dimension maps to, and the mapping used between them.

    Example:
        ```python
        dg.DimensionPartitionMapping("date", dg.TimeWindowPartitionMapping(start_offset=-1))
        ```
    """

    dimension_name: str
    partition_mapping: PartitionMapping


def infer_single_to_multi_dependency(
    upstream_partitions_def: PartitionsDefinition,
    downstream_partitions_def: PartitionsDefinition,
    partition_dimension_name: str | None = None,
) -> DimensionDependency | str:
    """The dependency linking a single-dimension definition to a multi one, or why there is none."""
    upstream_is_multi = isinstance(upstream_partitions_def, MultiPartitionsDefinition)
    multis = [d for d in (upstream_partitions_def, downstream_partitions_def) if isinstance(d, MultiPartitionsDefinition)]
    if len(multis) != 1:
        return (
            "Can only use MultiToSingleDimensionPartitionMapping when upstream asset is multipartitioned and the "
            "downstream asset is single dimensional, or vice versa. Instead received "
            f"{len(multis)} multi-partitioned assets."
        )
    multi = multis[0]
    single = downstream_partitions_def if upstream_is_multi else upstream_partitions_def
    dims = list(multi.partitions_defs)
    if partition_dimension_name is not None:
        dims = [d for d in dims if d.name == partition_dimension_name]
        if len(dims) != 1:
            return (
                f"Provided partition dimension name {partition_dimension_name} not found in multipartitions "
                f"definition {multi}."
            )

    def dependency(mapping: PartitionMapping, name: str) -> DimensionDependency:
        return DimensionDependency(
            mapping,
            upstream_dimension_name=name if upstream_is_multi else None,
            downstream_dimension_name=None if upstream_is_multi else name,
        )

    matching = [d for d in dims if d.partitions_def == single]
    if len(matching) == 1:
        return dependency(IdentityPartitionMapping(), matching[0].name)
    if len(matching) > 1:
        return (
            "partition dimension name must be specified when multiple dimensions of the MultiPartitionsDefinition "
            "match the single dimension partitions def"
        )
    time_dims = [d for d in dims if isinstance(d.partitions_def, TimeWindowPartitionsDefinition)]
    if len(time_dims) == 1 and isinstance(single, TimeWindowPartitionsDefinition):
        return dependency(TimeWindowPartitionMapping(), time_dims[0].name)
    return (
        "MultiToSingleDimensionPartitionMapping can only be used when: \n(a) The single dimensional partitions "
        "definition is a dimension of the MultiPartitionsDefinition.\n(b) The single dimensional partitions "
        "definition is a TimeWindowPartitionsDefinition and the MultiPartitionsDefinition has a single time dimension."
    )


def _dimension_def(partitions_def: PartitionsDefinition, name: str | None) -> PartitionsDefinition:
    if isinstance(partitions_def, MultiPartitionsDefinition):
        return partitions_def.get_partitions_def_for_dimension(name)  # type: ignore[arg-type]
    return partitions_def


class _DimensionwiseMapping(PartitionMapping):
    """Maps each mapped dimension separately, then recombines; unmapped target dimensions take every key."""

    def get_dimension_dependencies(self, upstream_partitions_def, downstream_partitions_def) -> Sequence[DimensionDependency]:
        raise NotImplementedError

    def _map(self, from_def, keys: Sequence[str], to_def, *, to_upstream: bool):
        deps = self.get_dimension_dependencies(
            to_def if to_upstream else from_def, from_def if to_upstream else to_def
        )
        # from-dimension name -> (to-dimension name, mapping)
        links = {
            (d.downstream_dimension_name if to_upstream else d.upstream_dimension_name): (
                d.upstream_dimension_name if to_upstream else d.downstream_dimension_name,
                d.partition_mapping,
            )
            for d in deps
        }

        def split(key: str) -> dict[str | None, str]:
            if isinstance(from_def, MultiPartitionsDefinition):
                return dict(from_def.get_partition_key_from_str(key).keys_by_dimension)
            return {None: key}

        to_dims = [d.name for d in to_def.partitions_defs] if isinstance(to_def, MultiPartitionsDefinition) else [None]
        mapped_from = list(links)
        mapped_to = [links[name][0] for name in mapped_from]
        unmapped_to = [name for name in to_dims if name not in mapped_to]
        cache: dict[tuple[str | None, str], list[str]] = {}
        missing: list[str] = []

        def targets(from_dim: str | None, key: str) -> list[str]:
            if (from_dim, key) not in cache:
                to_dim, mapping = links[from_dim]
                from_dim_def, to_dim_def = _dimension_def(from_def, from_dim), _dimension_def(to_def, to_dim)
                if to_upstream:
                    result = mapping.map_to_upstream([key], from_dim_def, to_dim_def)
                    cache[(from_dim, key)] = list(result.partitions_subset)
                    missing.extend(result.required_but_nonexistent_subset)
                else:
                    cache[(from_dim, key)] = list(mapping.map_to_downstream([key], from_dim_def, to_dim_def))
            return cache[(from_dim, key)]

        every = {name: list(_dimension_def(to_def, name).get_partition_keys()) for name in unmapped_to}
        names = mapped_to + unmapped_to
        found: list[str] = []
        for key in keys:
            parts = split(key)
            for combo in itertools.product(*[targets(d, parts[d]) for d in mapped_from], *[every[n] for n in unmapped_to]):
                found.append(MultiPartitionKey(dict(zip(names, combo, strict=True))) if len(combo) > 1 else combo[0])
        return ordered_keys(to_def, found), PartitionKeysSubset(dict.fromkeys(missing))

    def map_to_upstream(self, downstream_partition_keys, downstream_partitions_def, upstream_partitions_def):
        if downstream_partition_keys is None:
            raise DagsterInvariantViolationError("downstream asset is not partitioned")
        found, missing = self._map(downstream_partitions_def, downstream_partition_keys, upstream_partitions_def, to_upstream=True)
        return UpstreamPartitionsResult(found, missing)

    def map_to_downstream(self, upstream_partition_keys, upstream_partitions_def, downstream_partitions_def):
        return self._map(upstream_partitions_def, upstream_partition_keys, downstream_partitions_def, to_upstream=False)[0]


class MultiToSingleDimensionPartitionMapping(_DimensionwiseMapping):
    """Connects a single-dimension asset to the matching dimension of a multi-partitioned one.

    A single-dimension key X depends on (or feeds) every multi key whose matching dimension is X.

    Example:
        ```python
        dg.AssetIn(partition_mapping=dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="date"))
        ```
    """

    def __init__(self, partition_dimension_name: str | None = None):
        if partition_dimension_name is not None and not isinstance(partition_dimension_name, str):
            raise TypeError(f'Param "partition_dimension_name" is not a str. Got {partition_dimension_name!r}.')
        self.partition_dimension_name = partition_dimension_name

    def __repr__(self) -> str:
        return f"MultiToSingleDimensionPartitionMapping(partition_dimension_name={self.partition_dimension_name!r})"

    def to_snapshot(self) -> dict[str, Any]:
        return {"kind": type(self).__name__, "partition_dimension_name": self.partition_dimension_name}

    @property
    def description(self) -> str:
        return (
            "Assumes that the single-dimension partitions definition is a dimension of the multi-partitions "
            "definition. For a single-dimension partition key X, any multi-partition key with X in the matching "
            "dimension is a dependency."
        )

    def validate_partition_mapping(self, upstream_partitions_def, downstream_partitions_def) -> None:
        if not downstream_partitions_def:
            raise DagsterInvalidDefinitionError(
                "downstream_partitions_def must be provided for MultiToSingleDimensionPartitionMapping"
            )
        self.get_dimension_dependencies(upstream_partitions_def, downstream_partitions_def)

    def get_dimension_dependencies(self, upstream_partitions_def, downstream_partitions_def):
        # Dagster 1.13 infers the dimension without consulting partition_dimension_name; so do we.
        found = infer_single_to_multi_dependency(upstream_partitions_def, downstream_partitions_def)
        if isinstance(found, str):
            raise DagsterInvariantViolationError(found)
        return [found]


class MultiPartitionMapping(_DimensionwiseMapping):
    """Maps between two multi-partitioned assets, one upstream dimension at a time.

    Example:
        ```python
        dg.MultiPartitionMapping({
            "date": dg.DimensionPartitionMapping("date", dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=-1)),
            "region": dg.DimensionPartitionMapping("region", dg.IdentityPartitionMapping()),
        })
        ```
    """

    def __init__(self, downstream_mappings_by_upstream_dimension: Mapping[str, DimensionPartitionMapping]):
        for name, value in downstream_mappings_by_upstream_dimension.items():
            if not isinstance(name, str) or not isinstance(value, DimensionPartitionMapping):
                raise TypeError(
                    "downstream_mappings_by_upstream_dimension must map dimension names to DimensionPartitionMapping"
                )
        self.downstream_mappings_by_upstream_dimension = dict(downstream_mappings_by_upstream_dimension)

    def __repr__(self) -> str:
        return f"MultiPartitionMapping(downstream_mappings_by_upstream_dimension={self.downstream_mappings_by_upstream_dimension})"

    def to_snapshot(self) -> dict[str, Any]:
        return {
            "kind": type(self).__name__,
            "downstream_mappings_by_upstream_dimension": {
                up: {"dimension_name": m.dimension_name, "partition_mapping": m.partition_mapping.to_snapshot()}
                for up, m in self.downstream_mappings_by_upstream_dimension.items()
            },
        }

    @property
    def description(self) -> str:
        return "\n ".join(
            f"Upstream dimension '{up}' mapped to downstream dimension '{m.dimension_name}' using "
            f"{type(m.partition_mapping).__name__}."
            for up, m in self.downstream_mappings_by_upstream_dimension.items()
        )

    def validate_partition_mapping(self, upstream_partitions_def, downstream_partitions_def) -> None:
        self._check_dimensions(upstream_partitions_def, downstream_partitions_def)

    def _check_dimensions(self, upstream_partitions_def, downstream_partitions_def) -> None:
        if not all(isinstance(d, MultiPartitionsDefinition) for d in (upstream_partitions_def, downstream_partitions_def)):
            raise DagsterInvariantViolationError(
                "Both partitions defs provided to a MultiPartitionMapping must be multi-partitioned"
            )
        upstream_names = set(upstream_partitions_def.partition_dimension_names)
        downstream_names = set(downstream_partitions_def.partition_dimension_names)
        for up, mapping in self.downstream_mappings_by_upstream_dimension.items():
            if up not in upstream_names:
                raise DagsterInvariantViolationError(
                    "Dimension mapping has an upstream dimension name that is not in the upstream partitions def"
                )
            if mapping.dimension_name not in downstream_names:
                raise DagsterInvariantViolationError(
                    "Dimension mapping has a downstream dimension name that is not in the downstream partitions def"
                )
            upstream_names.remove(up)
            downstream_names.remove(mapping.dimension_name)

    def get_dimension_dependencies(self, upstream_partitions_def, downstream_partitions_def):
        self._check_dimensions(upstream_partitions_def, downstream_partitions_def)
        return [
            DimensionDependency(m.partition_mapping, upstream_dimension_name=up, downstream_dimension_name=m.dimension_name)
            for up, m in self.downstream_mappings_by_upstream_dimension.items()
        ]


def infer_partition_mapping(
    partition_mapping: PartitionMapping | None,
    downstream_partitions_def: PartitionsDefinition | None,
    upstream_partitions_def: PartitionsDefinition | None,
) -> PartitionMapping:
    """The mapping Dagster uses when an asset dependency names none."""
    if partition_mapping is not None:
        return partition_mapping
    if upstream_partitions_def is None or downstream_partitions_def is None:
        from orchestra._core.partitions.mapping import AllPartitionMapping

        return AllPartitionMapping()
    if not isinstance(infer_single_to_multi_dependency(upstream_partitions_def, downstream_partitions_def), str):
        return MultiToSingleDimensionPartitionMapping()
    if isinstance(upstream_partitions_def, TimeWindowPartitionsDefinition) and isinstance(
        downstream_partitions_def, TimeWindowPartitionsDefinition
    ):
        return TimeWindowPartitionMapping()
    return IdentityPartitionMapping()
