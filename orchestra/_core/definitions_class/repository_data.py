"""`RepositoryData`: the validated contents of a repository, and `build_repository_data`, which applies
Dagster's rules (duplicate names and keys, reserved names, schedule/sensor targets, asset resources).

Jobs named by asset selections, and the implicit asset job `__ASSET_JOB`, are resolved lazily on
first use, so loading a location with many asset jobs stays linear in the number of assets.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from orchestra._core.definitions_class.asset_job import (
    IMPLICIT_ASSET_JOB_NAME,
    UnresolvedAssetJobDefinition,
    build_asset_job,
    is_reserved_asset_job_name,
)
from orchestra._errors import DagsterInvalidDefinitionError, DagsterInvariantViolationError


def _job_classes() -> tuple[type, type]:
    from orchestra._core.definitions.graph import GraphDefinition
    from orchestra._core.definitions.job import JobDefinition

    return JobDefinition, GraphDefinition


def _schedule_class() -> type:
    from orchestra._core.automation.schedule import ScheduleDefinition

    return ScheduleDefinition


def _is_sensor(obj: Any) -> bool:
    # Only a class whose module was imported can have instances: a location without sensors does not
    # import them (their module and their contexts) just to find that it has none.
    module = sys.modules.get("orchestra._core.automation.sensor")
    return module is not None and isinstance(obj, module.SensorDefinition)


_KIND_CLASSES: tuple[type, ...] = ()


def _kind_classes() -> tuple[type, ...]:
    global _KIND_CLASSES
    if not _KIND_CLASSES:
        from orchestra._core.assets.definition import AssetsDefinition

        _KIND_CLASSES = (AssetsDefinition, *_job_classes(), _schedule_class())
    return _KIND_CLASSES


def _kind(obj: Any) -> str:
    """Which repository section an object belongs to ('' when none)."""
    assets_class, job_class, graph_class, schedule_class = _kind_classes()
    if type(obj) is assets_class:  # the common case, thousands per location
        # `keys` is not empty (read without building it: `_kind` runs several times per definition)
        if not obj._selected_asset_keys.isdisjoint(obj._specs_by_key):
            return "assets"
        return "checks" if obj.check_keys else "assets"
    if isinstance(obj, job_class):
        return "job"
    if isinstance(obj, graph_class):
        return "graph"
    if isinstance(obj, UnresolvedAssetJobDefinition):
        return "unresolved_job"
    if _is_sensor(obj):
        return "sensor"
    if isinstance(obj, schedule_class):
        return "schedule"
    name = type(obj).__name__
    if name == "UnresolvedPartitionedAssetScheduleDefinition":  # becomes a schedule once its job resolves
        return "schedule"
    if name == "SourceAsset":
        return "source_asset"
    if name == "AssetSpec":
        return "spec"
    if hasattr(obj, "specs") and hasattr(obj, "check_keys"):
        return "checks" if not obj.keys and obj.check_keys else "assets"
    return ""


def job_not_found(kind: str, name: str, names: Iterable[str]) -> DagsterInvariantViolationError:
    found = ", ".join(f"'{n}'" for n in names)
    return DagsterInvariantViolationError(f"Could not find {kind} '{name}'. Found: {found}.")


class RepositoryData:
    """The validated contents of a repository; jobs may be held as zero-argument builders until used."""

    def __init__(self, *, jobs: dict[str, Any], schedules: dict[str, Any], sensors: dict[str, Any],
                 assets_defs: list[Any], source_assets: list[Any], asset_checks_defs: list[Any],
                 top_level_resources: Mapping[str, Any] | None = None, default_executor_def: Any = None,
                 default_logger_defs: Mapping[str, Any] | None = None):
        from orchestra._core.selection.graph import SelectionGraph

        self._jobs = jobs
        self.schedules = schedules
        self.sensors = sensors
        self.assets_defs = assets_defs
        self.source_assets = source_assets
        self.asset_checks_defs = asset_checks_defs
        self.top_level_resources = dict(top_level_resources or {})
        self.default_executor_def = default_executor_def
        self.default_logger_defs = dict(default_logger_defs or {})
        self.unresolved_jobs: dict[str, UnresolvedAssetJobDefinition] = {}  # asset jobs by name, as defined
        if assets_defs or source_assets or asset_checks_defs:
            from orchestra._core.assets.graph import build_asset_graph, check_loaded_inputs_exist

            self.asset_graph: Any = build_asset_graph([*assets_defs, *source_assets], asset_checks_defs)
            check_loaded_inputs_exist(self.asset_graph)
            self.selection_graph = SelectionGraph.from_asset_graph(self.asset_graph)
        else:  # job-only code locations never import the assets area
            self.asset_graph = None
            self.selection_graph = SelectionGraph([])
        self.source_assets_by_key = {sa.key: sa for sa in source_assets}
        self.asset_checks_defs_by_key = {key: cd for cd in asset_checks_defs for key in cd.check_keys}

    @functools.cached_property
    def assets_defs_by_key(self) -> dict[Any, Any]:
        """Each asset key's definition, as given (made when first asked: loading a location never does)."""
        return {key: ad for ad in self.assets_defs for key in ad.keys}

    def job_names(self) -> list[str]:
        return list(self._jobs)  # insertion order, as Dagster lists them

    def has_job(self, name: str) -> bool:
        return name in self._jobs

    def get_job(self, name: str) -> Any:
        if name not in self._jobs:
            raise job_not_found("job", name, list(self._jobs))
        job = self._jobs[name]
        if callable(job) and not hasattr(job, "graph"):
            job = job()
            self._jobs[name] = job
        return job

    def get_all_jobs(self) -> list[Any]:
        from orchestra._core.gc_pause import collection_paused

        with collection_paused():  # resolving every asset job builds large, long-lived graphs and plans
            return [self.get_job(name) for name in self.job_names()]


# --- building and validation -----------------------------------------------------------------------


def _executor_is_default(job: Any) -> bool:
    from orchestra._core.definitions.executor import multi_or_in_process_executor

    return job.executor_def is multi_or_in_process_executor


def _finish_job(job: Any, executor_def: Any, logger_defs: Mapping[str, Any] | None) -> Any:
    """Check the job's resources, then give it the repository's executor and loggers where it has none."""
    job.validate_resource_requirements_satisfied()
    changes: dict[str, Any] = {}
    if executor_def is not None and _executor_is_default(job):
        changes["executor_def"] = executor_def
    if logger_defs and not job.logger_defs:
        changes["logger_defs"] = dict(logger_defs)
    return job._copy(**changes) if changes else job


def _target_conflict(instigator: str, target_type: str, name: str, dupe_type: str) -> str:
    return (
        f"{instigator} targets {target_type} '{name}', but a different {dupe_type} with the same name was provided. "
        "Disambiguate between these by providing a separate name to one of them."
    )


def build_repository_data(
    definitions: Iterable[Any],
    *,
    default_executor_def: Any = None,
    default_logger_defs: Mapping[str, Any] | None = None,
    top_level_resources: Mapping[str, Any] | None = None,
) -> RepositoryData:
    """Validate a flat list of definitions into `RepositoryData` (Dagster's rules and messages)."""
    jobs: dict[str, Any] = {}
    unresolved: dict[str, UnresolvedAssetJobDefinition] = {}
    schedules: dict[str, Any] = {}
    sensors: dict[str, Any] = {}
    assets_defs: list[Any] = []
    source_assets: list[Any] = []
    checks_defs: list[Any] = []
    asset_keys: set[Any] = set()
    check_keys: set[Any] = set()
    instigator_names: set[str] = set()

    assets_class = _kind_classes()[0]
    for definition in definitions:
        # an AssetsDefinition with keys is "assets", as `_kind` says (asked here without a call for each)
        if type(definition) is assets_class and not definition._selected_asset_keys.isdisjoint(definition._specs_by_key):
            kind = "assets"
        else:
            kind = _kind(definition)
        if kind == "assets":  # (first: thousands per location)
            if type(definition) is assets_class:  # an AssetsDefinition: its kept sets, only read here
                own_keys, own_checks = definition._key_set(), definition._check_key_set()
            else:
                own_keys, own_checks = definition.keys, definition.check_keys  # each a fresh set: read once
            if not asset_keys.isdisjoint(own_keys):  # (the loop only to name the first one)
                for key in own_keys:
                    if key in asset_keys:
                        raise DagsterInvalidDefinitionError(f"Duplicate asset key: {key}")
            if own_checks:  # most assets have none
                for key in own_checks:
                    if key in check_keys:
                        raise DagsterInvalidDefinitionError(f"Duplicate asset check key: {key}")
                check_keys.update(own_checks)
            asset_keys.update(own_keys)
            assets_defs.append(definition)
        elif kind == "job":
            if (definition.name in jobs and jobs[definition.name] is not definition) or definition.name in unresolved:
                raise DagsterInvalidDefinitionError(f"Duplicate job definition found for job '{definition.name}'")
            if is_reserved_asset_job_name(definition.name):
                raise DagsterInvalidDefinitionError(
                    f"Attempted to provide job called {definition.name} to repository, which is a reserved name. "
                    "Please rename the job."
                )
            jobs[definition.name] = definition
        elif kind == "graph":
            job = definition.to_job()
            if job.name in jobs:
                raise DagsterInvalidDefinitionError(f"Duplicate job definition found for graph '{job.name}'")
            jobs[job.name] = job
        elif kind == "unresolved_job":
            if definition.name in jobs or definition.name in unresolved:
                raise DagsterInvalidDefinitionError(
                    f"Duplicate definition found for unresolved job '{definition.name}'"
                )
            unresolved[definition.name] = definition
        elif kind in ("sensor", "schedule"):
            if definition.name in instigator_names:
                raise DagsterInvalidDefinitionError(f"Duplicate definition found for {definition.name}")
            instigator_names.add(definition.name)
            (sensors if kind == "sensor" else schedules)[definition.name] = definition
        elif kind == "checks":
            for key in definition.check_keys:
                if key in check_keys:
                    raise DagsterInvalidDefinitionError(f"Duplicate asset check key: {key}")
            check_keys.update(definition.check_keys)
            checks_defs.append(definition)
        elif kind == "source_asset":
            source_assets.append(definition)
            asset_keys.add(definition.key)
        else:
            raise DagsterInvalidDefinitionError(f"Unexpected repository entry {definition!r}")

    for sensor in sensors.values():
        for target in sensor.targets:
            _add_target(f"sensor '{sensor.name}'", target, jobs, unresolved)
    for schedule in schedules.values():
        _add_target(f"schedule '{schedule.name}'", schedule.target, jobs, unresolved)

    graph_source = [*assets_defs, *source_assets, *checks_defs]
    top_level = top_level_resources or {}
    # what the top level provides and needs, worked out once rather than once per asset
    top_provided = {"io_manager", *top_level}
    top_needed: set[str] = set()
    for resource_def in top_level.values():
        top_needed |= set(getattr(resource_def, "required_resource_keys", ()) or ())
    top_covered = top_needed <= top_provided
    for definition in [*assets_defs, *checks_defs]:
        if type(definition) is _KIND_CLASSES[0]:  # an AssetsDefinition: read without copies
            needs = None if definition._resource_defs else definition._derived(
                "required_resource_keys", definition._required_resource_keys)
        else:
            needs = None if getattr(definition, "resource_defs", None) else getattr(definition, "required_resource_keys", None)
        if needs is not None and top_covered and needs <= top_provided:
            continue  # no resources of its own, and all it needs is provided: the check would find nothing
        _check_asset_resources(definition, top_level)
    resolved: dict[str, Any] = {
        name: _finish_job(job, default_executor_def, default_logger_defs) for name, job in jobs.items()
    }
    data = RepositoryData(
        jobs=resolved, schedules=schedules, sensors=sensors, assets_defs=assets_defs, source_assets=source_assets,
        asset_checks_defs=checks_defs, top_level_resources=top_level_resources,
        default_executor_def=default_executor_def, default_logger_defs=default_logger_defs,
    )
    if graph_source:
        from orchestra._core.selection.asset_selection import AssetSelection

        # every executable asset: materializable ones and observable source assets, as in Dagster
        implicit = UnresolvedAssetJobDefinition(IMPLICIT_ASSET_JOB_NAME, selection=AssetSelection.all(include_sources=True))
        data.unresolved_jobs[IMPLICIT_ASSET_JOB_NAME] = implicit
        resolved[IMPLICIT_ASSET_JOB_NAME] = _lazy_job(implicit, data)
    for name, job in unresolved.items():
        data.unresolved_jobs[name] = job
        resolved[name] = _lazy_job(job, data)

    for kind, instigators in (("ScheduleDefinition", schedules), ("SensorDefinition", sensors)):
        for instigator in instigators.values():
            targets = [instigator.target] if kind == "ScheduleDefinition" else list(instigator.targets)
            for target in targets:
                if target.job_name not in resolved:
                    raise DagsterInvalidDefinitionError(
                        f'{kind} "{instigator.name}" targets job "{target.job_name}" which was not found in this '
                        "repository."
                    )
    for name, schedule in schedules.items():  # partitioned schedules whose cadence comes from their assets
        if type(schedule).__name__ == "UnresolvedPartitionedAssetScheduleDefinition":
            schedules[name] = schedule.resolve(data.get_job(schedule.job_name))
    return data


def _op_needing(node_def: Any, key: str) -> str:
    ops = list(node_def.iterate_op_defs()) if hasattr(node_def, "iterate_op_defs") else [node_def]
    for op_def in ops:
        needed = set(getattr(op_def, "required_resource_keys", ()) or ())
        needed |= {o.io_manager_key for o in getattr(op_def, "output_defs", ())}
        if key in needed:
            return op_def.name
    return node_def.name


def _check_asset_resources(assets_def: Any, top_level: Mapping[str, Any]) -> None:
    """An asset's resources must come from itself or the top level (Dagster checks this when loading)."""
    if not getattr(assets_def, "is_executable", True):
        return  # external assets run nothing, so need no resources
    node_def = getattr(assets_def, "node_def", None)
    if node_def is None:
        return
    own = dict(getattr(assets_def, "resource_defs", None) or {})
    provided = {"io_manager", *own, *top_level}
    needed = set(assets_def.required_resource_keys)
    for resource_def in [*own.values(), *top_level.values()]:
        needed |= set(getattr(resource_def, "required_resource_keys", ()) or ())
    for key in sorted(needed - provided):
        others = [k for k in [*own, *top_level] if k != "io_manager"]
        raise DagsterInvalidDefinitionError(
            f"resource with key '{key}' required by op '{_op_needing(node_def, key)}' was not provided. Please "
            f"provide a ResourceDefinition to key '{key}', or change the required key to one of the following keys "
            f"which points to an ResourceDefinition: {['io_manager', *dict.fromkeys(others)]}"
        )


def _add_target(instigator: str, target: Any, jobs: dict[str, Any], unresolved: dict[str, Any]) -> None:
    job = getattr(target, "job", None)
    if job is None:
        return
    if isinstance(job, UnresolvedAssetJobDefinition):
        if job.name in jobs:
            raise DagsterInvalidDefinitionError(_target_conflict(instigator, "unresolved asset job", job.name, "job"))
        existing = unresolved.get(job.name)
        if existing is not None and existing is not job and existing.selection != job.selection:
            raise DagsterInvalidDefinitionError(
                _target_conflict(instigator, "unresolved asset job", job.name, "unresolved asset job")
            )
        unresolved[job.name] = job
        return
    if _kind(job) == "graph":
        job = job.to_job()
    existing = jobs.get(job.name)
    if existing is not None and existing is not job and existing.graph is not job.graph:
        dupe = "unresolved asset job" if job.name in unresolved else "job"
        raise DagsterInvalidDefinitionError(_target_conflict(instigator, "job", job.name, dupe))
    if job.name in unresolved:
        raise DagsterInvalidDefinitionError(_target_conflict(instigator, "job", job.name, "unresolved asset job"))
    if existing is None:
        jobs[job.name] = job


def resolve_asset_job(unresolved: UnresolvedAssetJobDefinition, data: RepositoryData, asset_keys: Any = None,
                      check_keys: Any = None) -> Any:
    """The `JobDefinition` of an asset job, optionally for a subset of its assets and checks."""
    if asset_keys is None and check_keys is None:
        job = unresolved.resolve(
            data.selection_graph, default_executor_def=data.default_executor_def, resource_defs=data.top_level_resources,
        )
    else:
        job = build_asset_job(
            name=unresolved.name, graph=data.selection_graph, asset_keys=set(asset_keys or ()),
            check_keys=None if check_keys is None else set(check_keys), config=unresolved.config,
            description=unresolved.description, tags=unresolved.tags, run_tags=unresolved.run_tags,
            metadata=unresolved.metadata, partitions_def=unresolved.partitions_def,
            executor_def=unresolved.executor_def or data.default_executor_def, hooks=unresolved.hooks,
            op_retry_policy=unresolved.op_retry_policy, resource_defs=data.top_level_resources, owners=unresolved.owners,
        )
    return _finish_job(job, data.default_executor_def, data.default_logger_defs)


def _lazy_job(unresolved: UnresolvedAssetJobDefinition, data: RepositoryData) -> Callable[[], Any]:
    def resolve() -> Any:
        if unresolved.name == IMPLICIT_ASSET_JOB_NAME:  # Dagster reports its errors as they are
            return resolve_asset_job(unresolved, data)
        try:
            job = unresolved.resolve(
                data.selection_graph, default_executor_def=data.default_executor_def,
                resource_defs=data.top_level_resources,
            )
        except DagsterInvalidDefinitionError as exc:
            if str(exc).startswith("resource with key"):  # Dagster reports missing resources as they are
                raise
            raise DagsterInvalidDefinitionError(f"Failed to resolve asset job {unresolved.name}") from exc
        except Exception as exc:
            raise DagsterInvalidDefinitionError(f"Failed to resolve asset job {unresolved.name}") from exc
        return _finish_job(job, data.default_executor_def, data.default_logger_defs)

    return resolve
