"""`RepositoryDefinition`: a validated, named set of definitions (what `Definitions` compiles to), and `@repository`."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from orchestra._core.definitions_class.asset_job import (
    IMPLICIT_ASSET_JOB_NAME,
    is_reserved_asset_job_name,
)
from orchestra._core.definitions_class.repository_data import (
    RepositoryData,
    _kind,
    build_repository_data,
    job_not_found,
    resolve_asset_job,
)
from orchestra._errors import DagsterInvalidDefinitionError, DagsterInvalidSubsetError

SINGLETON_REPOSITORY_NAME = "__repository__"


class RepositoryDefinition:
    """A named set of jobs, schedules, sensors, assets and resources (the legacy container).

    Every `Definitions` compiles to one, named `__repository__`; see `Definitions.get_repository_def()`.

    Example:
        >>> repo = defs.get_repository_def()
        >>> repo.job_names
        ['__ASSET_JOB', 'nightly']
        >>> repo.get_job("nightly").execute_in_process().success
        True
    """

    def __init__(self, name: str, *, repository_data: RepositoryData, description: str | None = None,
                 metadata: Mapping[str, Any] | None = None, repository_load_data: Any = None):
        from orchestra._core.automation.target import check_valid_name

        self._name = name if name == SINGLETON_REPOSITORY_NAME else check_valid_name(name)
        self._data = repository_data
        self._description = description
        self._metadata = dict(metadata or {})

    @property
    def name(self) -> str:
        return self._name

    @property
    def description(self) -> str | None:
        return self._description

    @property
    def metadata(self) -> dict[str, Any]:
        return self._metadata

    # --- jobs -------------------------------------------------------------------------------------

    @property
    def job_names(self) -> list[str]:
        return self._data.job_names()

    def has_job(self, name: str) -> bool:
        return self._data.has_job(name)

    def get_job(self, name: str) -> Any:
        """The `JobDefinition` called `name` (asset jobs are resolved here, on first use)."""
        return self._data.get_job(name)

    def get_all_jobs(self) -> list[Any]:
        return self._data.get_all_jobs()

    def get_maybe_subset_job_def(self, job_name: str, op_selection: Any = None, asset_selection: Any = None,
                                 asset_check_selection: Any = None) -> Any:
        """The job, or the part of it a run executes: ops by `op_selection` clauses, or (for asset jobs) the
        given asset keys and check keys (checks default to those on the selected assets)."""
        job = self.get_job(job_name)
        if op_selection:
            return job.get_subset(op_selection=list(op_selection))
        if asset_selection is None and asset_check_selection is None:
            return job
        unresolved = self._data.unresolved_jobs.get(job_name)
        if unresolved is None:
            raise DagsterInvalidSubsetError(f"Job '{job_name}' has no assets; it cannot run an asset selection.")
        return resolve_asset_job(
            unresolved, self._data, asset_keys=asset_selection if asset_selection is not None else (),
            check_keys=asset_check_selection,
        )

    def has_implicit_global_asset_job_def(self) -> bool:
        return self._data.has_job(IMPLICIT_ASSET_JOB_NAME)

    def get_implicit_global_asset_job_def(self) -> Any:
        return self.get_job(IMPLICIT_ASSET_JOB_NAME)

    def get_implicit_asset_job_names(self) -> list[str]:
        return [n for n in self.job_names if is_reserved_asset_job_name(n)]

    def get_implicit_job_def_for_assets(self, asset_keys: Iterable[Any]) -> Any:
        return self.get_implicit_global_asset_job_def() if self.has_implicit_global_asset_job_def() else None

    # --- schedules and sensors ------------------------------------------------------------------------

    @property
    def schedule_defs(self) -> list[Any]:
        return list(self._data.schedules.values())

    @property
    def sensor_defs(self) -> list[Any]:
        return list(self._data.sensors.values())

    def has_schedule_def(self, name: str) -> bool:
        return name in self._data.schedules

    def has_sensor_def(self, name: str) -> bool:
        return name in self._data.sensors

    def get_schedule_def(self, name: str) -> Any:
        if name not in self._data.schedules:
            raise job_not_found("schedule", name, list(self._data.schedules))
        return self._data.schedules[name]

    def get_sensor_def(self, name: str) -> Any:
        if name not in self._data.sensors:
            raise job_not_found("sensor", name, list(self._data.sensors))
        return self._data.sensors[name]

    # --- assets and resources --------------------------------------------------------------------------

    @property
    def assets_defs_by_key(self) -> dict[Any, Any]:
        return self._data.assets_defs_by_key

    @property
    def source_assets_by_key(self) -> dict[Any, Any]:
        return self._data.source_assets_by_key

    @property
    def asset_checks_defs_by_key(self) -> dict[Any, Any]:
        return self._data.asset_checks_defs_by_key

    @property
    def selection_graph(self) -> Any:
        """The `SelectionGraph` of every asset and check here (what `AssetSelection.resolve` takes)."""
        return self._data.selection_graph

    @property
    def asset_graph(self) -> Any:
        """The assets area's `AssetGraph` of this repository (None without assets)."""
        return self._data.asset_graph

    def get_top_level_resources(self) -> dict[str, Any]:
        return dict(self._data.top_level_resources)

    @property
    def repository_data(self) -> RepositoryData:
        return self._data

    def load_all_definitions(self) -> None:
        """Resolve every lazily built job now (surfacing their errors)."""
        self._data.get_all_jobs()

    def validate_loadable(self) -> None:
        self.load_all_definitions()

    def __repr__(self) -> str:
        return f"<RepositoryDefinition {self._name}>"


# --- @repository -------------------------------------------------------------------------------------

_VALID_DICT_KEYS = ("jobs", "schedules", "sensors")


def _from_dict(repo_name: str, content: dict[str, Any]) -> list[Any]:
    unknown = [k for k in content if k not in _VALID_DICT_KEYS]
    if unknown:
        raise DagsterInvalidDefinitionError(
            "Bad dict: must not contain keys other than {'jobs', 'schedules', 'sensors'}: found "
            + ", ".join(f"'{k}'" for k in unknown)
        )
    both = set(content.get("schedules", {})) & set(content.get("sensors", {}))
    if both:
        raise DagsterInvalidDefinitionError(
            f"Duplicate definitions between schedules and sensors found for keys: {', '.join(sorted(both))}"
        )
    items: list[Any] = []
    for key, value in content.get("jobs", {}).items():
        if inspect.isfunction(value):
            value = value()
        if getattr(value, "name", key) != key:
            raise DagsterInvalidDefinitionError(
                f"Bad constructor for job '{key}': name in JobDefinition does not match: got '{value.name}'"
            )
        items.append(value)
    items.extend(content.get("schedules", {}).values())
    items.extend(content.get("sensors", {}).values())
    return items


def repository(
    definitions_fn: Callable[[], Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    default_executor_def: Any = None,
    default_logger_defs: Mapping[str, Any] | None = None,
    _top_level_resources: Mapping[str, Any] | None = None,
    _component_tree: Any = None,
) -> Any:
    """Build a `RepositoryDefinition` from a function returning a list (or a `{"jobs": ...}` dict) of definitions.

    Example:
        >>> @repository
        ... def analytics():
        ...     return [nightly_job, nightly_schedule]
    """

    def decorate(fn: Callable[[], Any]) -> RepositoryDefinition:
        repo_name = name or fn.__name__
        content = fn()
        if isinstance(content, dict):
            items = _from_dict(repo_name, content)
        elif isinstance(content, (list, tuple)):
            items = list(content)
            for index, item in enumerate(items):
                if not _kind(item):
                    raise DagsterInvalidDefinitionError(
                        "Bad return value from repository construction function: all elements of list must be of "
                        "type JobDefinition, GraphDefinition, ScheduleDefinition, SensorDefinition, "
                        f"AssetsDefinition, SourceAsset, or AssetChecksDefinition.Got value of type {type(item)} at "
                        f"index {index}."
                    )
        else:
            raise DagsterInvalidDefinitionError(
                f"Bad return value of type {type(content)} from repository construction function: must return list, dict, or "
                "RepositoryData."
            )
        data = build_repository_data(
            items, default_executor_def=default_executor_def, default_logger_defs=default_logger_defs,
            top_level_resources=_top_level_resources,
        )
        return RepositoryDefinition(repo_name, repository_data=data, description=description or inspect.getdoc(fn),
                                    metadata=metadata)

    if definitions_fn is not None:
        return decorate(definitions_fn)
    return decorate
