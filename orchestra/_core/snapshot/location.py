"""`snapshot_from_definitions`: the whole code location as one versioned, hashable JSON document."""

from __future__ import annotations

import hashlib
from typing import Any

from orchestra._core.gc_pause import collection_paused
from orchestra._core.snapshot import SNAPSHOT_VERSION
from orchestra._core.snapshot.assets import asset_check_snapshots, asset_node_snapshots
from orchestra._core.snapshot.jobs import (
    _metadata,
    asset_keys_of_job,
    config_schema_snapshot,
    definition_tables,
    job_snapshot_and_json,
    location_memo,
    stamp_job_id,
    tables_digest,
)
from orchestra._core.snapshot.plain import canonical_json_bytes, to_plain


def _type_name(value: Any) -> str:
    cls = value if isinstance(value, type) else type(value)
    return f"{cls.__module__}.{cls.__qualname__}"


def resource_snapshots(repository: Any, given: dict[str, Any] | None, jobs: list[Any],
                       memo: dict[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Top-level resources: key, type, description, config schema, and the jobs that use each."""
    used_by: dict[str, list[str]] = {}
    for job in jobs:
        for key in job.resource_defs:
            used_by.setdefault(key, []).append(job.name)
    snaps = []
    for key, resource_def in sorted(repository.get_top_level_resources().items()):
        original = (given or {}).get(key, resource_def)
        field = resource_def.config_field
        env_vars = sorted(_env_var_names(field.default_value)) if field.default_provided else []
        snaps.append({
            "key": key,
            "type": _type_name(original),
            "description": getattr(resource_def, "description", None) or getattr(original, "description", None),
            "config_schema": config_schema_snapshot(field, memo),
            "job_names": sorted(used_by.get(key, [])),
            "env_vars": env_vars,
        })
    return snaps


def _env_var_names(value: Any) -> set[str]:
    """Names of environment variables a config value reads (`{"env": NAME}`), at any depth."""
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(value.get("env"), str):
            return {value["env"]}
        return set().union(*(_env_var_names(v) for v in value.values())) if value else set()
    if isinstance(value, (list, tuple)):
        return set().union(*(_env_var_names(v) for v in value)) if value else set()
    return set()


def snapshot_from_definitions(defs: Any, location_name: str) -> dict[str, Any]:
    """Plain JSON describing `defs` for the webserver and daemon, with `version` and a stable `snapshot_id`.

    Jobs (including asset jobs and `__ASSET_JOB`) are resolved here, so errors surface when a code
    location loads, not when a run starts.

    Example:
        >>> snapshot = snapshot_from_definitions(defs, "analytics")
        >>> snapshot["jobs"][0]["name"], snapshot["version"]
        ('__ASSET_JOB', 2)
    """
    with collection_paused():  # hundreds of thousands of long-lived dicts and lists, none garbage
        snapshot, _ = _snapshot(defs, location_name, with_text=False)
    return snapshot


def snapshot_and_json_from_definitions(defs: Any, location_name: str) -> tuple[dict[str, Any], str]:
    """`snapshot_from_definitions(defs, location_name)` and its canonical JSON text (what a code server
    sends: encoding the snapshot, megabytes for a large location, was already done to hash it)."""
    with collection_paused():  # hundreds of thousands of long-lived dicts and lists, none garbage
        snapshot, pieces = _snapshot(defs, location_name, with_text=True)
    return snapshot, b"".join(pieces).decode("utf-8", "surrogatepass")


def _snapshot(defs: Any, location_name: str, *, with_text: bool) -> tuple[dict[str, Any], list[bytes | memoryview]]:
    """The snapshot and, `with_text`, its canonical JSON as pieces to join. The id is hashed from the
    pieces either way; joining them (and decoding the text) copies the whole document twice, so it is
    done only for a caller that keeps the text (a code server), not for one that only wants the dict."""
    repository = defs.get_repository_def() if hasattr(defs, "get_repository_def") else defs
    jobs = repository.get_all_jobs()
    jobs_by_asset: dict[Any, list[str]] = {}
    jobs_by_check: dict[Any, list[str]] = {}
    for job in jobs:
        asset_keys, check_keys = asset_keys_of_job(job)
        name = job.name
        for key in asset_keys:  # (no new list per key and job, as `setdefault` would make)
            names = jobs_by_asset.get(key)
            if names is None:
                jobs_by_asset[key] = [name]
            else:
                names.append(name)
        for check_key in check_keys:
            jobs_by_check.setdefault(check_key, []).append(name)
    memo = location_memo()
    resources = resource_snapshots(repository, getattr(defs, "resources", None), jobs, memo)
    snapshot: dict[str, Any] = to_plain({
        "version": SNAPSHOT_VERSION,
        "location_name": location_name,
        "repository_name": repository.name,
        "metadata": _metadata(getattr(repository, "metadata", None)),
        "asset_nodes": None,  # plain by construction: set below, not walked again
        "asset_checks": asset_check_snapshots(repository, jobs_by_check),
        "schedules": [s.to_snapshot() for s in sorted(repository.schedule_defs, key=lambda s: s.name)],
        "sensors": [s.to_snapshot() for s in sorted(repository.sensor_defs, key=lambda s: s.name)],
        "resources": resources,
        "utilized_env_vars": {
            name: sorted(r["key"] for r in resources if name in r["env_vars"])
            for name in sorted({n for r in resources for n in r["env_vars"]})
        },
    })
    snapshot["asset_nodes"] = asset_node_snapshots(repository, jobs_by_asset)
    job_snaps = [job_snapshot_and_json(job, memo) for job in sorted(jobs, key=lambda j: j.name)]  # already plain
    snapshot["jobs"] = [snap for snap, _ in job_snaps]
    # the jobs' graphs refer to the definitions described once for the location; a job's id covers them
    tables = definition_tables(memo)
    snapshot.update(tables)
    encoded: dict[str, list[bytes | memoryview]] = {key: [canonical_json_bytes(value)] for key, value in snapshot.items() if key != "jobs"}
    # canonical_json(tables), from the encodings just made (the definitions are most of it), hashed
    # piece by piece rather than copied into one text first
    digest_of_tables = tables_digest(_object_pieces({key: encoded[key] for key in tables}))
    job_pieces: list[bytes | memoryview] = [b"["]
    for index, (snap, text) in enumerate(job_snaps):
        if index:
            job_pieces.append(b",")
        job_pieces.extend(stamp_job_id(snap, text, digest_of_tables))
    job_pieces.append(b"]")
    encoded["jobs"] = job_pieces
    # the id hashes the document without it, fed to the hash piece by piece (megabytes, not copied
    # into one text first); the document's text is then joined once, with the id in its place
    digest = hashlib.sha256()
    for piece in _object_pieces(encoded):
        digest.update(piece)
    snapshot["snapshot_id"] = digest.hexdigest()
    if not with_text:
        return snapshot, []
    encoded["snapshot_id"] = [canonical_json_bytes(snapshot["snapshot_id"])]
    return snapshot, _object_pieces(encoded)


def _object_pieces(encoded: dict[str, list[bytes | memoryview]]) -> list[bytes | memoryview]:
    """The canonical JSON of an object whose members' canonical JSON is the concatenation of `encoded`'s
    pieces, as pieces (`b"".join` them; `json_hash` of the joined text is `sha256` over the pieces)."""
    pieces: list[bytes | memoryview] = [b"{"]
    for index, key in enumerate(sorted(encoded)):
        pieces.append(b'%s%s:' % (b"," if index else b"", canonical_json_bytes(key)))
        pieces.extend(encoded[key])
    pieces.append(b"}")
    return pieces
