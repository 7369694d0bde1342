"""Reading a stored snapshot: each job in the full form readers use, from any supported version.

Since version 2 a location snapshot describes each op (or graph) definition once, in
`node_definitions` (keyed by definition name, `name~2`… when two different definitions share a
name), and each Dagster type once, in `dagster_types`; a job's graph lists its nodes by reference
(name, definition key when it differs from the name, tags, and the inputs fed by other nodes or by
graph inputs). Run-config schemas keep only `config_types`; their JSON Schema is derived on read.

`full_job(location, job)` gives the version 1 form of a job (every node with its inputs, outputs and
types; `run_config_schema.json_schema`), which is what every reader of a job reads. Version 1 jobs
come back as they are. Imports no Django.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestra._core.gc_pause import collection_paused
from orchestra._core.snapshot.jobs import DEFINITION_DEFAULTS, INPUT_DEFAULTS, OUTPUT_DEFAULTS

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_SCALAR_JSON_TYPES = {"INT": "integer", "STRING": "string", "BOOL": "boolean", "FLOAT": "number"}
_HAS_FIELDS = frozenset({"SELECTOR", "STRICT_SHAPE", "PERMISSIVE_SHAPE"})


def full_job(location: Mapping[str, Any], job: Mapping[str, Any]) -> dict[str, Any]:
    """`job` (one of `location["jobs"]`) with its whole op graph and its run-config JSON Schema.

    Returns `job` itself when it already has both (a version 1 snapshot); otherwise a new dict sharing
    the stored parts (read-only). Raises KeyError when the graph names a definition the location does
    not describe (a damaged document).
    """
    graph = job.get("graph")
    schema = job.get("run_config_schema")
    graph_whole = graph is None or _is_whole(graph)
    schema_whole = not isinstance(schema, Mapping) or "json_schema" in schema
    if graph_whole and schema_whole:
        return job  # type: ignore[return-value]
    out = dict(job)
    # tens of thousands of dicts for a 2,000-op job, all long-lived, none garbage: a collection they
    # triggered right after the location's document was decoded walked all of it (~0.2 s)
    with collection_paused():
        if not graph_whole:
            out["graph"] = full_graph(graph, location.get("node_definitions") or {}, location.get("dagster_types") or {})
        if not schema_whole:
            out["run_config_schema"] = full_config_schema(schema)
    return out


def full_config_schema(schema: Mapping[str, Any] | None) -> dict[str, Any]:
    """A stored config schema (`{"config_types": ...}`) with its `json_schema` derived (kept when stored)."""
    schema = schema or {}
    if "json_schema" in schema:
        return dict(schema)
    config_types = schema.get("config_types")
    return {**schema, "json_schema": json_schema_from_config_types(config_types) if config_types else {}}


def _is_whole(graph: Mapping[str, Any]) -> bool:
    nodes = graph.get("nodes") or []
    return not nodes or "inputs" in nodes[0]  # version 1 nodes carry their inputs


def full_graph(graph: Mapping[str, Any], definitions: Mapping[str, Any], types: Mapping[str, Any]) -> dict[str, Any]:
    """A version 2 graph with every node whole: the version 1 form (nested graphs too)."""
    nodes = []
    no_deps: dict[str, Any] = {}
    for node in graph.get("nodes") or []:
        if "inputs" in node:
            nodes.append(node)
            continue
        name = node["name"]
        parts = {**DEFINITION_DEFAULTS, **definitions[node.get("definition", name)]}
        depends = node.get("depends_on") or no_deps
        from_graph = node.get("from_graph_inputs") or no_deps
        snap: dict[str, Any] = {
            "name": name,
            "definition_name": parts["name"],
            "kind": parts["kind"],
            "description": parts["description"],
            "tags": node.get("tags") or {},
            "required_resource_keys": parts["required_resource_keys"] or [],  # a list of its own
            "inputs": [
                {**INPUT_DEFAULTS, **d, "type": types[d["type"]], "depends_on": depends.get(d["name"], []),
                 "from_graph_inputs": from_graph.get(d["name"], [])}
                for d in parts["inputs"]
            ],
            "outputs": [{**OUTPUT_DEFAULTS, **d, "type": types[d["type"]]} for d in parts["outputs"]],
        }
        if parts["kind"] == "graph":
            snap["graph"] = full_graph(parts["graph"], definitions, types)
        else:
            snap["pool"] = parts["pool"]
            snap["code_version"] = parts["code_version"]
        nodes.append(snap)
    return {**graph, "nodes": nodes}


def json_schema_from_config_types(config_types: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a stored config type snapshot: what
    `orchestra._config.snapshot.to_json_schema` gives for the schema the snapshot describes."""
    types = config_types["types"]
    memo: dict[str, dict[str, Any]] = {}

    def type_schema(key: str) -> dict[str, Any]:
        cached = memo.get(key)
        if cached is None:
            cached = memo[key] = new_type_schema(types[key])
        return cached

    def new_type_schema(snap: Mapping[str, Any]) -> dict[str, Any]:
        kind = snap["kind"]
        params = snap.get("type_param_keys") or []
        if kind == "ANY":
            return {}
        if kind == "SCALAR":
            return {"type": _SCALAR_JSON_TYPES[snap["scalar_kind"]]}
        if kind == "ENUM":
            return {"type": "string", "enum": [ev["value"] for ev in snap["enum_values"]], "title": snap["given_name"]}
        if kind == "NONEABLE":
            return {"anyOf": [{"type": "null"}, type_schema(params[0])]}
        if kind == "ARRAY":
            return {"type": "array", "items": type_schema(params[0])}
        if kind == "SCALAR_UNION":
            return {"anyOf": [type_schema(params[0]), type_schema(params[1])]}
        if kind == "MAP":
            out: dict[str, Any] = {"type": "object", "additionalProperties": type_schema(params[1])}
            if types[params[0]].get("scalar_kind") == "INT":
                out["propertyNames"] = {"pattern": "^-?[0-9]+$"}
            return out
        return fields_schema(snap)

    def field_schema(field: Mapping[str, Any], selector_branch: bool) -> dict[str, Any]:
        inner = type_schema(field["type_key"])
        if selector_branch and types[field["type_key"]]["kind"] in _HAS_FIELDS:
            inner = {"anyOf": [{"type": "null"}, inner]}
        if field["description"]:
            inner = {**inner, "description": field["description"]}
        if field["default_provided"]:
            inner = {**inner, "default": field["default_value"]}
        if field["is_secret"]:
            inner = {**inner, "writeOnly": True}
        return inner

    def fields_schema(snap: Mapping[str, Any]) -> dict[str, Any]:
        fields = snap["fields"] or []
        is_selector = snap["kind"] == "SELECTOR"
        out: dict[str, Any] = {
            "type": "object",
            "properties": {f["name"]: field_schema(f, is_selector) for f in fields},
            "additionalProperties": snap["kind"] == "PERMISSIVE_SHAPE",
        }
        if snap["description"]:
            out["description"] = snap["description"]
        if is_selector:
            out["maxProperties"] = 1
            if not (len(fields) == 1 and not fields[0]["is_required"]):
                out["minProperties"] = 1
            return out
        aliases: Mapping[str, str] = snap.get("field_aliases") or {}
        for name, alias in aliases.items():
            out["properties"][alias] = out["properties"][name]
        required = [f["name"] for f in fields if f["is_required"] and f["name"] not in aliases]
        if required:
            out["required"] = required
        by_name = {f["name"]: f for f in fields} if aliases else {}
        either = [{"anyOf": [{"required": [name]}, {"required": [aliases[name]]}]}
                  for name in aliases if by_name[name]["is_required"]]
        if either:
            out["allOf"] = either
        return out

    root = config_types["field"]
    out = {"$schema": JSON_SCHEMA_DIALECT, **type_schema(root["type_key"])}
    if root["description"]:
        out["description"] = root["description"]
    return out
