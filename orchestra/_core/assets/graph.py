"""`AssetGraph`: every asset and check of a set of definitions, keyed, with dependencies both ways.

`build_asset_graph(...)` is the entry point other parts (selection, `define_asset_job`,
`Definitions`) use; see README.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from orchestra._core.assets.definition import (
    MATERIALIZATION,
    OBSERVATION,
    UNEXECUTABLE,
    AssetChecksDefinition,
    AssetsDefinition,
)
from orchestra._core.assets.keys import AssetCheckKey, AssetKey
from orchestra._core.assets.source_asset import SourceAsset
from orchestra._core.assets.specs import DEFAULT_GROUP_NAME, AssetSpec
from orchestra._errors import DagsterInvalidDefinitionError


def external_assets_def(spec: AssetSpec) -> AssetsDefinition:
    """An `AssetSpec` on its own: an asset Orchestra knows about but does not compute."""
    return AssetsDefinition(specs=[spec], partitions_def=spec.partitions_def, execution_type=UNEXECUTABLE)


def coerce_assets(assets: Iterable[Any]) -> tuple[list[AssetsDefinition], list[SourceAsset]]:
    """Split user-given assets into `AssetsDefinition`s (specs become external ones) and `SourceAsset`s."""
    defs: list[AssetsDefinition] = []
    sources: list[SourceAsset] = []
    for item in assets:
        if isinstance(item, AssetsDefinition):
            defs.append(item)
        elif isinstance(item, SourceAsset):
            sources.append(item)
        elif isinstance(item, AssetSpec):
            defs.append(external_assets_def(item))
        elif isinstance(item, (list, tuple)):
            more_defs, more_sources = coerce_assets(item)
            defs.extend(more_defs)
            sources.extend(more_sources)
        else:
            raise DagsterInvalidDefinitionError(
                f"Expected AssetsDefinition, SourceAsset, AssetSpec or AssetChecksDefinition, got {type(item).__name__}: {item!r}"
            )
    return defs, sources


class AssetGraph:
    """Assets and checks by key, with upstream and downstream edges.

    Example:
        >>> graph = build_asset_graph([orders, order_count])
        >>> graph.downstream[AssetKey("orders")]
        {AssetKey(['order_count'])}
    """

    def __init__(self, assets_defs: list[AssetsDefinition], source_assets: list[SourceAsset]):
        self.assets_defs = assets_defs
        self.source_assets = source_assets
        self.assets_def_by_key: dict[AssetKey, AssetsDefinition] = {}
        self.source_asset_by_key: dict[AssetKey, SourceAsset] = {}
        self.assets_def_by_check_key: dict[AssetCheckKey, AssetsDefinition] = {}
        # whether some definition's key was taken by another (then that definition's deps are not all here)
        self.keys_taken_over = False
        by_key = self.assets_def_by_key
        for assets_def in assets_defs:
            for key in assets_def._key_set():  # read only: no copies
                existing = by_key.get(key)
                if existing is not None and existing is not assets_def:
                    self.keys_taken_over = True
                    if existing.is_executable and assets_def.is_executable:
                        raise DagsterInvalidDefinitionError(
                            f"Asset key {key.to_user_string()} is defined multiple times. Definitions found in "
                            f"{_where(existing)} and {_where(assets_def)}."
                        )
                    if existing.is_executable:
                        continue
                by_key[key] = assets_def
            if not assets_def._check_specs_by_output_name:  # most assets have no checks
                continue
            for check_key in assets_def._check_key_set():
                if check_key in self.assets_def_by_check_key and self.assets_def_by_check_key[check_key] is not assets_def:
                    raise DagsterInvalidDefinitionError(f"Duplicate asset check key: {check_key.to_user_string()}")
                self.assets_def_by_check_key[check_key] = assets_def
        for source in source_assets:
            if source.key in self.assets_def_by_key and self.assets_def_by_key[source.key].is_executable:
                continue  # an asset computed here wins over the same key declared as a source
            if source.key in self.source_asset_by_key and self.source_asset_by_key[source.key] != source:
                raise DagsterInvalidDefinitionError(f"Duplicate source asset key: {source.key.to_user_string()}")
            self.source_asset_by_key[source.key] = source
            if source.is_observable and source.key not in self.assets_def_by_key:
                from orchestra._core.assets.source_asset import observable_assets_def

                self.assets_def_by_key[source.key] = observable_assets_def(source, source.node_def)
        # each key's dependencies (its spec's deps: `get_asset_spec(key)`, for a key it has), each set made
        # in one go, then the keys depending on each key
        upstream: dict[AssetKey, set[AssetKey]] = {
            key: {dep.asset_key for dep in assets_def._specs_by_key[key].deps}
            for key, assets_def in self.assets_def_by_key.items()
        }
        for key in self.source_asset_by_key:
            if key not in upstream:
                upstream[key] = set()
        for key in set().union(*upstream.values()) - upstream.keys():  # keys no definition here has
            upstream[key] = set()
        downstream: dict[AssetKey, set[AssetKey]] = {key: set() for key in upstream}
        for key in self.assets_def_by_key:
            for dep_key in upstream[key]:
                downstream[dep_key].add(key)
        self.upstream = upstream
        self.downstream = downstream

    # --- keys ---------------------------------------------------------------------------------

    @property
    def all_asset_keys(self) -> set[AssetKey]:
        return set(self._all_keys())

    def _all_keys(self) -> frozenset[AssetKey]:
        # computed once per graph (its keys never change): every asset job of a location checks its selection
        cached = self.__dict__.get("_all_keys_cache")
        if cached is None:
            cached = self.__dict__["_all_keys_cache"] = frozenset(self.assets_def_by_key) | frozenset(self.source_asset_by_key)
        return cached

    def _executable_keys(self) -> frozenset[AssetKey]:
        cached = self.__dict__.get("_executable_keys_cache")
        if cached is None:
            by_type = self._keys_by_execution_type()
            cached = by_type.get(MATERIALIZATION, frozenset()) | by_type.get(OBSERVATION, frozenset())
            self.__dict__["_executable_keys_cache"] = cached
        return cached

    @property
    def materializable_asset_keys(self) -> set[AssetKey]:
        return set(self._keys_by_execution_type().get(MATERIALIZATION, ()))

    @property
    def observable_asset_keys(self) -> set[AssetKey]:
        return set(self._keys_by_execution_type().get(OBSERVATION, ()))

    def _keys_by_execution_type(self) -> dict[str, frozenset[AssetKey]]:
        # computed once per graph: every asset job of a location asks (a set copy skips re-hashing keys)
        cached = self.__dict__.get("_keys_by_execution_type_cache")
        if cached is None:
            grouped: dict[str, set[AssetKey]] = {}
            for key, assets_def in self.assets_def_by_key.items():
                execution_type = assets_def._execution_type
                keys = grouped.get(execution_type)
                if keys is None:  # (not `setdefault(..., set())`: a set made for every key)
                    keys = grouped[execution_type] = set()
                keys.add(key)
            cached = {kind: frozenset(keys) for kind, keys in grouped.items()}
            self.__dict__["_keys_by_execution_type_cache"] = cached
        return cached

    @property
    def executable_asset_keys(self) -> set[AssetKey]:
        return self.materializable_asset_keys | self.observable_asset_keys

    @property
    def external_asset_keys(self) -> set[AssetKey]:
        """Assets declared but not computed here (specs, source assets, unknown upstream keys)."""
        return set(self.upstream) - self.executable_asset_keys

    @property
    def all_asset_check_keys(self) -> set[AssetCheckKey]:
        return set(self.assets_def_by_check_key)

    @property
    def root_materializable_asset_keys(self) -> set[AssetKey]:
        materializable = self.materializable_asset_keys
        return {k for k in materializable if not (self.upstream.get(k, set()) & materializable)}

    def has(self, key: AssetKey) -> bool:
        return key in self.upstream

    def get_all_asset_keys(self) -> set[AssetKey]:
        """Every key in the graph, as Dagster's `AssetGraph.get_all_asset_keys()` (unknown upstream keys too)."""
        return set(self.upstream)

    def assets_def_for_key(self, key: AssetKey) -> AssetsDefinition:
        return self.assets_def_by_key[key]

    # --- attributes -------------------------------------------------------------------------------

    def spec(self, key: AssetKey) -> AssetSpec:
        assets_def = self.assets_def_by_key.get(key)
        if assets_def is not None:
            return assets_def.get_asset_spec(key)
        source = self.source_asset_by_key.get(key)
        if source is not None:
            return source.get_asset_spec()
        return AssetSpec(key, group_name=DEFAULT_GROUP_NAME)

    def group_name(self, key: AssetKey) -> str:
        return self.spec(key).group_name or DEFAULT_GROUP_NAME

    def partitions_def(self, key: AssetKey) -> Any:
        assets_def = self.assets_def_by_key.get(key)
        if assets_def is not None:
            return assets_def.partitions_def or assets_def.get_asset_spec(key).partitions_def
        source = self.source_asset_by_key.get(key)
        return source.partitions_def if source is not None else None

    def io_manager_key(self, key: AssetKey) -> str:
        source = self.source_asset_by_key.get(key)
        assets_def = self.assets_def_by_key.get(key)
        if assets_def is not None and assets_def.execution_type == MATERIALIZATION:
            return assets_def.get_io_manager_key_for_asset_key(key)
        if source is not None:
            return source.get_io_manager_key()
        if assets_def is not None:
            return assets_def.get_io_manager_key_for_asset_key(key)
        return "io_manager"

    def checks_for_asset(self, key: AssetKey) -> set[AssetCheckKey]:
        return {c for c in self.assets_def_by_check_key if c.asset_key == key}

    def blocking_check_keys(self) -> set[AssetCheckKey]:
        return {c for c, d in self.assets_def_by_check_key.items() if d.get_spec_for_check_key(c).blocking}

    # --- traversal ------------------------------------------------------------------------------

    def upstream_of(self, keys: Iterable[AssetKey], depth: int | None = None) -> set[AssetKey]:
        return self._walk(keys, self.upstream, depth)

    def downstream_of(self, keys: Iterable[AssetKey], depth: int | None = None) -> set[AssetKey]:
        return self._walk(keys, self.downstream, depth)

    @staticmethod
    def _walk(keys: Iterable[AssetKey], edges: dict[AssetKey, set[AssetKey]], depth: int | None) -> set[AssetKey]:
        found = set(keys)
        frontier = set(found)
        level = 0
        while frontier and (depth is None or level < depth):
            frontier = {n for k in frontier for n in edges.get(k, ())} - found
            found |= frontier
            level += 1
        return found

    def toposorted_asset_keys(self) -> list[AssetKey]:
        """Keys in dependency order, level by level (each level sorted); computed once per graph.

        Kahn's algorithm over in-degree counts: linear in keys + edges, where rescanning the remaining
        keys at every level was quadratic on long chains (a 2,000-asset location took seconds per job).
        """
        cached = self.__dict__.get("_toposorted")
        if cached is not None:
            return list(cached)
        # every dependency is itself a key of `upstream`, and `downstream` is its inverse (both are built
        # together in `__init__`): the in-degrees are the sizes of the upstream sets
        in_degree = {key: len(deps) for key, deps in self.upstream.items()}
        dependents = self.downstream
        level = sorted(k for k, n in in_degree.items() if n == 0)
        ordered: list[AssetKey] = []
        while level:
            ordered.extend(level)
            following = []
            for key in level:
                for child in dependents.get(key, ()):
                    remaining = in_degree[child] - 1
                    in_degree[child] = remaining
                    if not remaining:
                        following.append(child)
            level = sorted(following)
        if len(ordered) != len(in_degree):
            stuck = sorted(k for k, n in in_degree.items() if n > 0)
            raise DagsterInvalidDefinitionError(f"Cycle in asset graph among {stuck}")
        self.__dict__["_toposorted"] = tuple(ordered)
        return ordered

    def assets_def_order(self) -> dict[int, int]:
        """`id(definition)` -> position, definitions in the order of their first key in
        `toposorted_asset_keys()`, then check-only definitions; computed once per graph.

        Lets a job built from a selection order its nodes without walking every definition.
        """
        cached = self.__dict__.get("_assets_def_order")
        if cached is not None:
            return cached
        order: dict[int, int] = {}
        for key in self.toposorted_asset_keys():
            assets_def = self.assets_def_by_key.get(key)
            if assets_def is not None:
                order.setdefault(id(assets_def), len(order))
        for check_def in self.assets_def_by_check_key.values():
            order.setdefault(id(check_def), len(order))
        self.__dict__["_assets_def_order"] = order
        return order


def _where(assets_def: AssetsDefinition) -> str:
    node = assets_def.computation
    return f"op '{node.name}'" if node is not None else "an AssetSpec"


def build_asset_graph(assets: Iterable[Any] = (), asset_checks: Iterable[AssetChecksDefinition] = ()) -> AssetGraph:
    """The asset graph of the given assets (AssetsDefinition, SourceAsset, AssetSpec) and checks."""
    defs, sources = coerce_assets([*assets, *asset_checks])
    graph = AssetGraph(defs, sources)
    if _similar_deps_possible(graph):
        graph = AssetGraph(resolve_similar_deps(defs, sources), sources)
    return graph


def _similar_deps_possible(graph: AssetGraph) -> bool:
    """Whether `resolve_similar_deps` could change a definition; when not, it returns them all as they are.

    It only rewrites a one-part dependency key that no definition or source has. The graph's `upstream`
    holds every dependency of every definition it keeps, so the graph answers without a walk over each
    spec's deps, unless some definition lost its key to another (its deps are then not in the graph).
    """
    if graph.keys_taken_over:
        return True
    return any(len(key.parts) == 1 for key in graph.upstream.keys() - graph._all_keys())


def check_loaded_inputs_exist(asset_graph: AssetGraph) -> None:
    """Refuse an asset whose function loads an upstream value that no given asset or source produces.

    Dagster raises this when the graph is resolved (`Definitions.resolve_*`, `materialize`); a
    dependency declared with `deps=` (nothing loaded) may still name an asset defined elsewhere.
    """
    known = asset_graph._all_keys()
    read = {key for assets_def in asset_graph.assets_defs for key in assets_def._keys_by_input_name.values()}
    if read <= known:  # every input's asset is here (the usual case): no input to look at
        return
    for assets_def in asset_graph.assets_defs:
        for input_name, key in assets_def._keys_by_input_name.items():  # read only: no copy
            if key in known or not assets_def.node_def.has_input(input_name):
                continue
            if not assets_def.node_def.input_def_named(input_name).is_nothing:
                raise DagsterInvalidDefinitionError(
                    f'Input asset "{key.to_string()}" is not produced by any of the provided asset ops and is not '
                    "one of the provided sources."
                )


def resolve_similar_deps(defs: list[AssetsDefinition], sources: list[SourceAsset]) -> list[AssetsDefinition]:
    """Point a one-part dependency key that names no asset at the only asset of the same group whose key
    ends with that name (`report(table)` reads `warehouse/table` when both are in group "default")."""
    known: set[AssetKey] = {s.key for s in sources}
    for assets_def in defs:
        known.update(assets_def._selected_specs())  # read only: no copies
    # the index by (group, last key part) is only needed for a one-part dependency key that names no
    # asset: most locations have none, and then it is not built
    index: list[dict[tuple[str, str], list[AssetKey]]] = []

    def by_group_and_name() -> dict[tuple[str, str], list[AssetKey]]:
        if not index:
            found: dict[tuple[str, str], list[AssetKey]] = {}
            for assets_def in defs:
                for key, spec in assets_def._selected_specs().items():
                    found.setdefault((spec.group_name or DEFAULT_GROUP_NAME, key.path[-1]), []).append(key)
            for source in sources:
                found.setdefault((source.group_name, source.key.path[-1]), []).append(source.key)
            index.append(found)
        return index[0]

    resolved = []
    for assets_def in defs:
        replacements: dict[AssetKey, AssetKey] = {}
        for spec in assets_def._selected_specs().values():
            for dep in spec.deps:
                if dep.asset_key in known or len(dep.asset_key.path) != 1:
                    continue
                matches = by_group_and_name().get((spec.group_name or DEFAULT_GROUP_NAME, dep.asset_key.path[0]), [])
                if len(matches) == 1 and matches[0] not in assets_def._key_set():
                    replacements[dep.asset_key] = matches[0]
        resolved.append(assets_def.with_attributes(asset_key_replacements=replacements) if replacements else assets_def)
    return resolved
