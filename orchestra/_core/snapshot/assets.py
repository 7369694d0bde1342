"""Asset node and asset check snapshots: what the asset catalog, lineage and automation read."""

from __future__ import annotations

from typing import Any

from orchestra._core.snapshot.jobs import _metadata
from orchestra._core.snapshot.plain import _LEAVES, plain_metadata_json, to_plain


def _path(key: Any) -> list[str]:
    return list(key.path)


def _text(key: Any) -> str:
    return "/".join(key.path)


def _check_text(check_key: Any) -> str:
    return f"{_text(check_key.asset_key)}:{check_key.name}"


def asset_node_snapshots(repository: Any, jobs_by_asset: dict[Any, list[str]]) -> list[dict[str, Any]]:
    """One entry per asset key (materializable, observable or external), sorted by key.

    Plain by construction (each value that is not surely a str, bool or list of str goes through
    `to_plain`), so the location snapshot need not walk its asset nodes again: for 2,000 assets that
    walk was a tenth of the snapshot's cost. What the selection graph's node already holds (its spec,
    its definition) is read from it rather than looked up again by key.

    The lists most nodes have alike (one kind, the IO manager as the one required resource, the jobs
    of an asset's group) are made once and shared by the nodes, as a key's components are by the
    node and its children's `deps`: read-only. For 2,000 assets this is memory-bound work (reading
    the definitions, writing new objects), so fewer objects is what makes it faster.
    """
    from orchestra._core.definitions.op import OpDefinition

    graph = repository.selection_graph
    asset_graph = repository.asset_graph
    defs_by_key = asset_graph.assets_def_by_key if asset_graph is not None else {}
    # a location's partitioned assets share a few partitions definitions: describe each once (by
    # identity, kept alive so its id stays its own); the nodes share the description, read-only
    partition_snaps: dict[int, tuple[Any, Any]] = {}

    def partitions_snap(partitions_def: Any) -> Any:
        entry = partition_snaps.get(id(partitions_def))
        if entry is None:
            entry = partition_snaps[id(partitions_def)] = (partitions_def, to_plain(partitions_def.to_snapshot()))
        return entry[1]

    one_item_lists: dict[str, list[str]] = {}

    def sorted_strings(values: Any) -> list[Any]:
        """`_strings(sorted(values))`: one list for all the sets holding the same single str."""
        if len(values) == 1:
            (value,) = values
            if type(value) is str:
                found = one_item_lists.get(value)
                if found is None:
                    found = one_item_lists[value] = [value]
                return found
        return _strings(sorted(values))

    job_lists: dict[tuple[str, ...], list[str]] = {}  # the nodes in the same jobs share their list
    upstream = asset_graph.upstream if asset_graph is not None else None
    checks_by_asset = graph.checks_by_asset
    nodes = graph.nodes
    leaves = _LEAVES
    no_parents: tuple[Any, ...] = ()
    # a key's components as the tuple the key object holds (`parts`), not the `path` list it keeps
    # beside them: one object fewer to read per key
    key_lists = {key: list(key.parts) for key in nodes}
    snaps = []
    for key in sorted(nodes):  # `AssetKey`s order by their path, compared in C
        node = nodes[key]
        parts = key.parts
        key_list = key_lists[key]
        key_string = "/".join(parts)
        assets_def = node.assets_def
        own = defs_by_key.get(key)
        if own is not None and own is assets_def and node.spec is not None:
            # the node's spec and definition are the graph's for this key (`AssetGraph.spec` etc.)
            spec = node.spec
            partitions_def = own.partitions_def or spec.partitions_def
            io_manager_key = _io_manager_key(own, key, asset_graph, OpDefinition)
        else:
            spec = asset_graph.spec(key) if asset_graph is not None else node.spec
            partitions_def = asset_graph.partitions_def(key) if asset_graph is not None else None
            io_manager_key = asset_graph.io_manager_key(key) if asset_graph is not None else None
        is_materializable = node.is_materializable
        is_observable = node.is_observable
        node_def = getattr(assets_def, "node_def", None) if is_materializable or is_observable else None
        op_tags = getattr(node_def, "tags", None) or {}
        parents = upstream.get(key, no_parents) if upstream is not None else node.parents
        checks = checks_by_asset.get(key)
        execution_set = node.execution_set
        metadata = getattr(spec, "metadata", None)
        description = getattr(spec, "description", None)
        code_version = getattr(spec, "code_version", None)
        tags = {k: v for k, v in node.tags.items() if not k.startswith("dagster/kind/")}
        group_name = node.group_name
        owners = node.owners
        op_name = getattr(node_def, "name", None)
        compute_kind = op_tags.get("dagster/compute_kind") or op_tags.get("kind")
        job_names = jobs_by_asset.get(key)
        if job_names:
            names = tuple(job_names)
            job_names = job_lists.get(names)
            if job_names is None:
                job_names = job_lists[names] = sorted(names)
        snaps.append({
            "key": key_list,
            "key_string": key_string,
            "deps": [key_lists.get(p) or list(p.parts) for p in sorted(parents)],
            "group_name": group_name if type(group_name) is str else to_plain(group_name),
            "description": description if type(description) in leaves else to_plain(description),
            "metadata": _metadata_snap(metadata),
            "tags": _string_dict(tags) if tags else {},
            "kinds": sorted_strings(node.kinds),
            "owners": _strings(list(owners)) if owners else [],
            "code_version": code_version if type(code_version) in leaves else to_plain(code_version),
            "partitions": partitions_snap(partitions_def) if partitions_def is not None else None,
            "checks": sorted(_check_text(c) for c in checks) if checks else [],
            "is_materializable": is_materializable if type(is_materializable) is bool else to_plain(is_materializable),
            "is_observable": is_observable if type(is_observable) is bool else to_plain(is_observable),
            "is_external": not is_materializable,
            # a key of one part is its own text: the node's `key` list is its `execution_set` too
            "execution_set": (key_list if len(parts) == 1 else [key_string])
            if len(execution_set) == 1 and key in execution_set else sorted(_text(k) for k in execution_set),
            "job_names": job_names or [],
            "op_name": op_name if type(op_name) in leaves else to_plain(op_name),
            "compute_kind": compute_kind if type(compute_kind) in leaves else to_plain(compute_kind),
            "io_manager_key": io_manager_key if type(io_manager_key) in leaves else to_plain(io_manager_key),
            "required_resource_keys": sorted_strings(getattr(assets_def, "required_resource_keys", None) or ()),
            "automation_condition": _optional_text(getattr(spec, "automation_condition", None)),
            "backfill_policy": _backfill_policy(getattr(assets_def, "backfill_policy", None)),
        })
    return snaps


def _io_manager_key(assets_def: Any, key: Any, asset_graph: Any, op_class: type) -> Any:
    """`asset_graph.io_manager_key(key)` for `key` of `assets_def` (its definition in the graph).

    An asset computed by an op with one output (most assets): that output's IO manager key, read
    directly; the general lookup took a fifth of building 2,000 asset nodes.
    """
    node_def = assets_def.computation
    if type(node_def) is op_class and assets_def.is_materializable:
        outputs = node_def.output_defs
        if len(outputs) == 1 and assets_def.node_keys_by_output_name.get(outputs[0].name) == key:
            return outputs[0].io_manager_key
    return asset_graph.io_manager_key(key)


def _strings(values: list[Any]) -> list[Any]:
    """`values` (a new list) as plain JSON: as it is when every item is a str, as usual."""
    for value in values:
        if type(value) is not str:
            return to_plain(values)
    return values


def _string_dict(values: dict[Any, Any]) -> dict[str, Any]:
    """`values` (a new dict) as plain JSON: as it is when every key and value is a str (tags), as usual."""
    for key, value in values.items():
        if type(key) is not str or type(value) is not str:
            return to_plain(values)
    return values


def _metadata_snap(metadata: Any) -> Any:
    entries = plain_metadata_json(metadata) if metadata else []
    return entries if entries is not None else to_plain(_metadata(metadata))


def _backfill_policy(policy: Any) -> dict[str, Any] | None:
    """`{"max_partitions_per_run": N}` (null N: every partition in one run), or None: a run per partition."""
    if policy is None:
        return None
    return {"max_partitions_per_run": to_plain(policy.max_partitions_per_run)}


def asset_check_snapshots(repository: Any, jobs_by_check: dict[Any, list[str]]) -> list[dict[str, Any]]:
    """One entry per asset check, sorted by asset key then name."""
    asset_graph = repository.asset_graph
    if asset_graph is None:
        return []
    snaps = []
    for check_key in sorted(asset_graph.assets_def_by_check_key, key=lambda c: (c.asset_key.path, c.name)):
        check_spec = asset_graph.assets_def_by_check_key[check_key].get_spec_for_check_key(check_key)
        snaps.append({
            "name": check_key.name,
            "asset_key": _path(check_key.asset_key),
            "key_string": _check_text(check_key),
            "description": check_spec.description,
            "blocking": bool(check_spec.blocking),
            "additional_asset_keys": [_path(d.asset_key) for d in check_spec.additional_deps],
            "metadata": _metadata(check_spec.metadata),
            "job_names": sorted(jobs_by_check.get(check_key, [])),
        })
    return snaps


def _optional_text(value: Any) -> str | None:
    return None if value is None else repr(value)
