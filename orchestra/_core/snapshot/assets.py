"""Asset node and asset check snapshots: what the asset catalog, lineage and automation read."""

from __future__ import annotations

from typing import Any

from orchestra._core.snapshot.jobs import _metadata
from orchestra._core.snapshot.plain import plain_metadata_json, to_plain


def _path(key: Any) -> list[str]:
    return list(key.path)


def _path_of(key: Any) -> list[str]:
    return key.path


def _text(key: Any) -> str:
    return "/".join(key.path)


def _check_text(check_key: Any) -> str:
    return f"{_text(check_key.asset_key)}:{check_key.name}"


def asset_node_snapshots(repository: Any, jobs_by_asset: dict[Any, list[str]]) -> list[dict[str, Any]]:
    """One entry per asset key (materializable, observable or external), sorted by key.

    Plain by construction (each value that is not surely a str, bool or list of str goes through
    `to_plain`), so the location snapshot need not walk its asset nodes again: for 2,000 assets that
    walk was a tenth of the snapshot's cost.
    """
    graph = repository.selection_graph
    asset_graph = repository.asset_graph
    # a location's partitioned assets share a few partitions definitions: describe each once (by
    # identity, kept alive so its id stays its own); the nodes share the description, read-only
    partition_snaps: dict[int, tuple[Any, Any]] = {}

    def partitions_snap(partitions_def: Any) -> Any:
        entry = partition_snaps.get(id(partitions_def))
        if entry is None:
            entry = partition_snaps[id(partitions_def)] = (partitions_def, to_plain(partitions_def.to_snapshot()))
        return entry[1]

    def metadata_snap(metadata: Any) -> Any:
        entries = plain_metadata_json(metadata) if metadata else []
        return entries if entries is not None else to_plain(_metadata(metadata))

    upstream = asset_graph.upstream if asset_graph is not None else None
    checks_by_asset = graph.checks_by_asset
    snaps = []
    # sorted by path (lists of str compare in C; `AssetKey` orders by its path)
    for key in sorted(graph.nodes, key=_path_of):
        node = graph.nodes[key]
        assets_def = node.assets_def
        spec = asset_graph.spec(key) if asset_graph is not None else node.spec
        node_def = getattr(assets_def, "node_def", None) if node.is_materializable or node.is_observable else None
        partitions_def = asset_graph.partitions_def(key) if asset_graph is not None else None
        op_tags = getattr(node_def, "tags", None) or {}
        parents = upstream.get(key, ()) if upstream is not None else node.parents
        checks = checks_by_asset.get(key)
        execution_set = node.execution_set
        snaps.append({
            "key": list(key.path),
            "key_string": "/".join(key.path),
            "deps": sorted([list(p.path) for p in parents]),
            "group_name": to_plain(node.group_name),
            "description": to_plain(getattr(spec, "description", None)),
            "metadata": metadata_snap(getattr(spec, "metadata", None)),
            "tags": to_plain({k: v for k, v in node.tags.items() if not k.startswith("dagster/kind/")}),
            "kinds": to_plain(sorted(node.kinds)),
            "owners": to_plain(list(node.owners)),
            "code_version": to_plain(getattr(spec, "code_version", None)),
            "partitions": partitions_snap(partitions_def) if partitions_def is not None else None,
            "checks": sorted(_check_text(c) for c in checks) if checks else [],
            "is_materializable": to_plain(node.is_materializable),
            "is_observable": to_plain(node.is_observable),
            "is_external": not node.is_materializable,
            "execution_set": ["/".join(key.path)] if len(execution_set) == 1 and key in execution_set
            else sorted(_text(k) for k in execution_set),
            "job_names": to_plain(sorted(jobs_by_asset.get(key, []))),
            "op_name": to_plain(getattr(node_def, "name", None)),
            "compute_kind": to_plain(op_tags.get("dagster/compute_kind") or op_tags.get("kind")),
            "io_manager_key": to_plain(asset_graph.io_manager_key(key) if asset_graph is not None else None),
            "required_resource_keys": to_plain(sorted(getattr(assets_def, "required_resource_keys", None) or ())),
            "automation_condition": _optional_text(getattr(spec, "automation_condition", None)),
            "backfill_policy": _backfill_policy(getattr(assets_def, "backfill_policy", None)),
        })
    return snaps


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
