"""`SelectionGraph`: the read-only view of assets that selections resolve against.

It is built once per set of definitions (linear in the number of assets and edges) from
`AssetsDefinition`s, `AssetSpec`s and `SourceAsset`s, or taken as is when one is passed in.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

DEFAULT_GROUP_NAME = "default"
KIND_TAG_PREFIX = "dagster/kind/"


_KIND_PREFIX_LENGTH = len(KIND_TAG_PREFIX)
_Edges = tuple[dict[Any, set[Any]], dict[Any, set[Any]]]  # (upstream keys, downstream keys) by key


class AssetNodeInfo:
    """What selections need to know about one asset key."""

    __slots__ = (
        "key", "parents", "children", "group_name", "tags", "kinds", "owners", "is_materializable",
        "is_external", "is_observable", "execution_set", "assets_def", "spec",
    )

    def __init__(self, key: Any, *, parents: Iterable[Any] = (), group_name: str | None = None,
                 tags: dict[str, str] | None = None, kinds: Iterable[str] = (), owners: Iterable[str] = (),
                 is_materializable: bool = True, is_observable: bool = False, assets_def: Any = None,
                 spec: Any = None):
        self.key = key
        self.parents: set[Any] = set(parents)
        self.children: set[Any] = set()
        self.group_name = group_name or DEFAULT_GROUP_NAME
        self.tags = dict(tags or {})
        self.kinds = own_kinds = set(kinds)
        for tag in self.tags:  # `dagster/kind/<kind>` tags name kinds too
            if tag.startswith(KIND_TAG_PREFIX):
                own_kinds.add(tag[_KIND_PREFIX_LENGTH:])
        self.owners = list(owners)
        self.is_materializable = is_materializable
        self.is_external = not is_materializable
        self.is_observable = is_observable
        self.execution_set: frozenset[Any] = frozenset([key])
        self.assets_def = assets_def
        self.spec = spec


class SelectionGraph:
    """Asset keys with their edges and attributes, plus the asset checks on them.

    Example:
        >>> graph = SelectionGraph.from_assets([raw, clean])
        >>> graph.children[AssetKey("raw")]
        {AssetKey(['clean'])}
    """

    def __init__(self, nodes: Iterable[AssetNodeInfo], check_keys: Iterable[Any] = (), extra_definitions: Iterable[Any] = (),
                 *, linked: bool = False):
        """`linked`: the nodes come with their children (`from_asset_graph`), which are otherwise worked out here."""
        self.extra_definitions = list(extra_definitions)  # check-only definitions, which own no node
        self.asset_graph: Any = None  # the assets area's AssetGraph, when built from one
        self.nodes: dict[Any, AssetNodeInfo] = {}
        for node in nodes:
            self.nodes[node.key] = node
        if not linked:
            for node in self.nodes.values():
                for parent in node.parents:
                    parent_node = self.nodes.get(parent)
                    if parent_node is not None:
                        parent_node.children.add(node.key)
        self.check_keys: set[Any] = set(check_keys)
        self.checks_by_asset: dict[Any, set[Any]] = {}
        for check_key in self.check_keys:
            self.checks_by_asset.setdefault(check_key.asset_key, set()).add(check_key)

    # --- views ------------------------------------------------------------------------------

    def nodes_by_group(self) -> dict[str, list[AssetNodeInfo]]:
        """The nodes of each group name, built once (a location's group jobs each select a group)."""
        cached = self.__dict__.get("_nodes_by_group")
        if cached is None:
            cached = {}
            for node in self.nodes.values():
                cached.setdefault(node.group_name, []).append(node)
            self.__dict__["_nodes_by_group"] = cached
        return cached

    @property
    def all_keys(self) -> set[Any]:
        return set(self.nodes)

    @property
    def materializable_keys(self) -> set[Any]:
        return {k for k, n in self.nodes.items() if n.is_materializable}

    @property
    def external_keys(self) -> set[Any]:
        return {k for k, n in self.nodes.items() if not n.is_materializable}

    def parents(self, key: Any) -> set[Any]:
        node = self.nodes.get(key)
        return {p for p in node.parents if p in self.nodes} if node else set()

    def children(self, key: Any) -> set[Any]:
        node = self.nodes.get(key)
        return set(node.children) if node else set()

    def connected(self, keys: Iterable[Any], *, upstream: bool, depth: int | None) -> set[Any]:
        """`keys` plus everything reachable upstream (or downstream) within `depth` steps."""
        seen = set(keys)
        frontier = set(seen)
        level = 0
        while frontier and (depth is None or level < depth):
            nxt: set[Any] = set()
            for key in frontier:
                nxt |= self.parents(key) if upstream else self.children(key)
            frontier = nxt - seen
            seen |= frontier
            level += 1
        return seen

    # --- building ------------------------------------------------------------------------------

    @classmethod
    def from_assets(cls, assets: Iterable[Any], *, edges: _Edges | None = None
                    ) -> SelectionGraph:
        """A graph from `AssetsDefinition`s, `AssetSpec`s, `SourceAsset`s and check definitions.

        `edges` (upstream and downstream keys by key, from an `AssetGraph` where every key belongs to the one
        definition that has it) are then each node's parents and children, shared rather than worked out again.
        """
        nodes: list[AssetNodeInfo] = []
        check_keys: list[Any] = []
        extra: list[Any] = []
        for obj in assets:
            if type(obj).__name__ == "AssetsDefinition":  # thousands per location
                own_nodes, own_checks = _nodes_of_assets_def(obj, edges), obj._check_key_set()  # (a kept set, read)
            else:
                own_nodes, own_checks = _nodes_of(obj, edges), _check_keys_of(obj)
            nodes.extend(own_nodes)
            if own_checks:
                check_keys.extend(own_checks)
                if not own_nodes:
                    extra.append(obj)
        return cls(nodes, check_keys, extra, linked=edges is not None)


    @classmethod
    def from_asset_graph(cls, asset_graph: Any) -> SelectionGraph:
        """The view of an `orchestra._core.assets.graph.AssetGraph` (kept as `.asset_graph` for job building)."""
        cached = getattr(asset_graph, "_orchestra_selection_graph", None)
        if cached is not None:
            return cached
        definitions: dict[int, Any] = {}
        for assets_def in asset_graph.assets_def_by_key.values():
            definitions.setdefault(id(assets_def), assets_def)
        for key, source in asset_graph.source_asset_by_key.items():
            if key not in asset_graph.assets_def_by_key:
                definitions.setdefault(id(source), source)
        for checks_def in asset_graph.assets_def_by_check_key.values():
            definitions.setdefault(id(checks_def), checks_def)
        # when no key was taken from one definition by another, the selection graph's nodes are the asset
        # graph's keys, each from its one definition, whose parents are its spec's deps, as in the asset
        # graph (for these types): share the asset graph's dependencies both ways
        shared = not getattr(asset_graph, "keys_taken_over", True) and all(
            type(d).__name__ in _SPEC_DEP_TYPES for d in definitions.values())
        graph = cls.from_assets(definitions.values(), edges=(asset_graph.upstream, asset_graph.downstream) if shared else None)
        graph.asset_graph = asset_graph
        try:
            asset_graph._orchestra_selection_graph = graph
        except AttributeError:  # a graph type that refuses new attributes: rebuild next time
            pass
        return graph


_SPEC_DEP_TYPES = frozenset({"AssetsDefinition", "AssetChecksDefinition", "SourceAsset"})


def coerce_selection_graph(all_assets: Any) -> SelectionGraph:
    """A `SelectionGraph` from a graph, an asset graph, a `Definitions`, or an iterable of asset definitions."""
    if isinstance(all_assets, SelectionGraph):
        return all_assets
    graph = getattr(all_assets, "selection_graph", None)  # Definitions / RepositoryDefinition
    if isinstance(graph, SelectionGraph):
        return graph
    if hasattr(all_assets, "assets_def_by_key") and hasattr(all_assets, "source_asset_by_key"):
        return SelectionGraph.from_asset_graph(all_assets)
    from orchestra._core.assets.graph import build_asset_graph

    return SelectionGraph.from_asset_graph(build_asset_graph(list(all_assets)))


def _dep_keys(deps: Iterable[Any]) -> list[Any]:
    keys = []
    for dep in deps or ():
        key = getattr(dep, "asset_key", None)
        if key is None:
            key = getattr(dep, "key", None)
        if key is None:
            from orchestra._core.assets.keys import coerce_asset_key

            key = coerce_asset_key(dep)
        keys.append(key)
    return keys


def _nodes_of(obj: Any, edges: _Edges | None = None) -> list[AssetNodeInfo]:
    type_name = type(obj).__name__
    if type_name == "AssetsDefinition":  # thousands per location
        return _nodes_of_assets_def(obj, edges)
    if type_name == "AssetSpec":
        return [_node_from_spec(obj, None, materializable=False, observable=False)]
    if type_name == "SourceAsset":
        node = AssetNodeInfo(
            obj.key, group_name=getattr(obj, "group_name", None), tags=dict(getattr(obj, "tags", None) or {}),
            owners=getattr(obj, "owners", None) or (), is_materializable=False,
            is_observable=bool(getattr(obj, "is_observable", False)), assets_def=obj,
        )
        return _linked([node], edges)
    specs = list(getattr(obj, "specs", None) or ())
    if not specs:
        return []
    materializable = bool(getattr(obj, "is_materializable", True))
    observable = bool(getattr(obj, "is_observable", False))
    nodes = [_node_from_spec(spec, obj, materializable=materializable, observable=observable) for spec in specs]
    # the definition knows the full upstream keys of each output (an AssetsDefinition's are its specs' deps,
    # which the nodes already have)
    dep_map = getattr(obj, "asset_deps", None) if type_name != "AssetsDefinition" else None
    if isinstance(dep_map, dict):
        for node in nodes:
            if node.key in dep_map:
                node.parents = set(dep_map[node.key])
    if len(nodes) > 1 and not getattr(obj, "can_subset", False) and materializable:
        execution_set = frozenset(n.key for n in nodes)
        for node in nodes:
            node.execution_set = execution_set
    return _linked(nodes, edges)


def _linked(nodes: list[AssetNodeInfo], edges: _Edges | None) -> list[AssetNodeInfo]:
    if edges is not None:
        for node in nodes:
            node.parents, node.children = edges[0][node.key], edges[1][node.key]
    return nodes


def _nodes_of_assets_def(obj: Any, edges: _Edges | None) -> list[AssetNodeInfo]:
    """`_nodes_of` an `AssetsDefinition`: the nodes `_node_from_spec` makes, with their fields set directly
    (no keyword parsing or defaults to look up: ~40% of building a 2,000-asset location's graph)."""
    materializable = bool(obj.is_materializable)
    observable = bool(obj.is_observable)
    nodes = []
    new = object.__new__
    selected = obj._selected_asset_keys
    for spec_key, spec in obj._specs_by_key.items():  # `obj.specs`, read without making the list
        if spec_key not in selected:
            continue
        node = new(AssetNodeInfo)
        key = node.key = spec.key
        if edges is None:
            node.parents = set(_dep_keys(spec.deps))
            node.children = set()
        else:  # the same keys: the spec's deps, and the keys whose spec lists this one
            node.parents, node.children = edges[0][key], edges[1][key]
        node.group_name = spec.group_name or DEFAULT_GROUP_NAME
        # the spec's own tags, kinds and owners, shared (the graph only reads them, and an AssetSpec's kinds
        # already hold every kind its `dagster/kind/<kind>` tags name, see `AssetSpec.__init__`)
        node.tags = spec.tags
        node.kinds = spec.kinds
        node.owners = spec.owners
        node.is_materializable = materializable
        node.is_external = not materializable
        node.is_observable = observable
        node.execution_set = frozenset((key,))
        node.assets_def = obj
        node.spec = spec
        nodes.append(node)
    if len(nodes) > 1 and not obj.can_subset and materializable:
        execution_set = frozenset(n.key for n in nodes)
        for node in nodes:
            node.execution_set = execution_set
    return nodes


def _node_from_spec(spec: Any, assets_def: Any, *, materializable: bool, observable: bool) -> AssetNodeInfo:
    return AssetNodeInfo(
        spec.key, parents=_dep_keys(getattr(spec, "deps", ())), group_name=getattr(spec, "group_name", None),
        tags=getattr(spec, "tags", None), kinds=getattr(spec, "kinds", None) or (),  # the node copies the tags
        owners=getattr(spec, "owners", None) or (), is_materializable=materializable, is_observable=observable,
        assets_def=assets_def if assets_def is not None else spec, spec=spec,
    )


def _check_keys_of(obj: Any) -> list[Any]:
    keys = getattr(obj, "check_keys", None)
    if keys is None:
        return []
    return list(keys() if callable(keys) else keys)
