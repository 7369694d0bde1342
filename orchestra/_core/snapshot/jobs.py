"""Job snapshots: the op graph, run-config schema, executor, partitions, tags and metadata of one job."""

from __future__ import annotations

from typing import Any

from orchestra._core.snapshot.plain import canonical_json, json_hash, plain_metadata_json, to_plain


def _type_snap(dagster_type: Any) -> dict[str, Any]:
    return {
        "key": to_plain(dagster_type.key),
        "name": to_plain(dagster_type.display_name),
        "description": to_plain(getattr(dagster_type, "description", None)),
        "is_nothing": bool(getattr(dagster_type, "is_nothing", False)),
    }


def _metadata(metadata: Any) -> list[dict[str, Any]]:
    if not metadata:
        return []
    entries = plain_metadata_json(metadata)
    if entries is not None:  # str/int/bool/float values: no need to import the metadata types
        return entries
    from orchestra._core.metadata.json_form import metadata_to_json

    try:
        return metadata_to_json(metadata)
    except Exception:  # metadata an op carries that is not valid definition metadata: keep its text
        return [{"label": str(k), "type": "text", "data": repr(v)} for k, v in dict(metadata).items()]


def _dependencies(graph_def: Any, node_name: str, input_name: str) -> list[dict[str, Any]]:
    dep = graph_def.dependency_map.get(node_name, {}).get(input_name)
    if dep is None:
        return []
    if type(dep).__name__ == "DynamicCollectingDependencyDefinition":  # re-execution tells mapped steps from collectors
        return [{"node": d.node, "output": d.output, "collect": True} for d in dep.get_node_dependencies()]
    return [{"node": d.node, "output": d.output} for d in dep.get_node_dependencies()]


def graph_snapshot(graph_def: Any, memo: dict[str, Any] | None = None) -> dict[str, Any]:
    """Nodes in definition order, each with its inputs (and what feeds them) and outputs; sub-graphs nested.

    Plain by construction (each leaf that is not surely a str/bool goes through `to_plain`), so a
    job snapshot need not walk its graph again: for a 2,000-asset job that walk was most of its cost.
    `memo` (a dict kept for one location) describes each op definition once for all the jobs that
    run it (an asset's op is in its asset jobs and the implicit one); those jobs' snapshots then
    share the parts that describe the definition (its outputs, its inputs' types), so treat them as
    read-only.
    """
    from orchestra._core.definitions.dependency import DependencyDefinition
    from orchestra._core.definitions.graph import GraphDefinition

    mapped_inputs: dict[tuple[str, str], list[str]] = {}
    for mapping in graph_def.input_mappings:
        mapped_inputs.setdefault((mapping.mapped_node_name, mapping.mapped_node_input_name), []).append(
            mapping.graph_input_name
        )
    # thousands of inputs and outputs share a handful of types: describe each type once (keyed by
    # identity, the type kept alive so its id stays its own)
    memo = {} if memo is None else memo
    type_snaps: dict[int, tuple[Any, dict[str, Any]]] = memo.setdefault("types", {})
    definitions: dict[int, tuple[Any, dict[str, Any]]] = memo.setdefault("ops", {})

    def type_snap(dagster_type: Any) -> dict[str, Any]:
        entry = type_snaps.get(id(dagster_type))
        if entry is None:
            entry = type_snaps[id(dagster_type)] = (dagster_type, _type_snap(dagster_type))
        return entry[1]

    def described(definition: Any) -> dict[str, Any]:
        entry = definitions.get(id(definition))
        if entry is None:
            entry = definitions[id(definition)] = (definition, _definition_parts(definition, type_snap))
        return entry[1]

    dependency_map = graph_def.dependency_map
    no_deps: dict[str, Any] = {}
    nodes = []
    for node in graph_def.nodes:
        definition = node.definition
        is_graph = isinstance(definition, GraphDefinition)
        parts = described(definition)
        name = node.name
        node_deps = dependency_map.get(name, no_deps)
        inputs = []
        for d in parts["inputs"]:
            input_name = d["name"]
            dep = node_deps.get(input_name)
            entry = dict(d)
            if dep is None:
                entry["depends_on"] = []
            elif type(dep) is DependencyDefinition:  # the usual case, one output
                entry["depends_on"] = [{"node": dep.node, "output": dep.output}]
            else:
                entry["depends_on"] = _dependencies(graph_def, name, input_name)
            entry["from_graph_inputs"] = mapped_inputs.get((name, input_name), []) if mapped_inputs else []
            inputs.append(entry)
        tags = node.tags
        snap: dict[str, Any] = {
            "name": name,
            "definition_name": definition.name,
            "kind": "graph" if is_graph else "op",
            "description": parts["description"],
            "tags": to_plain(dict(tags)) if tags else {},
            "required_resource_keys": parts["required_resource_keys"],
            "inputs": inputs,
            "outputs": parts["outputs"],
        }
        if is_graph:
            snap["graph"] = graph_snapshot(definition, memo)
        else:
            snap["pool"] = parts["pool"]
            snap["code_version"] = parts["code_version"]
        nodes.append(snap)
    return {
        "name": graph_def.name,
        "nodes": nodes,
        "inputs": [{"name": d.name, "type": _type_snap(d.dagster_type)} for d in graph_def.input_defs],
        "outputs": [
            {"name": m.graph_output_name, "node": m.mapped_node_name, "output": m.mapped_node_output_name}
            for m in graph_def.output_mappings
        ],
    }


def _definition_parts(definition: Any, type_snap: Any) -> dict[str, Any]:
    """What a node's snapshot takes from its op or graph definition, whichever job it is in."""
    return {
        "description": to_plain(definition.description),
        "required_resource_keys": sorted(getattr(definition, "required_resource_keys", ()) or ()),
        "inputs": [
            {
                "name": d.name,
                "type": type_snap(d.dagster_type),
                "description": to_plain(d.description),
                "has_default_value": to_plain(d.has_default_value),
            }
            for d in definition.input_defs
        ],
        "outputs": [
            {
                "name": d.name,
                "type": type_snap(d.dagster_type),
                "description": to_plain(d.description),
                "is_required": to_plain(d.is_required),
                "is_dynamic": to_plain(d.is_dynamic),
                "io_manager_key": to_plain(d.io_manager_key),
            }
            for d in definition.output_defs
        ],
        "pool": to_plain(getattr(definition, "pool", None)),
        "code_version": to_plain(getattr(definition, "version", None)),
    }


def location_memo() -> dict[str, dict[str, Any]]:
    """What the snapshots of one location's jobs and resources may share (`job_snapshot_and_json`,
    `config_schema_snapshot`, `graph_snapshot`); keep it no longer than one snapshot (it holds the
    definitions it described).

    A location's jobs share most of their config types (IO managers, resources, loggers, executor,
    the config of an op in several jobs) and their ops; described once, they are shared by reference.
    """
    return {"json_schema": {}, "config_types": {}, "graph": {}}


def config_schema_snapshot(schema: Any, memo: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """A config schema as JSON Schema and as a rebuildable config type snapshot."""
    from orchestra._config.snapshot import _as_field, config_type_snapshot, to_json_schema

    memo = memo or location_memo()
    # one Field for both: wrapping a Shape fills in its defaults, a walk of every op's config
    field = _as_field(schema)
    return {"json_schema": to_json_schema(field, memo["json_schema"]),
            "config_types": config_type_snapshot(field, memo["config_types"])}


def run_config_schema_snapshot(job: Any, memo: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The job's run-config schema as JSON Schema and as a rebuildable config type snapshot."""
    return config_schema_snapshot(job.run_config_schema, memo)


def asset_keys_of_job(job: Any) -> tuple[set[Any], set[Any]]:
    """The asset keys and asset check keys a job materializes or runs (empty for op jobs)."""
    layer = getattr(job, "asset_layer", None) or getattr(job, "_asset_layer", None)
    if layer is None:
        return set(), set()
    keys = getattr(layer, "selected_asset_keys", None) or set()
    checks = getattr(layer, "selected_check_keys", None) or set()
    return set(keys() if callable(keys) else keys), set(checks() if callable(checks) else checks)


def job_snapshot(job: Any) -> dict[str, Any]:
    """Everything the webserver shows and validates about one job, as plain JSON."""
    return job_snapshot_and_json(job)[0]


def job_snapshot_and_json(job: Any, memo: dict[str, dict[str, Any]] | None = None) -> tuple[dict[str, Any], str]:
    """`job_snapshot(job)` and its canonical JSON, `snapshot_id` included (what the location's id hashes).

    `memo` (from `location_memo()`) shares the description of config types and ops between the jobs
    of one location (the snapshots then share those parts: read-only)."""
    partitions = job.partitions_def.to_snapshot() if job.partitions_def is not None else None
    asset_keys, check_keys = asset_keys_of_job(job)
    snap = {
        "name": job.name,
        "description": job.description,
        "tags": to_plain(dict(job.tags)),
        "run_tags": to_plain(dict(job.run_tags)),
        "metadata": _metadata(job.metadata),
        "owners": list(getattr(job, "owners", None) or []),
        "executor": {"name": job.executor_def.name},
        "loggers": sorted(job.logger_defs),
        "resource_keys": sorted(job.resource_defs),
        "partitions": to_plain(partitions),
        "is_asset_job": bool(asset_keys or check_keys),
        "asset_keys": sorted("/".join(k.path) for k in asset_keys),
        "asset_check_keys": sorted(f"{'/'.join(c.asset_key.path)}:{c.name}" for c in check_keys),
        "graph": None,
        "run_config_schema": None,
    }
    snap = to_plain(snap)
    snap["graph"] = graph_snapshot(job.graph, memo["graph"] if memo else None)  # already plain
    snap["run_config_schema"] = run_config_schema_snapshot(job, memo)  # already plain
    text = canonical_json(snap)
    snap["snapshot_id"] = json_hash(text)
    # `snapshot_id` sorts just before `tags`, the last key: insert it into the text rather than
    # encoding the whole job again
    tail = f',"tags":{canonical_json(snap["tags"])}}}'
    keys = sorted(snap)
    if keys[-2:] == ["snapshot_id", "tags"] and text.endswith(tail):
        return snap, f'{text[:-len(tail)]},"snapshot_id":"{snap["snapshot_id"]}"{tail}'
    return snap, canonical_json(snap)
