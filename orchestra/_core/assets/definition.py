"""`AssetsDefinition` (assets computed by one op or graph, or declared external) and `AssetChecksDefinition`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from orchestra._core.assets.keys import AssetCheckKey, AssetKey, coerce_asset_key, coerce_key_prefix
from orchestra._core.assets.specs import DEFAULT_GROUP_NAME, AssetCheckSpec, AssetDep, AssetSpec
from orchestra._errors import (
    DagsterInvalidDefinitionError,
    DagsterInvalidInvocationError,
    DagsterInvariantViolationError,
)

_NO_CHECKS: frozenset[AssetCheckKey] = frozenset()

MATERIALIZATION = "MATERIALIZATION"
OBSERVATION = "OBSERVATION"
UNEXECUTABLE = "UNEXECUTABLE"


class AssetsDefinition:
    """One or more assets computed together by one op (or graph), or declared without computation.

    Built by `@asset`, `@multi_asset`, `@graph_asset`, or from `AssetSpec`s; consumed by
    `materialize`, `define_asset_job` and `Definitions`.

    Example:
        >>> @asset
        ... def orders(): return [1, 2]
        >>> orders.key
        AssetKey(['orders'])
    """

    def __init__(
        self,
        *,
        keys_by_input_name: Mapping[str, Any] | None = None,
        keys_by_output_name: Mapping[str, Any] | None = None,
        node_def: Any = None,
        partitions_def: Any = None,
        partition_mappings: Mapping[Any, Any] | None = None,
        asset_deps: Mapping[Any, Iterable[Any]] | None = None,
        selected_asset_keys: Iterable[Any] | None = None,
        can_subset: bool = False,
        resource_defs: Mapping[str, Any] | None = None,
        group_names_by_key: Mapping[Any, str] | None = None,
        metadata_by_key: Mapping[Any, Any] | None = None,
        tags_by_key: Mapping[Any, Any] | None = None,
        backfill_policy: Any = None,
        descriptions_by_key: Mapping[Any, str] | None = None,
        check_specs_by_output_name: Mapping[str, AssetCheckSpec] | None = None,
        selected_asset_check_keys: Iterable[AssetCheckKey] | None = None,
        is_subset: bool = False,
        owners_by_key: Mapping[Any, list[str]] | None = None,
        specs: Iterable[AssetSpec] | None = None,
        execution_type: str | None = None,
        hook_defs: Any = None,
        **_ignored: Any,
    ):
        self._node_def = node_def
        self._keys_by_input_name = _keyed_values(keys_by_input_name)
        self._keys_by_output_name = _keyed_values(keys_by_output_name)
        self._partitions_def = partitions_def
        self._partition_mappings = {coerce_asset_key(k): v for k, v in (partition_mappings or {}).items()}
        self._check_specs_by_output_name = dict(check_specs_by_output_name or {})
        self._can_subset = can_subset
        self._backfill_policy = backfill_policy
        self._hook_defs = frozenset(hook_defs or ())
        self._is_subset = is_subset
        if resource_defs:
            from orchestra._core.resources.initialization import coerce_to_resource_definitions

            self._resource_defs = coerce_to_resource_definitions(dict(resource_defs))
        else:
            self._resource_defs = {}
        if specs is not None:
            spec_list = list(specs)
        else:
            spec_list = self._specs_from_legacy_args(
                asset_deps, group_names_by_key, metadata_by_key, tags_by_key, descriptions_by_key, owners_by_key,
            )
        self._specs_by_key: dict[AssetKey, AssetSpec] = {}
        for spec in spec_list:
            if spec.key in self._specs_by_key:
                raise DagsterInvalidDefinitionError(f"Received conflicting AssetSpecs with the same key: {spec.key}")
            if spec.group_name is None:
                spec = spec.replace_attributes(group_name=DEFAULT_GROUP_NAME)
            if spec.partitions_def is None and partitions_def is not None:
                spec = spec.replace_attributes(partitions_def=partitions_def)
            self._specs_by_key[spec.key] = spec
            for dep in spec.deps:
                if dep.partition_mapping is not None:
                    self._partition_mappings.setdefault(dep.asset_key, dep.partition_mapping)
        if node_def is not None and not self._keys_by_output_name and self._specs_by_key and execution_type != OBSERVATION:
            raise DagsterInvalidDefinitionError("An AssetsDefinition with a node_def needs keys_by_output_name.")
        all_keys = set(self._specs_by_key)
        self._selected_asset_keys = (
            {coerce_asset_key(k) for k in selected_asset_keys} if selected_asset_keys is not None else set(all_keys)
        )
        checks = self._check_specs_by_output_name
        all_checks = {spec.key for spec in checks.values()} if checks else set()
        self._selected_asset_check_keys = set(selected_asset_check_keys) if selected_asset_check_keys is not None else all_checks
        if execution_type is None:
            execution_type = MATERIALIZATION if node_def is not None else UNEXECUTABLE
        self._execution_type = execution_type

    def _specs_from_legacy_args(self, asset_deps: Any, groups: Any, metadata: Any, tags: Any, descriptions: Any,
                                owners: Any) -> list[AssetSpec]:
        deps_by_key = {coerce_asset_key(k): {coerce_asset_key(d) for d in v} for k, v in (asset_deps or {}).items()}
        specs = []
        for output_name, key in self._keys_by_output_name.items():
            upstream = deps_by_key.get(key, set(self._keys_by_input_name.values()))
            out_def = self._output_def(output_name)
            specs.append(AssetSpec(
                key, deps=[AssetDep(k, partition_mapping=self._partition_mappings.get(k)) for k in sorted(upstream)],
                group_name=_get(groups, key), metadata=_get(metadata, key) or (out_def.metadata if out_def else None),
                tags=_get(tags, key), description=_get(descriptions, key) or (out_def.description if out_def else None),
                owners=_get(owners, key), code_version=out_def.code_version if out_def else None,
                skippable=bool(out_def and not out_def.is_required),
            ))
        return specs

    def _output_def(self, output_name: str) -> Any:
        node = self._node_def
        if node is None:
            return None
        for definition in node.output_defs:
            if definition.name == output_name:
                return definition
        return None

    # --- identity -------------------------------------------------------------------------

    @property
    def key(self) -> AssetKey:
        keys = self.keys
        if len(keys) != 1:
            raise DagsterInvalidInvocationError(
                f"Tried to retrieve asset key from an assets definition with multiple asset keys: "
                f"{', '.join(sorted(k.to_user_string() for k in keys))}"
            )
        return next(iter(keys))

    def _derived(self, name: str, build: Any) -> Any:
        # Views derived from the definition's (never changed) fields, built once: asset jobs ask for
        # them per definition per job. `_replace` starts a copy with no views.
        views = self.__dict__.get("_views")
        if views is None:
            views = self.__dict__["_views"] = {}
        else:
            value = views.get(name)
            if value is not None:
                return value
        value = views[name] = build()
        return value

    def _key_set(self) -> set[AssetKey]:
        """The selected keys as kept, not copied: for code in the SDK that only reads them."""
        views = self.__dict__.get("_views")  # `_derived`'s store, read first: asked several times per definition
        keys = views.get("keys") if views is not None else None
        return keys if keys is not None else self._derived("keys", self._selected_spec_keys)

    def _selected_spec_keys(self) -> set[AssetKey]:
        selected = self._selected_asset_keys
        if len(selected) == len(self._specs_by_key) and selected.issuperset(self._specs_by_key):
            return selected  # every spec selected (the usual case): the same set, never changed
        return {k for k in self._specs_by_key if k in selected}

    def _check_key_set(self) -> set[AssetCheckKey] | frozenset[AssetCheckKey]:
        """The selected check keys as kept, not copied: for code in the SDK that only reads them."""
        if not self._check_specs_by_output_name:  # most assets have no checks
            return _NO_CHECKS
        return self._derived("check_keys", lambda: {s.key for s in self.check_specs})

    @property
    def keys(self) -> set[AssetKey]:
        # a copy of the kept set reuses its hashes (a fresh set each time, as before)
        return set(self._key_set())

    @property
    def has_keys(self) -> bool:
        return bool(self.keys)

    @property
    def keys_by_output_name(self) -> dict[str, AssetKey]:
        return dict(self._derived("keys_by_output_name", lambda: {
            n: k for n, k in self._keys_by_output_name.items() if k in self._selected_asset_keys}))

    @property
    def node_keys_by_output_name(self) -> dict[str, AssetKey]:
        return dict(self._keys_by_output_name)

    @property
    def keys_by_input_name(self) -> dict[str, AssetKey]:
        return dict(self._keys_by_input_name)

    node_keys_by_input_name = keys_by_input_name

    @property
    def input_names(self) -> list[str]:
        return list(self._keys_by_input_name)

    @property
    def asset_and_check_keys(self) -> set[Any]:
        return {*self.keys, *self.check_keys}

    @property
    def unique_id(self) -> str:
        import hashlib

        text = ",".join(sorted(k.to_user_string() for k in self._specs_by_key))
        return hashlib.sha1(text.encode()).hexdigest()[:8]

    # --- specs and attributes -------------------------------------------------------------------

    @property
    def specs(self) -> list[AssetSpec]:
        return [s for k, s in self._specs_by_key.items() if k in self._selected_asset_keys]

    @property
    def specs_by_key(self) -> dict[AssetKey, AssetSpec]:
        return dict(self._selected_specs())

    def _selected_specs(self) -> dict[AssetKey, AssetSpec]:
        """`specs_by_key` as kept, not copied: for code in the SDK that only reads it."""
        return self._derived("specs_by_key", lambda: {
            k: s for k, s in self._specs_by_key.items() if k in self._selected_asset_keys})

    def get_asset_spec(self, key: Any = None) -> AssetSpec:
        return self._specs_by_key[coerce_asset_key(key) if key is not None else self.key]

    @property
    def asset_deps(self) -> dict[AssetKey, set[AssetKey]]:
        return {k: {d.asset_key for d in s.deps} for k, s in self._specs_by_key.items()}

    @property
    def dependency_keys(self) -> set[AssetKey]:
        """Every asset the selected assets depend on (data inputs and `deps`)."""
        return {d.asset_key for k, s in self._specs_by_key.items() if k in self._selected_asset_keys for d in s.deps}

    @property
    def group_names_by_key(self) -> dict[AssetKey, str]:
        return {k: s.group_name or DEFAULT_GROUP_NAME for k, s in self.specs_by_key.items()}

    @property
    def metadata_by_key(self) -> dict[AssetKey, dict[str, Any]]:
        return {k: s.metadata for k, s in self.specs_by_key.items()}

    @property
    def tags_by_key(self) -> dict[AssetKey, dict[str, str]]:
        return {k: s.tags for k, s in self.specs_by_key.items()}

    @property
    def owners_by_key(self) -> dict[AssetKey, list[str]]:
        return {k: s.owners for k, s in self.specs_by_key.items()}

    @property
    def descriptions_by_key(self) -> dict[AssetKey, str]:
        return {k: s.description for k, s in self.specs_by_key.items() if s.description is not None}

    @property
    def code_versions_by_key(self) -> dict[AssetKey, str | None]:
        return {k: s.code_version for k, s in self.specs_by_key.items()}

    @property
    def automation_conditions_by_key(self) -> dict[AssetKey, Any]:
        return {k: s.automation_condition for k, s in self.specs_by_key.items() if s.automation_condition is not None}

    @property
    def partitions_def(self) -> Any:
        return self._partitions_def

    @property
    def partition_mappings(self) -> dict[AssetKey, Any]:
        return dict(self._partition_mappings)

    def get_partition_mapping(self, in_asset_key: Any) -> Any:
        key = coerce_asset_key(in_asset_key)
        return self._partition_mappings.get(key)

    @property
    def backfill_policy(self) -> Any:
        return self._backfill_policy

    @property
    def hook_defs(self) -> frozenset:
        return self._hook_defs

    # --- computation ----------------------------------------------------------------------------

    @property
    def node_def(self) -> Any:
        if self._node_def is None:
            raise DagsterInvalidInvocationError("This AssetsDefinition has no node_def: it is not executable.")
        return self._node_def

    @property
    def op(self) -> Any:
        from orchestra._core.definitions.op import OpDefinition

        node = self.node_def
        if not isinstance(node, OpDefinition):
            raise DagsterInvalidInvocationError(
                f"The NodeDefinition for this AssetsDefinition is not of type OpDefinition. Instead, it is of type "
                f"{type(node)}. Use `node_def` instead."
            )
        return node

    @property
    def computation(self) -> Any:
        return self._node_def

    @property
    def execution_type(self) -> str:
        return self._execution_type

    @property
    def is_executable(self) -> bool:
        return self._execution_type != UNEXECUTABLE

    @property
    def is_external(self) -> bool:
        return not self.is_executable

    @property
    def is_materializable(self) -> bool:
        return self._execution_type == MATERIALIZATION

    @property
    def is_observable(self) -> bool:
        return self._execution_type == OBSERVATION

    @property
    def can_subset(self) -> bool:
        return self._can_subset

    @property
    def is_subset(self) -> bool:
        return self._is_subset

    @property
    def resource_defs(self) -> dict[str, Any]:
        return dict(self._resource_defs)

    @property
    def required_resource_keys(self) -> set[str]:
        return set(self._derived("required_resource_keys", self._required_resource_keys))

    def _required_resource_keys(self) -> set[str]:
        keys: set[str] = set()
        if self._node_def is not None:
            keys |= set(_node_required_resource_keys(self._node_def))
            for output in _node_output_defs(self._node_def):
                keys.add(output.io_manager_key)
        return keys

    def get_output_name_for_asset_key(self, key: Any) -> str:
        key = coerce_asset_key(key)
        for name, output_key in self._keys_by_output_name.items():
            if output_key == key:
                return name
        raise DagsterInvariantViolationError(f"Asset key {key.to_user_string()} not found in AssetsDefinition")

    def has_output_for_asset_key(self, key: Any) -> bool:
        return coerce_asset_key(key) in self._keys_by_output_name.values()

    def get_io_manager_key_for_asset_key(self, key: Any) -> str:
        key = coerce_asset_key(key)
        by_key = self._derived("io_manager_keys", dict)  # filled as keys are asked for
        manager_key = by_key.get(key)
        if manager_key is None:
            manager_key = by_key[key] = self._io_manager_key_for(key)
        return manager_key

    def _io_manager_key_for(self, key: AssetKey) -> str:
        if self._node_def is None or key not in self._keys_by_output_name.values():
            spec = self._specs_by_key.get(key)
            return (spec.metadata.get("dagster/io_manager_key") if spec else None) or "io_manager"
        output = self._output_def_deep(self.get_output_name_for_asset_key(key))
        return output.io_manager_key if output is not None else "io_manager"

    def _output_def_deep(self, output_name: str) -> Any:
        node = self._node_def
        while node is not None:
            output = next((o for o in node.output_defs if o.name == output_name), None)
            mappings = getattr(node, "output_mappings", None)
            if mappings is None:
                return output
            mapping = next((m for m in mappings if m.graph_output_name == output_name), None)
            if mapping is None:
                return output
            node = node.node_named(mapping.mapped_node_name).definition
            output_name = mapping.mapped_node_output_name
        return None

    # --- checks -------------------------------------------------------------------------------

    @property
    def check_specs_by_output_name(self) -> dict[str, AssetCheckSpec]:
        if not self._check_specs_by_output_name:
            return {}
        return dict(self._derived("check_specs_by_output_name", lambda: {
            n: s for n, s in self._check_specs_by_output_name.items() if s.key in self._selected_asset_check_keys}))

    node_check_specs_by_output_name = check_specs_by_output_name

    @property
    def check_specs(self) -> Iterable[AssetCheckSpec]:
        return self.check_specs_by_output_name.values()

    @property
    def check_keys(self) -> set[AssetCheckKey]:
        return set(self._check_key_set())

    @property
    def check_key(self) -> AssetCheckKey:
        keys = self.check_keys
        if len(keys) != 1:
            raise DagsterInvariantViolationError(f"Expected exactly one check key, found {len(keys)}.")
        return next(iter(keys))

    @property
    def has_check_keys(self) -> bool:
        return bool(self.check_keys)

    def get_spec_for_check_key(self, check_key: AssetCheckKey) -> AssetCheckSpec:
        for spec in self._check_specs_by_output_name.values():
            if spec.key == check_key:
                return spec
        raise DagsterInvariantViolationError(f"No check spec for {check_key}")

    def get_output_name_for_asset_check_key(self, check_key: AssetCheckKey) -> str:
        for name, spec in self._check_specs_by_output_name.items():
            if spec.key == check_key:
                return name
        raise DagsterInvariantViolationError(f"Asset check key {check_key.to_user_string()} not found")

    # --- derived definitions ----------------------------------------------------------------------

    def _replace(self, **changes: Any) -> AssetsDefinition:
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__)
        copy.__dict__.pop("_views", None)  # views of the fields changed below
        for name, value in changes.items():
            setattr(copy, f"_{name}", value)
        return copy

    def subset_for(self, selected_asset_keys: Iterable[AssetKey], selected_asset_check_keys: Iterable[AssetCheckKey] | None) -> AssetsDefinition:
        keys = set(selected_asset_keys) & set(self._specs_by_key)
        checks = set(selected_asset_check_keys) if selected_asset_check_keys is not None else {
            c for c in self._selected_asset_check_keys if c.asset_key in keys
        }
        checks &= {s.key for s in self._check_specs_by_output_name.values()}
        is_subset = keys != set(self._specs_by_key) or checks != {s.key for s in self._check_specs_by_output_name.values()}
        return self._replace(selected_asset_keys=keys, selected_asset_check_keys=checks, is_subset=is_subset)

    def with_resources(self, resource_defs: Mapping[str, Any]) -> AssetsDefinition:
        from orchestra._core.resources.initialization import coerce_to_resource_definitions

        merged = {**coerce_to_resource_definitions(dict(resource_defs)), **self._resource_defs}
        return self._replace(resource_defs=merged)

    def with_attributes(self, *, asset_key_replacements: Mapping[AssetKey, AssetKey] | None = None,
                        group_names_by_key: Mapping[AssetKey, str] | None = None, **_ignored: Any) -> AssetsDefinition:
        replace = dict(asset_key_replacements or {})
        groups = dict(group_names_by_key or {})

        def new_key(key: AssetKey) -> AssetKey:
            return replace.get(key, key)

        specs = {}
        for key, spec in self._specs_by_key.items():
            deps = [AssetDep(new_key(d.asset_key), partition_mapping=d.partition_mapping, metadata=d.metadata) for d in spec.deps]
            specs[new_key(key)] = spec.replace_attributes(key=new_key(key), deps=deps, group_name=groups.get(key, spec.group_name))
        checks = {n: s.replace_key(AssetCheckKey(new_key(s.asset_key), s.name)) for n, s in self._check_specs_by_output_name.items()}
        return self._replace(
            specs_by_key=specs,
            keys_by_output_name={n: new_key(k) for n, k in self._keys_by_output_name.items()},
            keys_by_input_name={n: new_key(k) for n, k in self._keys_by_input_name.items()},
            partition_mappings={new_key(k): v for k, v in self._partition_mappings.items()},
            selected_asset_keys={new_key(k) for k in self._selected_asset_keys},
            check_specs_by_output_name=checks,
            selected_asset_check_keys={AssetCheckKey(new_key(c.asset_key), c.name) for c in self._selected_asset_check_keys},
        )

    def map_asset_specs(self, fn: Any) -> AssetsDefinition:
        specs = {}
        for key, spec in self._specs_by_key.items():
            mapped = fn(spec)
            if mapped.key != key:
                raise DagsterInvalidDefinitionError("Asset key cannot be changed by map_asset_specs.")
            specs[key] = mapped
        return self._replace(specs_by_key=specs)

    def to_source_assets(self) -> list[Any]:
        return [self.to_source_asset(k) for k in sorted(self.keys)]

    def to_source_asset(self, key: Any = None) -> Any:
        from orchestra._core.assets.source_asset import SourceAsset

        key = coerce_asset_key(key) if key is not None else self.key
        spec = self._specs_by_key[key]
        return SourceAsset(
            key, metadata=spec.metadata, io_manager_key=self.get_io_manager_key_for_asset_key(key),
            description=spec.description, partitions_def=self._partitions_def, group_name=spec.group_name,
            resource_defs=self._resource_defs, tags=spec.tags,
        )

    def get_attributes_dict(self) -> dict[str, Any]:
        return {"node_def": self._node_def, "specs": list(self._specs_by_key.values()),
                "partitions_def": self._partitions_def, "can_subset": self._can_subset}

    # --- invocation ---------------------------------------------------------------------------

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from orchestra._core.assets.compute import invoke_asset_directly

        return invoke_asset_directly(self, args, kwargs)

    def __repr__(self) -> str:
        keys = ", ".join(repr(k) for k in sorted(self.keys))
        return f"AssetsDefinition with keys {keys}" if keys else f"AssetsDefinition with checks {sorted(self.check_keys)}"

    @staticmethod
    def from_op(op_def: Any, *, keys_by_input_name: Mapping[str, Any] | None = None,
                keys_by_output_name: Mapping[str, Any] | None = None, key_prefix: Any = None,
                internal_asset_deps: Mapping[str, set[Any]] | None = None, partitions_def: Any = None,
                partition_mappings: Mapping[str, Any] | None = None, group_name: str | None = None,
                group_names_by_output_name: Mapping[str, str] | None = None, can_subset: bool = False,
                metadata_by_output_name: Mapping[str, Any] | None = None,
                descriptions_by_output_name: Mapping[str, str] | None = None, **_ignored: Any) -> AssetsDefinition:
        return _from_node(op_def, keys_by_input_name, keys_by_output_name, key_prefix, internal_asset_deps,
                          partitions_def, partition_mappings, group_name, group_names_by_output_name, can_subset,
                          metadata_by_output_name, descriptions_by_output_name)

    from_graph = from_op


def _from_node(node_def: Any, keys_by_input_name: Any, keys_by_output_name: Any, key_prefix: Any, internal_asset_deps: Any,
               partitions_def: Any, partition_mappings: Any, group_name: Any, groups_by_output: Any, can_subset: bool,
               metadata_by_output: Any, descriptions_by_output: Any) -> AssetsDefinition:
    prefix = coerce_key_prefix(key_prefix)
    ins = {name: coerce_asset_key(k) for name, k in (keys_by_input_name or {}).items()}
    for definition in node_def.input_defs:
        ins.setdefault(definition.name, AssetKey([definition.name]))
    outs = {name: coerce_asset_key(k) for name, k in (keys_by_output_name or {}).items()}
    for definition in node_def.output_defs:
        name = node_def.name if definition.name == "result" else definition.name
        outs.setdefault(definition.name, AssetKey([name]))
    if prefix:
        outs = {n: k.with_prefix(prefix) for n, k in outs.items()}
    mappings_by_key = {ins[n]: m for n, m in (partition_mappings or {}).items() if n in ins}
    specs = []
    for output_name, key in outs.items():
        upstream = internal_asset_deps.get(output_name) if internal_asset_deps else None
        upstream_keys = {coerce_asset_key(k) for k in upstream} if upstream is not None else set(ins.values())
        out_def = next(o for o in node_def.output_defs if o.name == output_name)
        specs.append(AssetSpec(
            key, deps=[AssetDep(k, partition_mapping=mappings_by_key.get(k)) for k in sorted(upstream_keys)],
            group_name=(groups_by_output or {}).get(output_name, group_name),
            metadata=(metadata_by_output or {}).get(output_name, out_def.metadata),
            description=(descriptions_by_output or {}).get(output_name, out_def.description),
            skippable=not out_def.is_required, code_version=out_def.code_version,
        ))
    return AssetsDefinition(keys_by_input_name=ins, keys_by_output_name=outs, node_def=node_def,
                            partitions_def=partitions_def, partition_mappings=mappings_by_key, can_subset=can_subset,
                            specs=specs)


def _keyed_values(mapping: Mapping[str, Any] | None) -> dict[str, AssetKey]:
    """`{name: coerce_asset_key(value)}` (keys already made are taken as they are)."""
    return {n: k if type(k) is AssetKey else coerce_asset_key(k) for n, k in (mapping or {}).items()}


def _get(mapping: Mapping[Any, Any] | None, key: AssetKey) -> Any:
    return (mapping or {}).get(key)


def _node_required_resource_keys(node_def: Any) -> Iterable[str]:
    keys = getattr(node_def, "required_resource_keys", None)
    if keys is not None:
        return keys
    return ()


def _node_output_defs(node_def: Any) -> list[Any]:
    if hasattr(node_def, "iterate_op_defs"):
        return [o for op_def in node_def.iterate_op_defs() for o in op_def.output_defs]
    return list(node_def.output_defs)


class AssetChecksDefinition(AssetsDefinition):
    """Checks computed by one op (`@asset_check`, `@multi_asset_check`); no assets of its own.

    Example:
        >>> @asset_check(asset=orders)
        ... def orders_non_empty(orders):
        ...     return AssetCheckResult(passed=bool(orders))
        >>> orders_non_empty.check_key
        AssetCheckKey(asset_key=AssetKey(['orders']), name='orders_non_empty')
    """

    def __repr__(self) -> str:
        return f"AssetChecksDefinition with checks {sorted(self.check_keys)}"
