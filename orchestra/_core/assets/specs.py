"""Declarations: `AssetSpec`, `AssetIn`, `AssetOut`, `AssetDep` and `AssetCheckSpec`."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from typing import Any, NamedTuple

from orchestra._core.assets.keys import AssetCheckKey, AssetKey, coerce_asset_key, coerce_key_prefix
from orchestra._core.definitions.inout import NO_VALUE
from orchestra._errors import DagsterInvalidDefinitionError

_GROUP_SEGMENT = re.compile(r"^[A-Za-z0-9_]+$")


def check_group_name(group_name: str | None) -> str | None:
    """A group name as given, or DagsterInvalidDefinitionError: `/`-separated segments of word characters."""
    if group_name is None or (type(group_name) is str and group_name in _VALID_GROUP_NAMES):
        return group_name
    if group_name == "":
        raise DagsterInvalidDefinitionError(
            "Empty asset group name was provided, which is not permitted. Set group_name=None to use the default "
            "group_name or set non-empty string"
        )
    if not all(_GROUP_SEGMENT.match(segment) for segment in group_name.split("/")):
        raise DagsterInvalidDefinitionError(
            f'"{group_name}" is not a valid asset group name. Group names must be one or more segments matching '
            "^[A-Za-z0-9_]+$ separated by '/' (e.g. 'marketing' or 'marketing/foo/bar')."
        )
    if type(group_name) is str and len(_VALID_GROUP_NAMES) < 10_000:  # few groups, many assets: check each once
        _VALID_GROUP_NAMES.add(group_name)
    return group_name


_VALID_GROUP_NAMES: set[str] = set()

DEFAULT_GROUP_NAME = "default"


def _coerce_dep_key(asset: Any) -> AssetKey:
    if type(asset) is str:  # the usual `deps=["name"]`: one path component
        return AssetKey(asset)
    if isinstance(asset, AssetKey):
        return asset
    if isinstance(asset, AssetDep):
        return asset.asset_key
    keys = getattr(asset, "keys", None)
    if keys is not None and not isinstance(asset, (str, list, tuple)):
        keys = list(keys)
        if len(keys) != 1:
            raise DagsterInvalidDefinitionError(
                f"Cannot pass a multi_asset AssetsDefinition as an argument to deps. Instead, specify dependencies "
                f"on the assets created by the multi_asset via AssetKeys or strings. For the multi_asset "
                f"{getattr(getattr(asset, 'node_def', None), 'name', asset)}, the available keys are: {set(keys)}."
            )
        return keys[0]
    key = getattr(asset, "key", None)
    if isinstance(key, AssetKey):
        return key
    return coerce_asset_key(asset)


class AssetDep:
    """A dependency on an asset whose data is not loaded (ordering and lineage only).

    Example:
        >>> @asset(deps=[AssetDep("raw_events", partition_mapping=LastPartitionMapping())])
        ... def summary(): ...
    """

    def __init__(self, asset: Any, *, partition_mapping: Any = None, metadata: dict[str, Any] | None = None):
        # `deps=["name"]`, the usual case, straight to its key (an asset's deps come through here twice)
        self.asset_key = AssetKey(asset) if type(asset) is str else _coerce_dep_key(asset)
        self.partition_mapping = partition_mapping
        self.metadata = dict(metadata) if metadata else {}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AssetDep) and (self.asset_key, self.partition_mapping) == (other.asset_key, other.partition_mapping)

    def __hash__(self) -> int:
        return hash(self.asset_key)

    def __repr__(self) -> str:
        return f"AssetDep(asset_key={self.asset_key!r}, partition_mapping={self.partition_mapping!r})"


def coerce_deps(deps: Iterable[Any] | None) -> list[AssetDep]:
    """Turn `deps=[...]` (keys, strings, specs, assets, AssetDeps) into `AssetDep`s, rejecting duplicates."""
    result: list[AssetDep] = []
    seen: set[AssetKey] = set()
    for dep in deps or ():
        asset_dep = dep if isinstance(dep, AssetDep) else AssetDep(dep)
        if asset_dep.asset_key in seen:
            raise DagsterInvalidDefinitionError(
                f"Cannot set a dependency on asset {asset_dep.asset_key} more than once per asset."
            )
        seen.add(asset_dep.asset_key)
        result.append(asset_dep)
    return result


class AssetSpec:
    """Everything about an asset except how it is computed.

    Alone (`Definitions(assets=[AssetSpec("raw")])`) it declares an external asset; in
    `@multi_asset(specs=[...])` it declares one of the op's outputs.

    Example:
        >>> AssetSpec("orders", deps=["raw_orders"], group_name="sales", owners=["team:data"])
    """

    def __init__(self, key: Any, *, deps: Iterable[Any] | None = None, description: str | None = None,
                 metadata: dict[str, Any] | None = None, skippable: bool = False, group_name: str | None = None,
                 code_version: str | None = None, automation_condition: Any = None, owners: list[str] | None = None,
                 tags: dict[str, str] | None = None, kinds: set[str] | None = None, partitions_def: Any = None,
                 freshness_policy: Any = None, is_virtual: bool = False, **kwargs: Any):
        self.key = coerce_asset_key(key)
        self.deps = coerce_deps(deps)
        self.description = description
        self.metadata = dict(metadata or {})
        self.skippable = skippable
        self.group_name = check_group_name(group_name)
        self.code_version = code_version
        self.automation_condition = automation_condition
        self.owners = list(owners or [])
        self.tags = dict(tags or {})
        self.kinds = set(kinds or ()) | {k[len("dagster/kind/"):] for k in self.tags if k.startswith("dagster/kind/")}
        for kind in self.kinds:
            self.tags[f"dagster/kind/{kind}"] = ""
        self.partitions_def = partitions_def
        self.freshness_policy = freshness_policy
        self.is_virtual = is_virtual
        self.legacy_freshness_policy = kwargs.get("legacy_freshness_policy")

    _FIELDS = (
        "key", "deps", "description", "metadata", "skippable", "group_name", "code_version", "automation_condition",
        "owners", "tags", "kinds", "partitions_def", "freshness_policy", "is_virtual",
    )

    def replace_attributes(self, **changes: Any) -> AssetSpec:
        values = {f: getattr(self, f) for f in self._FIELDS}
        values.update(changes)
        tags = {k: v for k, v in values.pop("tags").items() if not k.startswith("dagster/kind/")}
        return AssetSpec(values.pop("key"), tags=tags, **values)

    def merge_attributes(self, *, deps: Any = None, metadata: Any = None, owners: Any = None, tags: Any = None,
                         kinds: Any = None) -> AssetSpec:
        return self.replace_attributes(
            deps=[*self.deps, *coerce_deps(deps)], metadata={**self.metadata, **(metadata or {})},
            owners=[*self.owners, *(owners or [])], tags={**self.tags, **(tags or {})},
            kinds={*self.kinds, *(kinds or ())},
        )

    def with_io_manager_key(self, io_manager_key: str) -> AssetSpec:
        return self.merge_attributes(metadata={"dagster/io_manager_key": io_manager_key})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AssetSpec) and all(getattr(self, f) == getattr(other, f) for f in self._FIELDS)

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return (
            f"AssetSpec(key={self.key!r}, deps={self.deps!r}, description={self.description!r}, "
            f"metadata={self.metadata!r}, group_name={self.group_name!r}, tags={self.tags!r})"
        )


class AssetIn:
    """Declares how an asset input maps to an upstream asset.

    Example:
        >>> @asset(ins={"orders": AssetIn(key=["sales", "orders"])})
        ... def summary(orders): ...
    """

    def __init__(self, key: Any = None, metadata: dict[str, Any] | None = None, key_prefix: Any = None,
                 input_manager_key: str | None = None, partition_mapping: Any = None, dagster_type: Any = NO_VALUE):
        if key is not None and key_prefix is not None:
            raise DagsterInvalidDefinitionError("key and key_prefix cannot both be set on AssetIn")
        self.key = coerce_asset_key(key) if key is not None else None
        self.metadata = dict(metadata or {})
        self.key_prefix = coerce_key_prefix(key_prefix) if key_prefix is not None else None
        self.input_manager_key = input_manager_key
        self.partition_mapping = partition_mapping
        self.dagster_type = dagster_type

    def __repr__(self) -> str:
        return f"AssetIn(key={self.key!r}, key_prefix={self.key_prefix!r})"


class AssetOut:
    """Declares one asset of a `@multi_asset` (its key, IO manager, group, ...).

    Example:
        >>> @multi_asset(outs={"a": AssetOut(), "b": AssetOut(key_prefix="raw", is_required=False)})
        ... def two(): ...
    """

    def __init__(self, key_prefix: Any = None, key: Any = None, dagster_type: Any = NO_VALUE,
                 description: str | None = None, is_required: bool = True, io_manager_key: str | None = None,
                 metadata: dict[str, Any] | None = None, group_name: str | None = None, code_version: str | None = None,
                 automation_condition: Any = None, backfill_policy: Any = None, owners: list[str] | None = None,
                 tags: dict[str, str] | None = None, kinds: set[str] | None = None, freshness_policy: Any = None,
                 is_virtual: bool = False, **kwargs: Any):
        if key is not None and key_prefix is not None:
            raise DagsterInvalidDefinitionError("Cannot specify both key and key_prefix on AssetOut.")
        self.key = coerce_asset_key(key) if key is not None else None
        self.key_prefix = coerce_key_prefix(key_prefix) if key_prefix is not None else None
        self.dagster_type = dagster_type
        self.description = description
        self.is_required = is_required
        self.io_manager_key = io_manager_key
        self.metadata = dict(metadata or {})
        self.group_name = group_name
        self.code_version = code_version
        self.automation_condition = automation_condition
        self.backfill_policy = backfill_policy
        self.owners = list(owners or [])
        self.tags = dict(tags or {})
        self.kinds = set(kinds or ())
        self.freshness_policy = freshness_policy
        self.is_virtual = is_virtual

    def to_spec(self, key: AssetKey, deps: list[AssetDep], partitions_def: Any, group_name: str | None) -> AssetSpec:
        return AssetSpec(
            key, deps=deps, description=self.description, metadata=self.metadata,
            skippable=not self.is_required, group_name=self.group_name or group_name,
            code_version=self.code_version, automation_condition=self.automation_condition, owners=self.owners,
            tags=self.tags, kinds=self.kinds, partitions_def=partitions_def, freshness_policy=self.freshness_policy,
            is_virtual=self.is_virtual,
        )

    @staticmethod
    def from_spec(spec: AssetSpec, dagster_type: Any = NO_VALUE, io_manager_key: str | None = None,
                  backfill_policy: Any = None) -> AssetOut:
        return AssetOut(
            key=spec.key, dagster_type=dagster_type, description=spec.description, is_required=not spec.skippable,
            io_manager_key=io_manager_key, metadata=spec.metadata, group_name=spec.group_name,
            code_version=spec.code_version, owners=spec.owners,
            tags={k: v for k, v in spec.tags.items() if not k.startswith("dagster/kind/")}, kinds=spec.kinds,
        )


class AssetCheckSpec(NamedTuple("_AssetCheckSpec", [
    ("name", str), ("asset_key", AssetKey), ("description", Any), ("additional_deps", list), ("blocking", bool),
    ("metadata", dict), ("automation_condition", Any), ("partitions_def", Any),
])):
    """Declares a check an asset (or `@multi_asset`) computes alongside the asset.

    Example:
        >>> @asset(check_specs=[AssetCheckSpec("non_empty", asset="orders", blocking=True)])
        ... def orders():
        ...     yield Output([1, 2])
        ...     yield AssetCheckResult(passed=True)
    """

    def __new__(cls, name: str, *, asset: Any, description: str | None = None, additional_deps: Any = None,
                blocking: bool = False, metadata: dict[str, Any] | None = None, automation_condition: Any = None,
                partitions_def: Any = None) -> AssetCheckSpec:
        asset_key = _coerce_dep_key(asset)
        deps = coerce_deps(additional_deps)
        for dep in deps:
            if dep.asset_key == asset_key:
                raise ValueError(
                    f"Asset check {name} for asset {asset_key.to_string()} cannot have an additional dependency "
                    f"on asset {asset_key.to_string()}."
                )
        return super().__new__(cls, name, asset_key, description, deps, blocking, dict(metadata or {}),
                               automation_condition, partitions_def)

    def __hash__(self) -> int:
        return hash((self.name, self.asset_key))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AssetCheckSpec) and (self.name, self.asset_key, self.blocking) == (other.name, other.asset_key, other.blocking)

    def __repr__(self) -> str:
        return (
            f"AssetCheckSpec(name={self.name!r}, asset_key={self.asset_key!r}, description={self.description!r}, "
            f"additional_deps={self.additional_deps!r}, blocking={self.blocking!r}, metadata={self.metadata!r}, "
            f"automation_condition={self.automation_condition!r}, partitions_def={self.partitions_def!r})"
        )

    @property
    def key(self) -> AssetCheckKey:
        return AssetCheckKey(self.asset_key, self.name)

    def replace_key(self, key: AssetCheckKey) -> AssetCheckSpec:
        return AssetCheckSpec(key.name, asset=key.asset_key, description=self.description,
                              additional_deps=self.additional_deps, blocking=self.blocking, metadata=self.metadata,
                              automation_condition=self.automation_condition, partitions_def=self.partitions_def)


class BackfillPolicyType(enum.Enum):
    SINGLE_RUN = "SINGLE_RUN"
    MULTI_RUN = "MULTI_RUN"


class BackfillPolicy(NamedTuple("_BackfillPolicy", [("max_partitions_per_run", Any)])):
    """How a backfill of a partitioned asset is split into runs (`None`: every partition in one run).

    Example:
        >>> @asset(partitions_def=daily, backfill_policy=BackfillPolicy.single_run())
        ... def events(context): ...
    """

    def __new__(cls, max_partitions_per_run: int | None = 1) -> BackfillPolicy:
        return super().__new__(cls, max_partitions_per_run)

    @classmethod
    def single_run(cls) -> BackfillPolicy:
        return cls(max_partitions_per_run=None)

    @classmethod
    def multi_run(cls, max_partitions_per_run: int = 1) -> BackfillPolicy:
        return cls(max_partitions_per_run=max_partitions_per_run)

    @property
    def policy_type(self) -> BackfillPolicyType:
        return BackfillPolicyType.SINGLE_RUN if self.max_partitions_per_run is None else BackfillPolicyType.MULTI_RUN

    def __str__(self) -> str:
        if self.max_partitions_per_run is None:
            return "BackfillPolicy.single_run()"
        return f"BackfillPolicy.multi_run(max_partitions_per_run={self.max_partitions_per_run})"
