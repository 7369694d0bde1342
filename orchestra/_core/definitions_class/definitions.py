"""`Definitions`: the container a code location exposes, compiled lazily into a `RepositoryDefinition`."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from typing import Any

from orchestra._core.definitions_class.repository import SINGLETON_REPOSITORY_NAME, RepositoryDefinition
from orchestra._core.definitions_class.repository_data import _kind, build_repository_data
from orchestra._core.definitions_class.resource_binding import (
    _dedupe,
    bind_top_level_resources,
    with_resources,
)
from orchestra._errors import DagsterInvalidDefinitionError, DagsterInvariantViolationError


def _check_members(param: str, items: Any, kinds: tuple[str, ...], expected: str) -> list[Any] | None:
    if items is None:
        return None
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Iterable):
        raise DagsterInvalidDefinitionError(
            f'Param "{param}" is not a Iterable. Got {items!r} which is type {type(items)}.'
        )
    items = list(items)
    for item in items:
        if _kind(item) not in kinds:
            raise DagsterInvalidDefinitionError(
                f"Member of iterable mismatches type. Expected {expected}. Got {item!r} of type {type(item)}."
            )
    return items


def _specs_to_assets(assets: list[Any]) -> list[Any]:
    """AssetSpecs on their own become external (unexecutable) AssetsDefinitions."""
    if not any(type(obj).__name__ == "AssetSpec" and _kind(obj) == "spec" for obj in assets):  # (the name first: cheap)
        return assets
    from orchestra._core.assets.graph import external_assets_def

    seen: dict[Any, Any] = {}
    result = []
    for obj in assets:
        if _kind(obj) != "spec":
            result.append(obj)
            continue
        earlier = seen.get(obj.key)
        if earlier is not None:  # the same spec twice is one asset; two different ones conflict
            if earlier != obj:
                raise DagsterInvalidDefinitionError(
                    f"Received conflicting AssetSpecs with the same key:\n{earlier!r}\n{obj!r}\n"
                    "This warning will become an exception in version 1.11"
                )
            continue
        seen[obj.key] = obj
        result.append(external_assets_def(obj))
    return result


class Definitions:
    """Everything one code location offers: assets, checks, jobs, schedules, sensors, resources.

    Top-level `resources` are bound to every asset and job that needs them, `executor` and `loggers`
    become the default of jobs that set none, and asset jobs (`define_asset_job`, and the implicit
    `__ASSET_JOB`) are built from the assets here. Validation happens when the definitions are first
    used (`get_job_def`, `get_repository_def`, `Definitions.validate_loadable`).

    Example:
        >>> defs = Definitions(
        ...     assets=[orders, revenue],
        ...     jobs=[define_asset_job("daily", selection="group:sales")],
        ...     schedules=[ScheduleDefinition(name="every_day", cron_schedule="0 6 * * *", job_name="daily")],
        ...     resources={"warehouse": Warehouse(url=EnvVar("WAREHOUSE_URL"))},
        ... )
        >>> defs.get_job_def("daily").execute_in_process().success
        True
    """

    def __init__(
        self,
        assets: Iterable[Any] | None = None,
        schedules: Iterable[Any] | None = None,
        sensors: Iterable[Any] | None = None,
        jobs: Iterable[Any] | None = None,
        resources: Mapping[str, Any] | None = None,
        executor: Any = None,
        loggers: Mapping[str, Any] | None = None,
        asset_checks: Iterable[Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        component_tree: Any = None,
    ):
        self.assets = _check_members("assets", assets, ("assets", "checks", "spec", "source_asset"),
                                     "(AssetsDefinition, AssetSpec, SourceAsset)")
        self.schedules = _check_members("schedules", schedules, ("schedule",), "ScheduleDefinition")
        self.sensors = _check_members("sensors", sensors, ("sensor",), "SensorDefinition")
        self.jobs = _check_members("jobs", jobs, ("job", "unresolved_job"),
                                   "(JobDefinition, UnresolvedAssetJobDefinition)")
        self.asset_checks = _check_members("asset_checks", asset_checks, ("assets", "checks"), "AssetsDefinition")
        if resources is not None and not isinstance(resources, Mapping):
            raise DagsterInvalidDefinitionError(
                f"Param \"resources\" is not one of ['Mapping']. Got {resources!r} which is type {type(resources)}."
            )
        if loggers is not None and not isinstance(loggers, Mapping):
            raise DagsterInvalidDefinitionError(
                f"Param \"loggers\" is not one of ['Mapping']. Got {loggers!r} which is type {type(loggers)}."
            )
        self.resources = dict(resources) if resources is not None else None
        self.executor = executor
        self.loggers = dict(loggers) if loggers is not None else None
        self.metadata = _normalize_metadata(metadata)
        self.component_tree = component_tree
        self._repository: RepositoryDefinition | None = None

    # --- compiling -----------------------------------------------------------------------------

    def get_repository_def(self) -> RepositoryDefinition:
        """The `RepositoryDefinition` these definitions compile to (built once, then cached)."""
        if self._repository is None:
            from orchestra._core.gc_pause import collection_paused

            # validation and the asset and selection graphs of every asset: many long-lived objects,
            # no garbage, and no user code run (as `RepositoryData.get_all_jobs`)
            with collection_paused():
                self._repository = create_repository_using_definitions_args(
                    SINGLETON_REPOSITORY_NAME, assets=self.assets, schedules=self.schedules, sensors=self.sensors,
                    jobs=self.jobs, resources=self.resources, executor=self.executor, loggers=self.loggers,
                    asset_checks=self.asset_checks, metadata=self.metadata,
                )
        return self._repository

    def has_resolved_repository_def(self) -> bool:
        return self._repository is not None

    @staticmethod
    def validate_loadable(defs: Definitions) -> None:
        """Raise the error a code location would show for `defs` (resolving every job)."""
        defs.get_repository_def().validate_loadable()

    @property
    def selection_graph(self) -> Any:
        return self.get_repository_def().selection_graph

    def resolve_asset_graph(self) -> Any:
        return self.get_repository_def().asset_graph

    # --- lookups -------------------------------------------------------------------------------

    def get_job_def(self, name: str) -> Any:
        """The `JobDefinition` called `name`, with top-level resources, executor and loggers bound."""
        if not any(getattr(j, "name", None) == name and _kind(j) == "job" for j in self.jobs or ()):
            warnings.warn(
                f"JobDefinition with name {name} directly passed to Definitions not found, will attempt to resolve "
                "to a JobDefinition. This will be an error in a future release and will require a call to "
                "resolve_job_def in dagster 1.11. ",
                stacklevel=2,
            )
        return self.resolve_job_def(name)

    def resolve_job_def(self, name: str) -> Any:
        return self.get_repository_def().get_job(name)

    def resolve_all_job_defs(self) -> list[Any]:
        return self.get_repository_def().get_all_jobs()

    get_all_job_defs = resolve_all_job_defs

    def get_schedule_def(self, name: str) -> Any:
        return self.resolve_schedule_def(name)

    def resolve_schedule_def(self, name: str) -> Any:
        return self.get_repository_def().get_schedule_def(name)

    def get_unresolved_schedule_def(self, name: str) -> Any:
        for schedule in self.schedules or ():
            if schedule.name == name:
                if type(schedule).__name__ == "UnresolvedPartitionedAssetScheduleDefinition":
                    raise ValueError(
                        f"ScheduleDefinition with name {name} is an UnresolvedPartitionedAssetScheduleDefinition, "
                        "which is not supported in get_unresolved_schedule_def"
                    )
                return schedule
        raise ValueError(f"ScheduleDefinition with name {name} not found")

    def get_sensor_def(self, name: str) -> Any:
        return self.resolve_sensor_def(name)

    def resolve_sensor_def(self, name: str) -> Any:
        return self.get_repository_def().get_sensor_def(name)

    def get_unresolved_sensor_def(self, name: str) -> Any:
        for sensor in self.sensors or ():
            if sensor.name == name:
                return sensor
        raise ValueError(f"SensorDefinition with name {name} not found")

    def get_assets_def(self, key: Any) -> Any:
        """The `AssetsDefinition` producing `key` as it was passed in (without top-level resources)."""
        from orchestra._core.assets.keys import coerce_asset_key

        asset_key = coerce_asset_key(key)
        for candidate in [*(self.assets or ()), *(self.asset_checks or ())]:
            if _kind(candidate) == "assets" and asset_key in candidate.keys:
                return candidate
        return self.resolve_assets_def(asset_key)

    def resolve_assets_def(self, key: Any) -> Any:
        from orchestra._core.assets.keys import coerce_asset_key

        asset_key = coerce_asset_key(key)
        found = self.get_repository_def().assets_defs_by_key.get(asset_key)
        if found is None:
            raise DagsterInvariantViolationError(f"Could not find asset {asset_key}")
        return found

    def get_asset_checks_def(self, key: Any) -> Any:
        for candidate in [*(self.assets or ()), *(self.asset_checks or ())]:
            if _kind(candidate) == "checks" and key in candidate.check_keys:
                return candidate
        raise DagsterInvariantViolationError(f"Could not find asset checks defs for {key}")

    def resolve_all_asset_keys(self) -> list[Any]:
        return sorted(self.get_repository_def().selection_graph.all_keys)

    def has_implicit_global_asset_job_def(self) -> bool:
        return self.get_repository_def().has_implicit_global_asset_job_def()

    def get_implicit_global_asset_job_def(self) -> Any:
        return self.get_repository_def().get_implicit_global_asset_job_def()

    resolve_implicit_global_asset_job_def = get_implicit_global_asset_job_def

    def resolve_implicit_job_def_def_for_assets(self, asset_keys: Iterable[Any]) -> Any:
        return self.get_repository_def().get_implicit_job_def_for_assets(asset_keys)

    def resolve_all_asset_specs(self) -> list[Any]:
        graph = self.get_repository_def().asset_graph
        return [] if graph is None else [graph.spec(key) for key in sorted(graph.all_asset_keys)]

    def map_asset_specs(self, *, func: Any, selection: Any = None) -> Definitions:
        """A copy whose asset specs are replaced by `func(spec)` (use `map_resolved_asset_specs` to select).

        Example:
            >>> defs = defs.map_asset_specs(func=lambda spec: spec.replace_attributes(owners=["team:data"]))
        """
        if selection is not None:
            raise DagsterInvariantViolationError(
                "Invariant failed. Description: The selection parameter is no longer supported for map_asset_specs, "
                "Please use map_resolved_asset_specs instead"
            )
        return self.map_resolved_asset_specs(func=func)

    def map_resolved_asset_specs(self, *, func: Any, selection: Any = None) -> Definitions:
        """A copy whose asset specs (of the selected assets, all by default) are replaced by `func(spec)`."""
        keys = None
        if selection is not None:
            from orchestra._core.selection.asset_selection import AssetSelection

            keys = AssetSelection.from_coercible(selection).resolve(self.get_repository_def().selection_graph)

        def mapped(spec: Any) -> Any:
            return func(spec) if keys is None or spec.key in keys else spec

        assets = []
        for obj in self.assets or ():
            kind = _kind(obj)
            if kind == "spec":
                assets.append(mapped(obj))
            elif kind == "assets" and callable(getattr(obj, "map_asset_specs", None)):
                assets.append(obj.map_asset_specs(mapped))
            else:
                assets.append(obj)
        return Definitions(
            assets=assets, schedules=self.schedules, sensors=self.sensors, jobs=self.jobs, resources=self.resources,
            executor=self.executor, loggers=self.loggers, asset_checks=self.asset_checks, metadata=self.metadata,
        )

    # --- asset values ----------------------------------------------------------------------------

    def get_asset_value_loader(self, instance: Any = None) -> Any:
        """An `AssetValueLoader` (a context manager) for reading several asset values outside a run."""
        from orchestra._core.definitions_class.asset_values import AssetValueLoader

        return AssetValueLoader(self.get_repository_def(), instance=instance)

    def load_asset_value(self, asset_key: Any, *, python_type: Any = None, instance: Any = None,
                         partition_key: str | None = None, metadata: dict[str, Any] | None = None) -> Any:
        """The stored value of one asset, read through its IO manager.

        Example:
            >>> materialize([orders], instance=instance)
            >>> defs.load_asset_value("orders", instance=instance)
        """
        with self.get_asset_value_loader(instance=instance) as loader:
            return loader.load_asset_value(asset_key, python_type=python_type, partition_key=partition_key,
                                           metadata=metadata)

    # --- combining -----------------------------------------------------------------------------

    @staticmethod
    def merge(*def_sets: Definitions) -> Definitions:
        """One `Definitions` with everything from `def_sets`; conflicting resources, loggers or executors fail.

        Example:
            >>> defs = Definitions.merge(sales_defs, marketing_defs)
        """
        assets: list[Any] = []
        schedules: list[Any] = []
        sensors: list[Any] = []
        jobs: list[Any] = []
        asset_checks: list[Any] = []
        metadata: dict[str, Any] = {}
        resources: dict[str, Any] = {}
        resource_origin: dict[str, int] = {}
        loggers: dict[str, Any] = {}
        logger_origin: dict[str, int] = {}
        executor = None
        executor_index: int | None = None
        for index, defs in enumerate(def_sets):
            if not isinstance(defs, Definitions):
                raise DagsterInvalidDefinitionError(
                    f"Member of sequence mismatches type. Expected {Definitions}. Got {defs!r} of type {type(defs)}."
                )
            assets.extend(defs.assets or ())
            asset_checks.extend(defs.asset_checks or ())
            metadata.update(defs.metadata)
            schedules.extend(defs.schedules or ())
            sensors.extend(defs.sensors or ())
            jobs.extend(defs.jobs or ())
            for key, value in (defs.resources or {}).items():
                if key in resources and resources[key] is not value and resources[key] != value:
                    raise DagsterInvariantViolationError(
                        f"Definitions objects {resource_origin[key]} and {index} have different resources with "
                        f"same key '{key}'"
                    )
                resources[key] = value
                resource_origin.setdefault(key, index)
            for key, value in (defs.loggers or {}).items():
                if key in loggers and loggers[key] is not value:
                    raise DagsterInvariantViolationError(
                        f"Definitions objects {logger_origin[key]} and {index} have different loggers with "
                        f"same key '{key}'"
                    )
                loggers[key] = value
                logger_origin.setdefault(key, index)
            if defs.executor is not None:
                if executor is not None and executor is not defs.executor:
                    raise DagsterInvariantViolationError(
                        f"Definitions objects {executor_index} and {index} both have an executor"
                    )
                executor, executor_index = defs.executor, index
        return Definitions(
            assets=assets, schedules=schedules, sensors=sensors, jobs=jobs, resources=resources, executor=executor,
            loggers=loggers, asset_checks=asset_checks, metadata=metadata,
        )

    def with_resources(self, resources: Mapping[str, Any] | None) -> Definitions:
        """A copy with `resources` added to (and overriding) the top-level resources."""
        return Definitions(
            assets=self.assets, schedules=self.schedules, sensors=self.sensors, jobs=self.jobs,
            resources={**(self.resources or {}), **(resources or {})}, executor=self.executor, loggers=self.loggers,
            asset_checks=self.asset_checks, metadata=self.metadata,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Definitions):
            return NotImplemented
        fields = ("assets", "schedules", "sensors", "jobs", "resources", "executor", "loggers", "asset_checks", "metadata")
        return all(getattr(self, f) == getattr(other, f) for f in fields)

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return (
            f"Definitions(assets={self.assets!r}, schedules={self.schedules!r}, sensors={self.sensors!r}, "
            f"jobs={self.jobs!r}, resources={self.resources!r}, executor={self.executor!r}, loggers={self.loggers!r}, "
            f"asset_checks={self.asset_checks!r}, metadata={self.metadata!r})"
        )


def _normalize_metadata(metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    if not metadata:
        return {}
    if not isinstance(metadata, Mapping):
        raise DagsterInvalidDefinitionError(f"metadata must be a mapping, got {type(metadata)}")
    from orchestra._core.metadata.values import normalize_metadata

    return dict(normalize_metadata(dict(metadata)))


def create_repository_using_definitions_args(
    name: str,
    assets: Iterable[Any] | None = None,
    schedules: Iterable[Any] | None = None,
    sensors: Iterable[Any] | None = None,
    jobs: Iterable[Any] | None = None,
    resources: Mapping[str, Any] | None = None,
    executor: Any = None,
    loggers: Mapping[str, Any] | None = None,
    asset_checks: Iterable[Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> RepositoryDefinition:
    """A named `RepositoryDefinition` from the same arguments `Definitions` takes.

    Example:
        >>> sales_repo = create_repository_using_definitions_args("sales", assets=[orders], jobs=[sales_job])
        >>> sales_repo.name
        'sales'
    """
    from orchestra._core.resources.initialization import coerce_to_resource_definitions

    resource_defs = coerce_to_resource_definitions(dict(resources or {}))
    executor_def = _coerce_executor(executor)
    bound_jobs, bound_schedules, bound_sensors = bind_top_level_resources(
        _dedupe(jobs), _dedupe(schedules), _dedupe(sensors), resource_defs
    )
    items = [
        *with_resources(_specs_to_assets(_dedupe(assets)), resource_defs),
        *with_resources(_dedupe(asset_checks), resource_defs),
        *bound_schedules,
        *bound_sensors,
        *bound_jobs,
    ]
    data = build_repository_data(
        items, default_executor_def=executor_def, default_logger_defs=loggers, top_level_resources=resource_defs,
    )
    return RepositoryDefinition(name, repository_data=data, metadata=metadata)


def _coerce_executor(executor: Any) -> Any:
    if executor is None:
        return None
    from orchestra._core.definitions.executor import ExecutorDefinition

    if isinstance(executor, ExecutorDefinition):
        return executor
    hardcoded = getattr(ExecutorDefinition, "hardcoded_executor", None)
    if hardcoded is not None:
        return hardcoded(executor)
    raise DagsterInvalidDefinitionError(f"executor must be an ExecutorDefinition or an Executor, got {executor!r}")


class BindResourcesToJobs(list):
    """Deprecated no-op: top-level resources are bound to jobs by default."""
