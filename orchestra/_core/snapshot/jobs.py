"""Job snapshots: the op graph, run-config schema, executor, partitions, tags and metadata of one job."""

from __future__ import annotations

import hashlib
from typing import Any

from orchestra._core.snapshot.plain import canonical_json_bytes, json_hash, plain_metadata_json, to_plain


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
    """The graph's nodes in definition order, by reference (version 2): each node names its definition
    (`definition`, when it differs from the node's name) and carries only what is its own — `tags`,
    and the inputs fed by other nodes (`depends_on`) or by the graph's inputs (`from_graph_inputs`),
    each omitted when empty. The definitions (description, resource keys, inputs, outputs, types, a
    graph's own nodes) go to `memo["definitions"]` and `memo["dagster_types"]`, the location's
    `node_definitions` and `dagster_types`; `orchestra._core.snapshot.read.full_graph` puts them back.

    Plain by construction. `memo` (a dict kept for one location) describes each definition and type
    once for every job that uses it: an asset's op is in its asset jobs and the implicit one.
    """
    from orchestra._core.definitions.dependency import DependencyDefinition
    from orchestra._core.definitions.graph import GraphDefinition

    mapped_inputs: dict[tuple[str, str], list[str]] = {}
    for mapping in graph_def.input_mappings:
        mapped_inputs.setdefault((mapping.mapped_node_name, mapping.mapped_node_input_name), []).append(
            mapping.graph_input_name
        )
    memo = {} if memo is None else memo
    described: dict[int, tuple[Any, str, list[str]]] = memo.setdefault("ops", {})
    for table in ("types", "usual_items", "definitions"):  # what `_describe` adds to
        memo.setdefault(table, {})
    # a node in several jobs (an asset's op in its group's job and `__ASSET_JOB`) with the same
    # dependencies has the same snap: made once (the node kept alive so its id stays its own)
    node_snaps: dict[int, tuple[Any, dict[str, Any], dict[str, Any]]] = memo.setdefault("nodes", {})
    # one `[{"node", "output"}]` per output that feeds inputs, however many inputs and jobs it feeds
    dependency_snaps: dict[tuple[str, str], list[dict[str, Any]]] = memo.setdefault("dependencies", {})

    dependency_map = graph_def.dependency_map
    no_deps: dict[str, Any] = {}
    nodes = []
    for node in graph_def.nodes:
        node_deps = dependency_map.get(node.name, no_deps)
        if not mapped_inputs:
            seen = node_snaps.get(id(node))
            if seen is not None and seen[1] == node_deps:
                nodes.append(seen[2])
                continue
        definition = node.definition
        entry = described.get(id(definition))
        if entry is None:
            entry = described[id(definition)] = _describe(definition, memo, GraphDefinition)
        _, key, input_names = entry
        name = node.name
        snap: dict[str, Any] = {"name": name}
        if key != name:
            snap["definition"] = key
        tags = node.tags
        if tags:
            snap["tags"] = to_plain(dict(tags))
        if node_deps:
            depends: dict[str, Any] = {}
            for input_name in input_names:
                dep = node_deps.get(input_name)
                if dep is None:
                    continue
                if type(dep) is DependencyDefinition:  # the usual case, one output
                    found = dependency_snaps.get((dep.node, dep.output))
                    if found is None:
                        found = dependency_snaps[(dep.node, dep.output)] = [{"node": dep.node, "output": dep.output}]
                    depends[input_name] = found
                else:
                    found = _dependencies(graph_def, name, input_name)
                    if found:
                        depends[input_name] = found
            if depends:
                snap["depends_on"] = depends
        if mapped_inputs:
            from_graph = {n: mapped_inputs[(name, n)] for n in input_names if (name, n) in mapped_inputs}
            if from_graph:
                snap["from_graph_inputs"] = from_graph
        else:
            node_snaps[id(node)] = (node, node_deps, snap)
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


def _describe(definition: Any, memo: dict[str, Any], graph_class: type) -> tuple[Any, str, list[str]]:
    """Add `definition` to the location's table: (the definition, kept alive so its id stays its own;
    its key in the table; its input names)."""
    type_ids: dict[int, tuple[Any, str]] = memo["types"]
    # an input or output with only its name and type (most are) is the same entry in every definition
    # that has it: `{"name": "asset_0", "type": "Nothing"}` in each op reading asset_0, one `result`
    usual_items: dict[tuple[str, str], dict[str, Any]] = memo["usual_items"]

    # each part is left out when it has its usual value (`DEFINITION_DEFAULTS`, `INPUT_DEFAULTS`,
    # `OUTPUT_DEFAULTS`): most of 2,000 asset ops' description was nulls, falses and "io_manager"
    is_graph = isinstance(definition, graph_class)
    name = definition.name
    parts: dict[str, Any] = {"name": name if type(name) is str else to_plain(name)}
    if is_graph:
        parts["kind"] = "graph"
    description = definition.description
    if description is not None:
        parts["description"] = description if type(description) is str else to_plain(description)
    resource_keys = getattr(definition, "required_resource_keys", None)
    if resource_keys:
        parts["required_resource_keys"] = sorted(resource_keys)
    input_names = []
    input_defs = definition.input_defs
    if input_defs:
        inputs = []
        for d in input_defs:
            input_name = d.name
            input_names.append(input_name)
            entry = type_ids.get(id(d.dagster_type))
            type_key = entry[1] if entry is not None else _type_ref(d.dagster_type, memo)
            if d.description is None and d.has_default_value is False:
                item = usual_items.get((input_name, type_key))
                if item is None:
                    item = usual_items[(input_name, type_key)] = {"name": input_name, "type": type_key}
            else:
                item = {"name": input_name, "type": type_key}
                if d.description is not None:
                    item["description"] = to_plain(d.description)
                if d.has_default_value is not False:
                    item["has_default_value"] = to_plain(d.has_default_value)
            inputs.append(item)
        parts["inputs"] = inputs
    output_defs = definition.output_defs
    if output_defs:
        outputs = []
        for d in output_defs:
            entry = type_ids.get(id(d.dagster_type))
            type_key = entry[1] if entry is not None else _type_ref(d.dagster_type, memo)
            if d.description is None and d.is_required is True and d.is_dynamic is False and d.io_manager_key == "io_manager":
                item = usual_items.get((d.name, type_key))
                if item is None:
                    item = usual_items[(d.name, type_key)] = {"name": d.name, "type": type_key}
            else:
                item = {"name": d.name, "type": type_key}
                if d.description is not None:
                    item["description"] = to_plain(d.description)
                if d.is_required is not True:
                    item["is_required"] = to_plain(d.is_required)
                if d.is_dynamic is not False:
                    item["is_dynamic"] = to_plain(d.is_dynamic)
                if d.io_manager_key != "io_manager":
                    item["io_manager_key"] = to_plain(d.io_manager_key)
            outputs.append(item)
        parts["outputs"] = outputs
    if is_graph:
        parts["graph"] = graph_snapshot(definition, memo)
    else:
        pool = getattr(definition, "pool", None)
        if pool is not None:
            parts["pool"] = to_plain(pool)
        version = getattr(definition, "version", None)
        if version is not None:
            parts["code_version"] = version if type(version) is str else to_plain(version)
    return definition, _table_key(memo["definitions"], str(parts["name"]), parts), input_names


def _type_ref(dagster_type: Any, memo: dict[str, Any]) -> str:
    """The key of `dagster_type` in the location's `dagster_types` table, added on first use."""
    type_ids: dict[int, tuple[Any, str]] = memo["types"]
    entry = type_ids.get(id(dagster_type))
    if entry is None:
        snap = _type_snap(dagster_type)
        type_table = memo.setdefault("dagster_types", {})
        entry = type_ids[id(dagster_type)] = (dagster_type, _table_key(type_table, str(snap["key"]), snap))
    return entry[1]


# What an entry of `node_definitions` means when it leaves a part out
DEFINITION_DEFAULTS: dict[str, Any] = {"kind": "op", "description": None, "required_resource_keys": [], "inputs": [],
                                       "outputs": [], "pool": None, "code_version": None}
INPUT_DEFAULTS: dict[str, Any] = {"description": None, "has_default_value": False}
OUTPUT_DEFAULTS: dict[str, Any] = {"description": None, "is_required": True, "is_dynamic": False,
                                   "io_manager_key": "io_manager"}


def _table_key(table: dict[str, Any], name: str, value: Any) -> str:
    """The key of `value` in a location table: `name`, or `name~2`, `name~3`… for a different value
    under a name already taken (two definitions may share a name across jobs)."""
    key, count = name, 1
    while True:
        found = table.get(key)
        if found is None:
            table[key] = value
            return key
        if found == value:
            return key
        count += 1
        key = f"{name}~{count}"


def location_memo() -> dict[str, dict[str, Any]]:
    """What the snapshots of one location's jobs and resources share (`job_snapshot_and_json`,
    `config_schema_snapshot`, `graph_snapshot`); keep it no longer than one snapshot (it holds the
    definitions it described). `definition_tables(memo)` gives the tables the jobs' graphs refer to.

    A location's jobs share most of their config types (IO managers, resources, loggers, executor,
    the config of an op in several jobs) and their ops; described once, they are shared by reference.
    """
    return {"config_types": {}, "config_fields": {}, "graph": {}}


def definition_tables(memo: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """`{"dagster_types": ..., "node_definitions": ...}`: what the graphs described with `memo` refer to."""
    graph = memo["graph"]
    return {"dagster_types": graph.get("dagster_types", {}), "node_definitions": graph.get("definitions", {})}


def config_schema_snapshot(schema: Any, memo: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """A config schema as a rebuildable config type snapshot (`{"config_types": ...}`); readers derive
    its JSON Schema (`orchestra._core.snapshot.read.full_config_schema`)."""
    from orchestra._config.snapshot import _as_field, config_type_snapshot

    memo = memo or location_memo()
    return {"config_types": config_type_snapshot(_as_field(schema), memo["config_types"], memo["config_fields"])}


def run_config_schema_snapshot(job: Any, memo: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The job's run-config schema as a rebuildable config type snapshot."""
    return config_schema_snapshot(job.run_config_schema, memo)


def asset_keys_of_job(job: Any) -> tuple[set[Any], set[Any]]:
    """The asset keys and asset check keys a job materializes or runs (empty for op jobs); read them,
    never change them (a set the layer gave is not copied again: 2,000 keys per job)."""
    layer = getattr(job, "asset_layer", None) or getattr(job, "_asset_layer", None)
    if layer is None:
        return set(), set()
    keys = getattr(layer, "selected_asset_keys", None) or set()
    checks = getattr(layer, "selected_check_keys", None) or set()
    keys = keys() if callable(keys) else keys
    checks = checks() if callable(checks) else checks
    return keys if type(keys) is set else set(keys), checks if type(checks) is set else set(checks)


def job_snapshot(job: Any) -> dict[str, Any]:
    """Everything the webserver shows and validates about one job, as plain JSON, in the whole form
    readers use (`orchestra._core.snapshot.read.full_job`): what a location snapshot of this job
    alone gives for it."""
    from orchestra._core.snapshot.read import full_job

    memo = location_memo()
    snap, text = job_snapshot_and_json(job, memo)
    tables = definition_tables(memo)
    stamp_job_id(snap, text, tables_digest(canonical_json_bytes(tables)))
    return full_job(tables, snap)


def job_snapshot_and_json(job: Any, memo: dict[str, dict[str, Any]] | None = None) -> tuple[dict[str, Any], bytes]:
    """The stored snapshot of one job (version 2: its graph by reference to the location's definition
    tables) and its canonical JSON (`canonical_json_bytes`), both without `snapshot_id` (`stamp_job_id` adds it once the
    location's tables are complete).

    `memo` (from `location_memo()`) shares the description of config types and definitions between the
    jobs of one location (the snapshots then share those parts: read-only)."""
    memo = location_memo() if memo is None else memo
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
        "asset_keys": None,  # lists of str: set below, not walked again (2,000 keys in `__ASSET_JOB`)
        "asset_check_keys": None,
        "graph": None,
        "run_config_schema": None,
    }
    snap = to_plain(snap)
    # from the tuple a key holds, not its `path` list: one object fewer to read per key
    snap["asset_keys"] = sorted(["/".join(k.parts) for k in asset_keys])
    snap["asset_check_keys"] = sorted(f"{'/'.join(c.asset_key.path)}:{c.name}" for c in check_keys)
    snap["graph"] = graph_snapshot(job.graph, memo["graph"])  # already plain
    snap["run_config_schema"] = run_config_schema_snapshot(job, memo)  # already plain
    return snap, canonical_json_bytes(snap)


def tables_digest(tables_text: str | bytes | list[bytes | memoryview]) -> str:
    """What a job's id covers of the location besides the job itself: the hash of the canonical JSON of
    the definition tables (`definition_tables`), given whole or as pieces to join."""
    if not isinstance(tables_text, list):
        return json_hash(tables_text)
    digest = hashlib.sha256()
    for piece in tables_text:
        digest.update(piece)
    return digest.hexdigest()


def stamp_job_id(snap: dict[str, Any], text: bytes, digest: str) -> list[bytes | memoryview]:
    """Set `snap["snapshot_id"]` — the hash of the job's canonical JSON (without the id) followed by
    `digest`, so that it changes with the definitions its graph refers to — and return the job's
    canonical JSON with it, as pieces to join (the job's text is not copied: megabytes for a location)."""
    hashed = hashlib.sha256(text)
    hashed.update(digest.encode("ascii"))
    snap["snapshot_id"] = hashed.hexdigest()
    # `snapshot_id` sorts just before `tags`, the last key: insert it into the text rather than
    # encoding the whole job again
    tail = b',"tags":' + canonical_json_bytes(snap["tags"]) + b"}"
    keys = sorted(snap)
    if keys[-2:] == ["snapshot_id", "tags"] and text.endswith(tail):
        return [memoryview(text)[:-len(tail)], b',"snapshot_id":"%s"' % snap["snapshot_id"].encode("ascii"), tail]
    return [canonical_json_bytes(snap)]
