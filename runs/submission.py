"""Checking a submission against a code location's STORED snapshot (never user code).

Finds the job, rebuilds its run-config schema from the snapshot's `config_types` and validates run
config with the SDK's validator (Dagster's messages and reasons), and checks op, asset, asset check
and step selections against the job's graph and keys. Rebuilt schemas are cached per process by
(location snapshot id, job), so a submit costs one small query and a validation.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.exceptions import InvalidInput, NotFound
from workspace import selectors as workspace_selectors
from workspace.models import CodeLocation, LocationStatus

# The code pointer a run worker loads the job from (`load_definitions` arguments) and the interpreter
# the launcher starts it with.
RUN_ORIGIN_KEYS = ("python_file", "module_name", "package_name", "attribute", "working_directory", "executable_path")
_CACHED_LOCATIONS = 16


class JobNotFound(NotFound):
    """The job (or its code location) does not exist, or the location is not loaded.

    `kind` says what is missing: "job", "repository" or "code location" (unknown or not loaded;
    `location_loaded` tells which), for interfaces that answer each differently (GraphQL's
    PipelineNotFoundError, RepositoryNotFoundError, RepositoryLocationNotFound).
    """

    def __init__(self, message: str, *, job_name: str, location_name: str | None = None, kind: str = "job",
                 location_loaded: bool = True):
        self.job_name = job_name
        self.location_name = location_name
        self.location_loaded = location_loaded
        Exception.__init__(self, message)
        self.kind = kind
        self.key = location_name if kind == "code location" and location_name else job_name


class RunConfigInvalid(InvalidInput):
    """Run config does not match the job's config schema; `errors` lists each {message, path, reason}."""

    def __init__(self, job_name: str, errors: list[dict[str, Any]]):
        self.job_name = job_name
        self.errors = errors
        lines = "".join(f"\n    Error {i}: {err['message']}" for i, err in enumerate(errors, 1))
        super().__init__(f"Error in config for job {job_name}{lines}")


class SelectionInvalid(InvalidInput):
    """An op, asset, asset check or step selection names something the job does not have."""


@dataclass
class JobIndex:
    """What a submission needs of one job snapshot, plus the lazily rebuilt config schema."""

    name: str
    snapshot: dict[str, Any]
    node_names: list[str]
    upstream: dict[str, set[str]]
    downstream: dict[str, set[str]]
    handles: set[str]  # every node handle, nested ones as "graph.op"
    asset_keys: frozenset[str]
    check_keys: frozenset[str]
    op_by_asset: dict[str, str]
    _schemas: dict[frozenset[str] | None, Any] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def config_field(self, nodes: frozenset[str] | None = None) -> Any:
        """The run-config schema (a Field) for the whole job, or for the subset of top-level `nodes`."""
        cached = self._schemas.get(nodes)
        if cached is not None:
            return cached
        with self._lock:
            cached = self._schemas.get(nodes)
            if cached is None:
                if nodes is None:
                    from orchestra._config.snapshot import config_type_from_snapshot

                    cached = config_type_from_snapshot(self.snapshot["run_config_schema"]["config_types"])
                else:
                    cached = _subset_schema(self.config_field(None), nodes)
                if len(self._schemas) > 64:  # op subsets are many; keep the full schema
                    self._schemas = {None: self._schemas.get(None)} if None in self._schemas else {}
                self._schemas[nodes] = cached
        return cached


@dataclass
class LocationIndex:
    name: str
    snapshot_id: str
    repository_name: str
    jobs: dict[str, dict[str, Any]]
    op_by_asset: dict[str, str]
    snapshot: dict[str, Any] = field(default_factory=dict)  # the location's, which its jobs' graphs refer to
    _jobs: dict[str, JobIndex] = field(default_factory=dict)

    def job(self, name: str) -> JobIndex | None:
        index = self._jobs.get(name)
        if index is None and name in self.jobs:
            whole = workspace_selectors.full_job(self.snapshot, self.jobs[name])
            index = self._jobs[name] = _job_index(whole, self.op_by_asset)
        return index


@dataclass(frozen=True)
class Target:
    """The resolved submission target: where the job lives and what to copy onto the run."""

    location_name: str
    repository_name: str
    snapshot_id: str
    origin: dict[str, Any]
    job: JobIndex


_locations: OrderedDict[tuple[str, str], LocationIndex] = OrderedDict()
_locations_lock = threading.Lock()


def _location_index(name: str, snapshot_id: str) -> LocationIndex:
    key = (name, snapshot_id)
    with _locations_lock:
        index = _locations.get(key)
        if index is not None:
            _locations.move_to_end(key)
            return index
    snapshot = CodeLocation.objects.filter(name=name, snapshot_id=snapshot_id).values_list("snapshot", flat=True).first()
    if snapshot is None:  # reloaded in between: read the current one
        row = CodeLocation.objects.filter(name=name).values_list("snapshot", "snapshot_id").first()
        snapshot, snapshot_id = row if row else (None, snapshot_id)
        if snapshot is None:
            raise JobNotFound(f"code location {name!r} is not loaded", job_name="", location_name=name,
                              kind="code location", location_loaded=False)
        key = (name, snapshot_id)
    index = LocationIndex(
        name=name,
        snapshot_id=snapshot_id,
        repository_name=str(snapshot.get("repository_name") or "__repository__"),
        jobs={job["name"]: job for job in snapshot.get("jobs") or []},
        snapshot=snapshot,
        op_by_asset={
            node["key_string"]: node["op_name"] for node in snapshot.get("asset_nodes") or [] if node.get("op_name")
        },
    )
    with _locations_lock:
        _locations[key] = index
        while len(_locations) > _CACHED_LOCATIONS:
            _locations.popitem(last=False)
    return index


def _job_index(snap: dict[str, Any], op_by_asset: dict[str, str]) -> JobIndex:
    graph = snap.get("graph") or {"nodes": []}
    names = [node["name"] for node in graph["nodes"]]
    upstream: dict[str, set[str]] = {n: set() for n in names}
    downstream: dict[str, set[str]] = {n: set() for n in names}
    for node in graph["nodes"]:
        for node_input in node.get("inputs") or []:
            for dep in node_input.get("depends_on") or []:
                if dep["node"] in upstream:
                    upstream[node["name"]].add(dep["node"])
                    downstream[dep["node"]].add(node["name"])
    handles: set[str] = set()

    def walk(nodes: list[dict[str, Any]], prefix: str) -> None:
        for node in nodes:
            handle = prefix + node["name"]
            handles.add(handle)
            if node.get("graph"):
                walk(node["graph"]["nodes"], handle + ".")

    walk(graph["nodes"], "")
    asset_keys = frozenset(snap.get("asset_keys") or ())
    return JobIndex(
        name=snap["name"], snapshot=snap, node_names=names, upstream=upstream, downstream=downstream,
        handles=handles, asset_keys=asset_keys, check_keys=frozenset(snap.get("asset_check_keys") or ()),
        op_by_asset={key: op for key, op in op_by_asset.items() if key in asset_keys},
    )


def resolve_target(*, job_name: str, location_name: str | None, repository_name: str | None) -> Target:
    """Find `job_name` in the stored snapshots. Raises JobNotFound; InvalidInput when ambiguous."""
    if not job_name or not isinstance(job_name, str):
        raise InvalidInput(f"job_name must be a non-empty string, got {job_name!r}")
    rows = CodeLocation.objects.all()
    if location_name is not None:
        rows = rows.filter(name=location_name)
    rows = list(rows.values_list("name", "status", "snapshot_id", "origin"))
    if location_name is not None:
        if not rows:
            raise JobNotFound(f"code location {location_name!r} not found", job_name=job_name,
                              location_name=location_name, kind="code location")
        name, status, snapshot_id, _ = rows[0]
        if not _serves_launches(status, snapshot_id):
            raise JobNotFound(
                f"code location {location_name!r} is unavailable: it is not loaded (status {status}); "
                "reload it and submit again",
                job_name=job_name, location_name=location_name, kind="code location", location_loaded=False,
            )
    found = []
    for name, status, snapshot_id, origin in rows:
        if not _serves_launches(status, snapshot_id):
            continue
        index = _location_index(name, snapshot_id)
        if repository_name is not None and repository_name != index.repository_name:
            continue
        job = index.job(job_name)
        if job is not None:
            found.append(Target(name, index.repository_name, index.snapshot_id, _run_origin(origin), job))
    where = f" in code location {location_name!r}" if location_name is not None else " in any loaded code location"
    if repository_name is not None:
        where += f" (repository {repository_name!r})"
    if not found:
        kind = "job"
        if repository_name is not None and not any(
            _location_index(name, snapshot_id).repository_name == repository_name
            for name, status, snapshot_id, _ in rows if _serves_launches(status, snapshot_id)
        ):
            kind = "repository"
        raise JobNotFound(f"job {job_name!r} not found{where}", job_name=job_name, location_name=location_name,
                          kind=kind)
    if len(found) > 1:
        raise InvalidInput(
            f"job {job_name!r} is defined in several code locations ({', '.join(t.location_name for t in found)}); "
            "name the location"
        )
    return found[0]


def _serves_launches(status: str, snapshot_id: str | None) -> bool:
    """Whether launches validate against the location's stored snapshot: LOADED, or LOADING with the last
    good snapshot kept (a reload, or a workspace restarted with a changed origin), so a location on its way
    back never answers "not found" for a job that exists. An ERROR location keeps no snapshot."""
    return bool(snapshot_id) and status in (LocationStatus.LOADED, LocationStatus.LOADING)


def _run_origin(origin: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k: origin[k] for k in RUN_ORIGIN_KEYS if (origin or {}).get(k) is not None}


# --- selections -------------------------------------------------------------------------------------

_CLAUSE = re.compile(r"^(\*|\+*)?([^*+]+?)(\*|\+*)?$")


def resolve_op_selection(job: JobIndex, op_selection: Sequence[str]) -> frozenset[str]:
    """The top-level nodes `op_selection` selects, with Dagster's syntax: `name`, `*name`, `name+`,
    `++name`, `*name*`, `*` for every op, and `graph.op` for an op inside a graph (its graph is kept).

    Raises SelectionInvalid when a clause selects nothing, as Dagster rejects the whole selection.
    """
    clauses = _strings("op_selection", op_selection)
    selected: set[str] = set()
    for clause in clauses:
        text = clause.strip()
        if text == "*":
            selected.update(job.node_names)
            continue
        match = _CLAUSE.match(text)
        name = match.group(2).strip() if match else ""
        if match and "." in name:
            if match.group(1) or match.group(3):
                raise SelectionInvalid(f"op_selection clause {clause!r}: '*' and '+' apply to top-level ops only")
            if name not in job.handles:
                raise SelectionInvalid(
                    f"op_selection clause {clause!r}: no node {name!r} in job {job.name!r}"
                )
            selected.add(name.split(".", 1)[0])
            continue
        if not match or name not in job.upstream:
            raise SelectionInvalid(
                f"No qualified ops to execute found for op_selection={list(clauses)}: {clause!r} names no op of "
                f"job {job.name!r} (ops: {', '.join(job.node_names[:20])}{', ...' if len(job.node_names) > 20 else ''})"
            )
        selected.add(name)
        for part, edges in ((match.group(1) or "", job.upstream), (match.group(3) or "", job.downstream)):
            depth = None if part == "*" else len(part)
            frontier, seen, level = {name}, {name}, 0
            while frontier and (depth is None or level < depth):
                frontier = {n for f in frontier for n in edges[f]} - seen
                seen |= frontier
                level += 1
            selected |= seen
    return frozenset(selected)


def resolve_asset_selection(job: JobIndex, asset_selection: Sequence[Any]) -> list[list[str]]:
    """Asset keys ("a/b" or ["a", "b"]) as stored on the run (paths); each must be in the job."""
    keys = [_asset_key_text("asset_selection", key) for key in asset_selection]
    unknown = [key for key in keys if key not in job.asset_keys]
    if unknown:
        raise SelectionInvalid(
            f"asset_selection names assets that job {job.name!r} does not materialize: {unknown}"
            + (f" (its assets: {sorted(job.asset_keys)[:20]})" if job.asset_keys else " (it has no assets)")
        )
    return [key.split("/") for key in dict.fromkeys(keys)]


def resolve_check_selection(job: JobIndex, check_selection: Sequence[Any]) -> list[list[Any]]:
    """Asset checks ("a/b:check") as stored on the run ([path, name]); each must be in the job."""
    keys = []
    for item in check_selection:
        if isinstance(item, str):
            keys.append(item)
        elif isinstance(item, Sequence) and len(item) == 2 and isinstance(item[1], str):
            keys.append(f"{_asset_key_text('asset_check_selection', item[0])}:{item[1]}")
        else:
            raise InvalidInput(f"asset_check_selection entries must be 'asset/key:check_name' strings, got {item!r}")
    malformed = [key for key in keys if ":" not in key]
    if malformed:
        raise InvalidInput(f"asset_check_selection entries must be 'asset/key:check_name', got {malformed}")
    unknown = [key for key in keys if key not in job.check_keys]
    if unknown:
        raise SelectionInvalid(
            f"asset_check_selection names checks that job {job.name!r} does not run: {unknown}"
            + (f" (its checks: {sorted(job.check_keys)[:20]})" if job.check_keys else " (it has no asset checks)")
        )
    out = []
    for key in dict.fromkeys(keys):
        asset, _, name = key.rpartition(":")
        out.append([asset.split("/"), name])
    return out


def check_step_keys(job: JobIndex, step_keys: Sequence[str]) -> list[str]:
    """Step keys are node handles ("op", "graph.op"), a mapped step adds "[mapping_key]"."""
    keys = _strings("step_keys_to_execute", step_keys)
    unknown = [key for key in keys if key.split("[", 1)[0] not in job.handles]
    if unknown:
        raise SelectionInvalid(f"step_keys_to_execute names steps that job {job.name!r} does not have: {unknown}")
    return list(keys)


def asset_selection_nodes(job: JobIndex, asset_paths: Sequence[Sequence[str]]) -> frozenset[str] | None:
    """The top-level nodes an asset selection runs (None when the snapshot cannot tell)."""
    asset_ops = set(job.op_by_asset.values())
    if not asset_ops:
        return None
    selected = {job.op_by_asset.get("/".join(path)) for path in asset_paths}
    if None in selected:
        return None
    # ops that produce no asset of this job (asset checks' ops, plain ops) keep their config
    return frozenset(selected | {name for name in job.node_names if name not in asset_ops})


# --- run config -------------------------------------------------------------------------------------


RUN_CONFIG_MAX_BYTES = 1024 * 1024  # the default of settings.ORCHESTRA_RUN_CONFIG_MAX_BYTES


def _check_run_config_size(job_name: str, run_config: Mapping[str, Any]) -> None:
    """Refuse run config larger (as JSON) than ORCHESTRA_RUN_CONFIG_MAX_BYTES or nested too deeply to encode.

    Every run stores its config and every run worker loads it; a 5 MB config is a mistake or an attack.
    """
    from django.conf import settings

    limit = int(getattr(settings, "ORCHESTRA_RUN_CONFIG_MAX_BYTES", RUN_CONFIG_MAX_BYTES))

    def refuse(message: str) -> RunConfigInvalid:
        return RunConfigInvalid(job_name, [{"message": message, "path": [], "reason": "RUNTIME_TYPE_MISMATCH"}])

    try:
        text = json.dumps(run_config, default=str, ensure_ascii=False)
        size = len(text.encode("utf-8"))
    except RecursionError:
        raise refuse("Run config is nested too deeply to store") from None
    except UnicodeEncodeError:
        raise refuse("Run config holds a string that is not valid Unicode (a lone surrogate)") from None
    if "\\u0000" in text:
        raise refuse("Run config holds a NUL character (\\u0000), which cannot be stored")
    if size > limit:
        raise refuse(f"Run config is {size} bytes as JSON; at most {limit} bytes are allowed "
                     "(ORCHESTRA_RUN_CONFIG_MAX_BYTES)")


def validate_run_config(job: JobIndex, run_config: Any, nodes: frozenset[str] | None = None) -> dict[str, Any]:
    """Check `run_config` against the job's (or the op subset's) schema; answer it as a plain dict.

    Structural validation only, as Dagster's webserver does (`{env: VAR}` is resolved by the run worker,
    where the variables are). Raises RunConfigInvalid with every error.
    """
    from orchestra._config.validate import validate_structure

    if run_config is None:
        run_config = {}
    elif not isinstance(run_config, Mapping) and hasattr(run_config, "to_config_dict"):
        from orchestra._config.run_config import convert_config_input

        run_config = convert_config_input(run_config)
    if not isinstance(run_config, Mapping):
        raise RunConfigInvalid(job.name, [{
            "message": f"Run config must be a mapping, got {type(run_config).__name__}",
            "path": [], "reason": "RUNTIME_TYPE_MISMATCH",
        }])
    run_config = dict(run_config)
    _check_run_config_size(job.name, run_config)
    result = validate_structure(job.config_field(nodes), run_config)
    if not result.success:
        raise RunConfigInvalid(job.name, [error.to_dict() for error in result.errors])
    return run_config


def _subset_schema(full: Any, nodes: frozenset[str]) -> Any:
    """The job's schema with `ops` limited to the selected top-level nodes (Dagster validates a subset
    run against the subset job's schema: config for other ops is not expected, nor required)."""
    from orchestra._config.field import Field
    from orchestra._config.types import ConfigTypeKind, Shape

    root = full.config_type
    ops = root.fields.get("ops") if ConfigTypeKind.has_fields(root.kind) else None
    if ops is None or not ConfigTypeKind.has_fields(ops.config_type.kind):
        return full
    kept = {name: fld for name, fld in ops.config_type.fields.items() if name in nodes}
    fields = dict(root.fields)
    fields["ops"] = Field(Shape(kept), description=ops.description)
    return Field(Shape(fields, description=root.description, field_aliases=getattr(root, "field_aliases", None)))


def _strings(what: str, values: Any) -> list[str]:
    if isinstance(values, str) or not isinstance(values, Sequence) or not all(isinstance(v, str) for v in values):
        raise InvalidInput(f"{what} must be a list of strings, got {values!r}")
    return list(values)


def _asset_key_text(what: str, key: Any) -> str:
    if isinstance(key, str) and key:
        return key
    if isinstance(key, Mapping) and "path" in key:
        key = key["path"]
    if isinstance(key, Sequence) and not isinstance(key, str) and key and all(isinstance(p, str) for p in key):
        return "/".join(key)
    raise InvalidInput(f"{what} entries must be asset key strings like 'a/b', got {key!r}")


def clear_cache() -> None:
    """Forget every cached location index (tests; a process never needs it: ids change on reload)."""
    with _locations_lock:
        _locations.clear()
