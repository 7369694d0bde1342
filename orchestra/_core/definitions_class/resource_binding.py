"""Giving resources to definitions: `with_resources` for assets, and binding a `Definitions`' top-level
resources to the jobs (and schedule/sensor target jobs) that need them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from orchestra._core.definitions_class.asset_job import UnresolvedAssetJobDefinition
from orchestra._core.definitions_class.repository_data import _kind
from orchestra._errors import DagsterInvalidInvocationError


def _dedupe(items: Iterable[Any] | None) -> list[Any]:
    """Items in order with repeats of the same object dropped."""
    listed = list(items or ())
    if len(set(map(id, listed))) == len(listed):  # no repeats (the usual case), seen without a Python loop
        return listed
    seen: dict[int, Any] = {}
    for item in listed:
        seen.setdefault(id(item), item)
    return list(seen.values())


def _required_resource_keys(job: Any) -> set[str]:
    keys = set(job.graph.required_resource_keys)
    for resource_def in job.resource_defs.values():
        keys |= set(getattr(resource_def, "required_resource_keys", ()) or ())
    return keys


def _needs_top_level_resources(job: Any, resource_defs: Mapping[str, Any]) -> bool:
    missing = _required_resource_keys(job) - set(job.resource_defs)
    replaces_io_manager = "io_manager" in resource_defs and not getattr(job, "_user_io_manager", True)
    return bool(missing) or replaces_io_manager


def bind_top_level_resources(jobs: list[Any], schedules: list[Any], sensors: list[Any],
                             resource_defs: Mapping[str, Any]) -> tuple[list[Any], list[Any], list[Any]]:
    """Give top-level resources to the jobs (and schedule/sensor target jobs) that need them."""
    from orchestra._core.definitions.job import JobDefinition

    # jobs reached only through a schedule or sensor join the job list, as in Dagster
    jobs = _dedupe([
        *jobs,
        *(s.target.job for s in schedules if s.target.has_job_def and _kind(s.target.job) in ("job", "unresolved_job")),
        *(t.job for s in sensors for t in s.targets if t.has_job_def and _kind(t.job) in ("job", "unresolved_job")),
    ])
    if not resource_defs:
        return jobs, schedules, sensors
    bound: dict[int, Any] = {}

    def rebind(job: Any) -> Any:
        if not isinstance(job, JobDefinition):
            return job
        if id(job) not in bound:
            bound[id(job)] = job.with_top_level_resources(dict(resource_defs)) if _needs_top_level_resources(job, resource_defs) else job
        return bound[id(job)]

    new_jobs = [rebind(job) for job in jobs]
    new_schedules = []
    for schedule in schedules:
        job = schedule.target.job if schedule.target.has_job_def else None
        new_job = rebind(job) if job is not None else None
        new_schedules.append(schedule.with_updated_job(new_job) if new_job is not job else schedule)
    new_sensors = []
    for sensor in sensors:
        old = [t.job for t in sensor.targets if t.has_job_def]
        new = [rebind(j) for j in old]
        changed = any(a is not b for a, b in zip(old, new, strict=True))
        new_sensors.append(sensor.with_updated_jobs(new) if changed else sensor)
    return new_jobs, new_schedules, new_sensors


def with_resources(definitions: Iterable[Any], resource_defs: Mapping[str, Any],
                   resource_config_by_key: Mapping[str, Any] | None = None) -> list[Any]:
    """Copies of asset definitions (and source assets) with `resource_defs` provided to them.

    Resources an asset already carries win over the ones given here. `resource_config_by_key`
    configures resources by key (`{"db": {"config": {...}}}`).

    Example:
        >>> [orders_with_db] = with_resources([orders], {"db": Database(url="sqlite://")})
    """
    from orchestra._core.resources.initialization import coerce_to_resource_definitions

    resource_defs = coerce_to_resource_definitions(dict(resource_defs or {}))
    for key, config in (resource_config_by_key or {}).items():
        if key not in resource_defs:
            continue  # as in Dagster, config for a resource nobody provides is ignored
        if not isinstance(config, Mapping) or "config" not in config:
            raise DagsterInvalidInvocationError(
                f"Error with config for resource key '{key}': Expected a dictionary of the form {{'config': ...}}, "
                f"but received {config!r}"
            )
        resource_defs[key] = resource_defs[key].configured(config["config"])
    if not resource_defs:
        return list(definitions)
    result = []
    for definition in definitions:
        _check_no_conflicts(definition, resource_defs)
        bind = getattr(definition, "with_resources", None)
        result.append(bind(resource_defs) if callable(bind) and not isinstance(definition, UnresolvedAssetJobDefinition) else definition)
    return result


def _check_no_conflicts(definition: Any, resource_defs: Mapping[str, Any]) -> None:
    """Resources an asset brings may not be given again under the same key (Dagster refuses both)."""
    own = getattr(definition, "resource_defs", None)
    if not isinstance(own, Mapping) or _kind(definition) not in ("assets", "checks", "source_asset"):
        return
    clashes = sorted(k for k, v in own.items() if k in resource_defs and resource_defs[k] is not v)
    if clashes:
        keys = [k.to_user_string() for k in sorted(getattr(definition, "keys", None) or [definition.key])]
        shown = ", ".join(f'"{k}"' for k in keys)
        raise DagsterInvalidInvocationError(
            f"AssetsDefinition with key [{shown}] has conflicting resource definitions with provided resources for "
            f"the following keys: {', '.join(clashes)}. Either remove the existing resources from the asset or change "
            "the resource keys so that they don't overlap."
        )
