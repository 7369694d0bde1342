"""A job's op graph in GraphQL, with Dagster's types: `solidHandles` / `solidHandle` of a job, each handle's
`Solid` with its definition (an op's `SolidDefinition` or a graph's `CompositeSolidDefinition` with its input
and output mappings) and the `Input`s and `Output`s that link it to its siblings. Read from the job's stored
snapshot in its whole form (`workspace.selectors.full_job`), never from user code. The UI's job and
sub-graph pages draw from these fields (`static/ui/graph.js`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import graphene

from workspace import selectors
from workspace.schema_definitions import JobRef, SolidContainer

# --- roots ---------------------------------------------------------------------------------------------


class GraphIndex:
    """One graph's nodes by name and, built on first use, the inputs each output feeds: the handles of one
    graph share it, so following a dependency either way is a lookup, not a walk over the graph's nodes
    (for a 2,000-node asset job, `dependsOn` of every input had cost most of the answer's time)."""

    def __init__(self, graph: Mapping[str, Any]):
        self.nodes: list[Mapping[str, Any]] = graph.get("nodes") or []
        self.by_name: dict[str, Mapping[str, Any]] = {node["name"]: node for node in self.nodes}
        self._fed: dict[tuple[str, str], list[tuple[Mapping[str, Any], Mapping[str, Any]]]] | None = None

    def fed_by(self, node_name: str, output_name: str) -> list[tuple[Mapping[str, Any], Mapping[str, Any]]]:
        """The (node, input) pairs that output `output_name` of node `node_name` feeds, in the graph's order."""
        if self._fed is None:
            fed: dict[tuple[str, str], list[tuple[Mapping[str, Any], Mapping[str, Any]]]] = {}
            for node in self.nodes:
                for node_input in node.get("inputs") or []:
                    for dep in node_input.get("depends_on") or []:
                        pairs = fed.setdefault((dep["node"], dep.get("output") or "result"), [])
                        if not pairs or pairs[-1][1] is not node_input:  # an input fanning in one output twice
                            pairs.append((node, node_input))
            self._fed = fed
        return self._fed.get((node_name, output_name), [])


@dataclass(frozen=True, eq=False)
class HandleRef:
    """A node of a job's graph where it sits: `graph` holds it, `parent` is the graph node above (None at
    the top), so `handle_id` is Dagster's dotted handle ("inner.deeper.b"); `index` is `graph`'s."""

    job: JobRef
    graph: Mapping[str, Any]
    node: Mapping[str, Any]
    parent: HandleRef | None
    index: GraphIndex

    @property
    def handle_id(self) -> str:
        return f"{self.parent.handle_id}.{self.node['name']}" if self.parent else self.node["name"]

    def sibling(self, name: str) -> HandleRef | None:
        node = self.index.by_name.get(name)
        return HandleRef(self.job, self.graph, node, self.parent, self.index) if node is not None else None

    def children(self) -> list[HandleRef]:
        inner = self.node.get("graph") or {}
        index = GraphIndex(inner)
        return [HandleRef(self.job, inner, node, self, index) for node in index.nodes]


@dataclass(frozen=True, eq=False)
class OpDefinitionRef:
    handle: HandleRef


@dataclass(frozen=True, eq=False)
class GraphDefinitionRef:
    handle: HandleRef


@dataclass(frozen=True, eq=False)
class InputRef:
    handle: HandleRef
    input: Mapping[str, Any]


@dataclass(frozen=True, eq=False)
class OutputRef:
    handle: HandleRef
    output: Mapping[str, Any]


@dataclass(frozen=True, eq=False)
class DefinitionPart:
    """An input or output definition: `{name, description, ...}` from the snapshot."""

    data: Mapping[str, Any]


@dataclass(frozen=True, eq=False)
class MappingRef:
    inner: InputRef | OutputRef
    definition: DefinitionPart


def _whole_job(ref: JobRef) -> Mapping[str, Any]:
    return selectors.full_job(ref.repository.snapshot, ref.job)  # built once per process and snapshot


def top_handles(ref: JobRef) -> list[HandleRef]:
    graph = _whole_job(ref).get("graph") or {}
    index = GraphIndex(graph)
    return [HandleRef(ref, graph, node, None, index) for node in index.nodes]


def _walk(handles: list[HandleRef]) -> Iterator[HandleRef]:
    for handle in handles:
        yield handle
        yield from _walk(handle.children())


def solid_handles(ref: JobRef, parent_handle_id: str | None) -> list[HandleRef]:
    """Dagster's rule: no parent, every handle at any depth; "" the top level; else the children of that
    handle. Sorted by handle id, as Dagster sorts them."""
    if parent_handle_id is None:
        handles = list(_walk(top_handles(ref)))
    elif parent_handle_id == "":
        handles = top_handles(ref)
    else:
        parent = solid_handle(ref, parent_handle_id)
        handles = parent.children() if parent is not None else []
    return sorted(handles, key=lambda handle: handle.handle_id)


def solid_handle(ref: JobRef, handle_id: str) -> HandleRef | None:
    handles = top_handles(ref)
    found = None
    for name in handle_id.split("."):
        found = next((handle for handle in handles if handle.node["name"] == name), None)
        if found is None:
            return None
        handles = found.children()
    return found


# --- types ---------------------------------------------------------------------------------------------


class InputDefinition(graphene.ObjectType):
    class Meta:
        possible_types = (DefinitionPart,)

    name = graphene.NonNull(graphene.String)
    description = graphene.String()

    def resolve_name(part: DefinitionPart, info) -> str:
        return part.data["name"]

    def resolve_description(part: DefinitionPart, info) -> str | None:
        return part.data.get("description")


class OutputDefinition(graphene.ObjectType):
    name = graphene.NonNull(graphene.String)
    description = graphene.String()
    isDynamic = graphene.Boolean()

    resolve_name = InputDefinition.resolve_name
    resolve_description = InputDefinition.resolve_description

    def resolve_isDynamic(part: DefinitionPart, info) -> bool:
        return bool(part.data.get("is_dynamic"))


class Input(graphene.ObjectType):
    class Meta:
        possible_types = (InputRef,)

    solid = graphene.NonNull(lambda: Solid)
    definition = graphene.NonNull(InputDefinition)
    dependsOn = graphene.NonNull(graphene.List(graphene.NonNull(lambda: Output)))

    def resolve_solid(ref: InputRef, info) -> HandleRef:
        return ref.handle

    def resolve_definition(ref: InputRef, info) -> DefinitionPart:
        return DefinitionPart(ref.input)

    def resolve_dependsOn(ref: InputRef, info) -> list[OutputRef]:
        found = []
        for dep in ref.input.get("depends_on") or []:
            upstream = ref.handle.sibling(dep["node"])
            if upstream is not None:
                output = next((o for o in upstream.node.get("outputs") or [] if o["name"] == dep.get("output")),
                              {"name": dep.get("output") or "result"})
                found.append(OutputRef(upstream, output))
        return found


class Output(graphene.ObjectType):
    class Meta:
        possible_types = (OutputRef,)

    solid = graphene.NonNull(lambda: Solid)
    definition = graphene.NonNull(OutputDefinition)
    dependedBy = graphene.NonNull(graphene.List(graphene.NonNull(Input)))

    def resolve_solid(ref: OutputRef, info) -> HandleRef:
        return ref.handle

    def resolve_definition(ref: OutputRef, info) -> DefinitionPart:
        return DefinitionPart(ref.output)

    def resolve_dependedBy(ref: OutputRef, info) -> list[InputRef]:
        handle = ref.handle
        return [InputRef(HandleRef(handle.job, handle.graph, node, handle.parent, handle.index), handle_input)
                for node, handle_input in handle.index.fed_by(handle.node["name"], ref.output["name"])]


class ISolidDefinition(graphene.Interface):
    name = graphene.NonNull(graphene.String)
    description = graphene.String()
    inputDefinitions = graphene.NonNull(graphene.List(graphene.NonNull(InputDefinition)))
    outputDefinitions = graphene.NonNull(graphene.List(graphene.NonNull(OutputDefinition)))

    def resolve_name(ref: Any, info) -> str:
        return ref.handle.node.get("definition_name") or ref.handle.node["name"]

    def resolve_description(ref: Any, info) -> str | None:
        return ref.handle.node.get("description")

    def resolve_inputDefinitions(ref: Any, info) -> list[DefinitionPart]:
        return [DefinitionPart(item) for item in ref.handle.node.get("inputs") or []]

    def resolve_outputDefinitions(ref: Any, info) -> list[DefinitionPart]:
        return [DefinitionPart(item) for item in ref.handle.node.get("outputs") or []]


class SolidDefinition(graphene.ObjectType):
    """An op's definition."""

    class Meta:
        interfaces = (ISolidDefinition,)
        possible_types = (OpDefinitionRef,)

    pool = graphene.String()

    def resolve_pool(ref: OpDefinitionRef, info) -> str | None:
        return ref.handle.node.get("pool")


class InputMapping(graphene.ObjectType):
    mappedInput = graphene.NonNull(Input)
    definition = graphene.NonNull(InputDefinition)

    def resolve_mappedInput(ref: MappingRef, info) -> InputRef | OutputRef:
        return ref.inner

    def resolve_definition(ref: MappingRef, info) -> DefinitionPart:
        return ref.definition


class OutputMapping(graphene.ObjectType):
    mappedOutput = graphene.NonNull(Output)
    definition = graphene.NonNull(OutputDefinition)

    def resolve_mappedOutput(ref: MappingRef, info) -> InputRef | OutputRef:
        return ref.inner

    resolve_definition = InputMapping.resolve_definition


class CompositeSolidDefinition(graphene.ObjectType):
    """A graph's definition: the nodes inside it and how its inputs and outputs map onto theirs."""

    class Meta:
        interfaces = (ISolidDefinition, SolidContainer)
        possible_types = (GraphDefinitionRef,)

    id = graphene.NonNull(graphene.ID)
    resolve_name = ISolidDefinition.resolve_name
    resolve_description = ISolidDefinition.resolve_description
    solids = graphene.NonNull(graphene.List(graphene.NonNull(lambda: Solid)))
    inputMappings = graphene.NonNull(graphene.List(graphene.NonNull(InputMapping)))
    outputMappings = graphene.NonNull(graphene.List(graphene.NonNull(OutputMapping)))

    def resolve_id(ref: GraphDefinitionRef, info) -> str:
        job = ref.handle.job
        return f"{job.repository.id}:{job.job['name']}:{ISolidDefinition.resolve_name(ref, info)}"

    def resolve_solids(ref: GraphDefinitionRef, info) -> list[HandleRef]:
        return ref.handle.children()

    def resolve_inputMappings(ref: GraphDefinitionRef, info) -> list[MappingRef]:
        inputs = {item["name"]: item for item in (ref.handle.node.get("graph") or {}).get("inputs") or []}
        return [MappingRef(InputRef(child, child_input), DefinitionPart(inputs.get(name) or {"name": name}))
                for child in ref.handle.children()
                for child_input in child.node.get("inputs") or []
                for name in child_input.get("from_graph_inputs") or []]

    def resolve_outputMappings(ref: GraphDefinitionRef, info) -> list[MappingRef]:
        found = []
        outputs = {item["name"]: item for item in ref.handle.node.get("outputs") or []}
        for mapping in (ref.handle.node.get("graph") or {}).get("outputs") or []:
            inner = ref.handle.children()
            child = next((c for c in inner if c.node["name"] == mapping.get("node")), None)
            if child is None:
                continue
            output = next((o for o in child.node.get("outputs") or [] if o["name"] == mapping.get("output")),
                          {"name": mapping.get("output") or "result"})
            found.append(MappingRef(OutputRef(child, output),
                                    DefinitionPart(outputs.get(mapping["name"]) or {"name": mapping["name"]})))
        return found


class Solid(graphene.ObjectType):
    """A node of a job's graph (an op or a graph) where it is used."""

    class Meta:
        possible_types = (HandleRef,)

    name = graphene.NonNull(graphene.String)
    definition = graphene.NonNull(ISolidDefinition)
    inputs = graphene.NonNull(graphene.List(graphene.NonNull(Input)))
    outputs = graphene.NonNull(graphene.List(graphene.NonNull(Output)))

    def resolve_name(handle: HandleRef, info) -> str:
        return handle.node["name"]

    def resolve_definition(handle: HandleRef, info) -> OpDefinitionRef | GraphDefinitionRef:
        return GraphDefinitionRef(handle) if handle.node.get("kind") == "graph" else OpDefinitionRef(handle)

    def resolve_inputs(handle: HandleRef, info) -> list[InputRef]:
        return [InputRef(handle, item) for item in handle.node.get("inputs") or []]

    def resolve_outputs(handle: HandleRef, info) -> list[OutputRef]:
        return [OutputRef(handle, item) for item in handle.node.get("outputs") or []]


class SolidHandle(graphene.ObjectType):
    class Meta:
        possible_types = (HandleRef,)

    handleID = graphene.NonNull(graphene.String)
    solid = graphene.NonNull(Solid)
    parent = graphene.Field(lambda: SolidHandle)

    def resolve_handleID(handle: HandleRef, info) -> str:
        return handle.handle_id

    def resolve_solid(handle: HandleRef, info) -> HandleRef:
        return handle

    def resolve_parent(handle: HandleRef, info) -> HandleRef | None:
        return handle.parent


# Types reachable only through the ISolidDefinition interface, which the root schema lists explicitly.
GRAPH_TYPES = (SolidDefinition, CompositeSolidDefinition)


# --- the asset lineage as drawn (Orchestra's extension) -----------------------------------------------
# Dagster's UI builds its lineage from every asset node of the workspace. Orchestra's lineage opens on the
# graph of asset groups when there are more than `graphs.LINEAGE_ASSETS_AT_ONCE` assets, and shows one group
# with its neighbours in other groups: shapes Dagster's `assetNodes` cannot give without sending every asset
# node to the browser. So the lineage page reads the graph as the server lays it out, from this one field.


class AssetLineageNode(graphene.ObjectType):
    """An asset (`kind` asset, neighbour in another group, or missing: a dependency nobody defines) or, in
    the groups view, an asset group (`kind` group, id `name@location`)."""

    id = graphene.NonNull(graphene.String)
    label = graphene.NonNull(graphene.String)
    kind = graphene.NonNull(graphene.String)
    detail = graphene.NonNull(graphene.String)
    href = graphene.String(description="The asset's page, or the group's lineage.")
    location = graphene.String()
    selectable = graphene.NonNull(graphene.Boolean, description="Can be materialized from the lineage.")

    def resolve_detail(node: Mapping[str, Any], info) -> str:
        return node.get("detail") or ""

    def resolve_selectable(node: Mapping[str, Any], info) -> bool:
        return bool(node.get("selectable"))


class AssetLineageEdge(graphene.ObjectType):
    fromId = graphene.NonNull(graphene.String)
    toId = graphene.NonNull(graphene.String)

    def resolve_fromId(edge: list[str], info) -> str:
        return edge[0]

    def resolve_toId(edge: list[str], info) -> str:
        return edge[1]


class AssetLineage(graphene.ObjectType):
    """The asset lineage as the UI draws it: `mode` "groups" (the graph of asset groups) or "assets"."""

    mode = graphene.NonNull(graphene.String)
    nodes = graphene.NonNull(graphene.List(graphene.NonNull(AssetLineageNode)))
    edges = graphene.NonNull(graphene.List(graphene.NonNull(AssetLineageEdge)))
    groups = graphene.NonNull(graphene.List(graphene.NonNull(graphene.String)))
    assetCount = graphene.NonNull(graphene.Int)

    def resolve_mode(graph: Mapping[str, Any], info) -> str:
        return graph["mode"]

    def resolve_nodes(graph: Mapping[str, Any], info) -> list[Any]:
        return graph["nodes"]

    def resolve_edges(graph: Mapping[str, Any], info) -> list[Any]:
        return graph["edges"]

    def resolve_groups(graph: Mapping[str, Any], info) -> list[str]:
        return graph["groups"]

    def resolve_assetCount(graph: Mapping[str, Any], info) -> int:
        return graph["assets"]


def resolve_asset_lineage(root, info, group: str | None = None) -> dict[str, Any]:
    from workspace.graphs import lineage_graph

    return lineage_graph(selectors.loaded_snapshots_cached(), group=group or None)


class LineageQueries(graphene.ObjectType):
    """Orchestra's extension for the lineage page; composed into the root `Query` by `orchestra_site.schema`."""

    assetLineage = graphene.NonNull(
        AssetLineage, group=graphene.String(description="`name@location`: that group's assets and neighbours"),
        resolver=resolve_asset_lineage,
        description="Orchestra's extension: the asset lineage as the UI lays it out (groups, or assets).",
    )


# Orchestra's own types and root fields, beside Dagster's (the schema test checks every other name).
EXTENSION_TYPES = frozenset({"AssetLineage", "AssetLineageNode", "AssetLineageEdge"})
EXTENSION_FIELDS = frozenset({"Query.assetLineage"})
