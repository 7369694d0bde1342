"""`SourceAsset` (an asset produced elsewhere, loaded through its IO manager) and
`@observable_source_asset` (a source asset with a function that observes it)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from orchestra._core.assets.compute import AssetComputeFn
from orchestra._core.assets.definition import OBSERVATION, AssetsDefinition
from orchestra._core.assets.keys import AssetKey, coerce_asset_key, coerce_key_prefix
from orchestra._core.assets.specs import DEFAULT_GROUP_NAME, AssetSpec
from orchestra._core.definitions.inout import Out
from orchestra._core.definitions.op import OpDefinition


class SourceAsset:
    """An asset produced outside Orchestra, loaded by downstream assets through its IO manager.

    Example:
        >>> raw = SourceAsset("raw_events", io_manager_key="warehouse_io")
        >>> @asset
        ... def cleaned(raw_events): ...
    """

    def __init__(self, key: Any, metadata: dict[str, Any] | None = None, io_manager_key: str | None = None,
                 io_manager_def: Any = None, description: str | None = None, partitions_def: Any = None,
                 group_name: str | None = None, resource_defs: Mapping[str, Any] | None = None,
                 observe_fn: Any = None, op_tags: dict[str, Any] | None = None, *,
                 auto_observe_interval_minutes: float | None = None, legacy_freshness_policy: Any = None,
                 automation_condition: Any = None, tags: dict[str, str] | None = None,
                 _required_resource_keys: set[str] | None = None, **_ignored: Any):
        from orchestra._core.resources.initialization import coerce_to_resource_definitions

        self.key = coerce_asset_key(key)
        self.raw_metadata = dict(metadata or {})
        self.metadata = self.raw_metadata
        resources = dict(resource_defs or {})
        if io_manager_def is not None:
            if io_manager_key is None:
                io_manager_key = f"{self.key.to_python_identifier()}__io_manager"
            resources[io_manager_key] = io_manager_def
        self._io_manager_key = io_manager_key
        self.description = description
        self.partitions_def = partitions_def
        self.group_name = group_name or DEFAULT_GROUP_NAME
        self.resource_defs = coerce_to_resource_definitions(resources)
        self.observe_fn = observe_fn
        self.op_tags = dict(op_tags or {})
        self.auto_observe_interval_minutes = auto_observe_interval_minutes
        self.automation_condition = automation_condition
        self.tags = dict(tags or {})
        self._required_resource_keys = set(_required_resource_keys or ())
        self._node_def: Any = None

    @property
    def io_manager_key(self) -> str | None:
        return self._io_manager_key

    def get_io_manager_key(self) -> str:
        return self._io_manager_key or "io_manager"

    @property
    def io_manager_def(self) -> Any:
        return self.resource_defs.get(self.get_io_manager_key())

    @property
    def is_observable(self) -> bool:
        return self.observe_fn is not None

    @property
    def op(self) -> Any:
        return self.node_def

    @property
    def node_def(self) -> Any:
        if self.observe_fn is None:
            return None
        if self._node_def is None:
            self._node_def = observation_op(self)
        return self._node_def

    @property
    def required_resource_keys(self) -> set[str]:
        return {self.get_io_manager_key(), *self._required_resource_keys}

    def get_asset_spec(self) -> AssetSpec:
        return AssetSpec(self.key, description=self.description, metadata=self.metadata, group_name=self.group_name,
                         tags=self.tags, partitions_def=self.partitions_def)

    def with_resources(self, resource_defs: Mapping[str, Any]) -> SourceAsset:
        copy = object.__new__(SourceAsset)
        copy.__dict__.update(self.__dict__)
        from orchestra._core.resources.initialization import coerce_to_resource_definitions

        copy.resource_defs = {**coerce_to_resource_definitions(dict(resource_defs)), **self.resource_defs}
        return copy

    def with_attributes(self, key: Any = None, group_name: str | None = None) -> SourceAsset:
        copy = object.__new__(SourceAsset)
        copy.__dict__.update(self.__dict__)
        if key is not None:
            copy.key = coerce_asset_key(key)
        if group_name is not None:
            copy.group_name = group_name
        copy._node_def = None
        return copy

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SourceAsset) and (self.key, self.io_manager_key, self.group_name) == (
            other.key, other.io_manager_key, other.group_name)

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"SourceAsset(key={self.key!r}, io_manager_key={self.io_manager_key!r})"


# --- observable source assets ----------------------------------------------------------------------


def observable_source_asset(
    observe_fn: Callable[..., Any] | None = None, *, key: Any = None, name: str | None = None, key_prefix: Any = None,
    metadata: dict[str, Any] | None = None, io_manager_key: str | None = None, io_manager_def: Any = None,
    description: str | None = None, group_name: str | None = None, required_resource_keys: set[str] | None = None,
    resource_defs: dict[str, Any] | None = None, partitions_def: Any = None, automation_condition: Any = None,
    op_tags: dict[str, Any] | None = None, tags: dict[str, str] | None = None, **kwargs: Any,
) -> Any:
    """Define a source asset whose function observes it (returns a `DataVersion` or `ObserveResult`).

    Example:
        >>> @observable_source_asset
        ... def raw_file():
        ...     return DataVersion(str(os.path.getmtime("raw.csv")))
    """

    def decorate(fn: Callable[..., Any]) -> SourceAsset:
        asset_key = coerce_asset_key(key) if key is not None else AssetKey([*coerce_key_prefix(key_prefix), name or fn.__name__])
        source = SourceAsset(
            asset_key, metadata=metadata, io_manager_key=io_manager_key, io_manager_def=io_manager_def,
            description=description or inspect.getdoc(fn), partitions_def=partitions_def, group_name=group_name,
            resource_defs=resource_defs, observe_fn=fn, op_tags=op_tags, automation_condition=automation_condition,
            tags=tags, _required_resource_keys=required_resource_keys,
        )
        return source

    if observe_fn is not None:
        return decorate(observe_fn)
    return decorate


def observation_op(source: SourceAsset) -> OpDefinition:
    """The op that runs a source asset's observe function and records an ASSET_OBSERVATION."""
    from orchestra._builtins import Nothing

    fn = source.observe_fn
    outs = {"result": Out(Nothing, io_manager_key=source.get_io_manager_key())}
    wrapped = AssetComputeFn(fn, {}, outs, "@observable_source_asset", output_keys={"result": source.key},
                             check_outputs={}, blocking=set(), observation=True)
    op_def = OpDefinition(
        compute_fn=wrapped, name=source.key.to_python_identifier(), description=source.description,
        required_resource_keys=source._required_resource_keys, tags=source.op_tags,
    )
    wrapped.assets_def = observable_assets_def(source, op_def)
    return op_def


def observable_assets_def(source: SourceAsset, op_def: OpDefinition) -> AssetsDefinition:
    spec = AssetSpec(source.key, description=source.description, metadata=source.metadata,
                     group_name=source.group_name, tags=source.tags, partitions_def=source.partitions_def)
    return AssetsDefinition(keys_by_output_name={"result": source.key}, node_def=op_def,
                            partitions_def=source.partitions_def, resource_defs=source.resource_defs, specs=[spec],
                            execution_type=OBSERVATION)
