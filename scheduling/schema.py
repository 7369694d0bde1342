"""The scheduling app's GraphQL: schedules, sensors, their states and ticks, and partition backfills, with
Dagster's names, arguments and result unions. Resolvers stay thin: reads through `scheduling.selectors`,
changes through `scheduling.services` / `scheduling.backfills`, each mutation behind its permission.

`Schedule` and `Sensor` resolve from a `workspace.schema_definitions.DefinitionRef` (the snapshot entry of
a repository); the workspace's `Repository` names them by path, as the workspace may not import this app.
Their states are read once per location and request (`_Loader`), and a list's tick histories in one
query, so a repository of 20 schedules costs the queries of one of 2.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

import graphene

from core.exceptions import Conflict, InvalidInput, NotFound
from core.graphql import AssetKey, AssetKeyInput, Error, PythonError, UnauthorizedError, errors_as_data
from core.permissions import Permission, actor_from_request, has_permission
from orchestra._core.automation.cron import next_tick
from runs.models import Run as RunModel
from runs.schema import ExecutionTag, PipelineTag, Run, RunStatus
from runs.schema_launch import ReexecutionParams, RunConfigValidationInvalid
from scheduling import backfills, selectors, services
from scheduling.models import Backfill, InstigatorKind, InstigatorState, InstigatorStatus, Tick
from workspace.models import CodeLocation, LocationStatus
from workspace.schema import RepositoryNotFoundError, RepositorySelector
from workspace.schema_definitions import (
    DefinitionRef,
    DefinitionTag,
    PipelineNotFoundError,
    RepositoryRef,
    _tags,
)

PARTITION_SET_SUFFIX = "_partition_set"  # Dagster names a job's partition set `<job>_partition_set`


# --- enums ------------------------------------------------------------------------------------------


class InstigationStatus(graphene.Enum):
    RUNNING = "RUNNING"
    STOPPED = "STOPPED"


class InstigationTickStatus(graphene.Enum):
    STARTED = "STARTED"
    SKIPPED = "SKIPPED"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"


class InstigationType(graphene.Enum):
    SCHEDULE = "SCHEDULE"
    SENSOR = "SENSOR"
    AUTO_MATERIALIZE = "AUTO_MATERIALIZE"


class SensorType(graphene.Enum):
    STANDARD = "STANDARD"
    RUN_STATUS = "RUN_STATUS"
    ASSET = "ASSET"
    MULTI_ASSET = "MULTI_ASSET"
    FRESHNESS_POLICY = "FRESHNESS_POLICY"
    AUTO_MATERIALIZE = "AUTO_MATERIALIZE"
    AUTOMATION = "AUTOMATION"
    UNKNOWN = "UNKNOWN"


class BulkActionStatus(graphene.Enum):
    REQUESTED = "REQUESTED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"
    CANCELING = "CANCELING"
    COMPLETED_SUCCESS = "COMPLETED_SUCCESS"
    COMPLETED_FAILED = "COMPLETED_FAILED"
    FAILING = "FAILING"


# --- per-request loading ----------------------------------------------------------------------------


def _ts(value: dt.datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


class _Loader:
    """What one request has read: states by location, and tick pages for every state it has seen."""

    def __init__(self) -> None:
        self.states: dict[str, dict[tuple[str, str], InstigatorState]] = {}
        self.ticks: dict[tuple, dict[int, list[Tick]]] = {}
        self.runs_count: dict[int, int] = {}
        self.runs: dict[int | None, dict[int, list[RunModel]]] = {}

    def state(self, kind: str, location_name: str, name: str) -> InstigatorState | None:
        if location_name not in self.states:
            self.states[location_name] = {(s.kind, s.name): s for s in
                                          selectors.instigator_list(location_name=location_name, include_absent=True)}
        return self.states[location_name].get((kind, name))

    def remember(self, state: InstigatorState) -> None:
        self.states.setdefault(state.location_name, {})[(state.kind, state.name)] = state

    def _seen(self) -> list[InstigatorState]:
        return [s for by_name in self.states.values() for s in by_name.values()]

    def runs_count_of(self, state: InstigatorState) -> int:
        if state.pk not in self.runs_count:
            self.runs_count.update(selectors.instigator_runs_count(states=self._seen_with(state)))
        return self.runs_count.get(state.pk, 0)

    def runs_of(self, state: InstigatorState, limit: int | None) -> list[RunModel]:
        page = self.runs.get(limit)
        if page is None or state.pk not in page:
            page = self.runs[limit] = selectors.instigator_runs(states=self._seen_with(state), limit=limit)
        return page.get(state.pk, [])

    def _seen_with(self, state: InstigatorState) -> list[InstigatorState]:
        """Every state this request has seen (so one query answers a whole list), and `state`."""
        return [s for s in self._seen() if s.pk is not None and s.pk != state.pk] + [state]

    def ticks_of(self, state: InstigatorState, limit: int | None, cursor: str | None,
                 statuses: list[str] | None) -> list[Tick]:
        key = (limit, cursor, tuple(statuses or ()))
        page = self.ticks.get(key)
        if page is None or state.pk not in page:
            ids = sorted({s.pk for s in self._seen() if s.pk is not None} | {state.pk})
            if limit is not None:
                page = selectors.ticks_recent_by_state(state_ids=ids, limit=limit,
                                                       before_id=int(cursor) if cursor else None, statuses=statuses)
            else:
                page = {pk: [] for pk in ids}
                for tick in selectors.tick_list(state_id=state.pk, limit=None, before_id=int(cursor) if cursor else None,
                                                statuses=statuses):
                    page[state.pk].append(tick)
            self.ticks[key] = page
        return page[state.pk]


def _loader(info) -> _Loader:
    context = info.context
    loader = getattr(context, "_scheduling_loader", None)
    if loader is None:
        loader = _Loader()
        context._scheduling_loader = loader
    return loader


def _state_of(ref: DefinitionRef, kind: str, info) -> InstigatorState:
    state = _loader(info).state(kind, ref.repository.location.name, ref.data["name"])
    if state is None:  # a definition not reconciled yet: shown with its default status, nothing recorded
        state = InstigatorState(kind=kind, location_name=ref.repository.location.name,
                                repository_name=ref.repository.name, name=ref.data["name"], definition=ref.data,
                                status=ref.data.get("default_status") or InstigatorStatus.STOPPED)
    return state


# --- ticks and states -------------------------------------------------------------------------------


class InstigationTick(graphene.ObjectType):
    class Meta:
        possible_types = (Tick,)

    id = graphene.NonNull(graphene.ID)
    tickId = graphene.NonNull(graphene.ID)
    status = graphene.NonNull(InstigationTickStatus)
    timestamp = graphene.NonNull(graphene.Float)
    endTimestamp = graphene.Float()
    runIds = graphene.NonNull(graphene.List(graphene.NonNull(graphene.String)))
    runKeys = graphene.NonNull(graphene.List(graphene.NonNull(graphene.String)))
    error = graphene.Field(PythonError)
    skipReason = graphene.String()
    cursor = graphene.String()
    runs = graphene.NonNull(graphene.List(graphene.NonNull(Run)))
    originRunIds = graphene.NonNull(graphene.List(graphene.NonNull(graphene.String)))
    requestedJobRunCount = graphene.NonNull(graphene.Int)
    instigationType = graphene.NonNull(InstigationType)

    def resolve_id(tick: Tick, info) -> str:
        return str(tick.pk)

    def resolve_tickId(tick: Tick, info) -> str:
        return str(tick.pk)

    def resolve_timestamp(tick: Tick, info) -> float:
        return tick.timestamp.timestamp()

    def resolve_endTimestamp(tick: Tick, info) -> float | None:
        return _ts(tick.end_timestamp)

    def resolve_runIds(tick: Tick, info) -> list[str]:
        return list(tick.run_ids or [])

    def resolve_runKeys(tick: Tick, info) -> list[str]:
        return list(tick.run_keys or [])

    def resolve_error(tick: Tick, info) -> PythonError | None:
        return PythonError.from_error_data(tick.error) if tick.error else None

    def resolve_skipReason(tick: Tick, info) -> str | None:
        return tick.skip_reason

    def resolve_cursor(tick: Tick, info) -> str | None:
        return tick.cursor_after

    def resolve_runs(tick: Tick, info) -> list[RunModel]:
        return list(RunModel.objects.filter(run_id__in=tick.run_ids or []).prefetch_related("tags").order_by("-id"))

    def resolve_originRunIds(tick: Tick, info) -> list[str]:
        return []

    def resolve_requestedJobRunCount(tick: Tick, info) -> int:
        return len(tick.run_ids or [])

    def resolve_instigationType(tick: Tick, info) -> str:
        return str(tick.kind)


class DryRunInstigationTick(graphene.ObjectType):
    timestamp = graphene.Float()


class DryRunInstigationTicks(graphene.ObjectType):
    results = graphene.NonNull(graphene.List(graphene.NonNull(DryRunInstigationTick)))
    cursor = graphene.NonNull(graphene.Float)


class SensorData(graphene.ObjectType):
    lastTickTimestamp = graphene.Float()
    lastRunKey = graphene.String()
    lastCursor = graphene.String()


class ScheduleData(graphene.ObjectType):
    cronSchedule = graphene.NonNull(graphene.String)
    startTimestamp = graphene.Float()


class InstigationTypeSpecificData(graphene.Union):
    class Meta:
        types = (SensorData, ScheduleData)


def _cron_text(cron: Any) -> str:
    return cron if isinstance(cron, str) else json.dumps(cron)


def _next_tick(state: InstigatorState) -> DryRunInstigationTick | None:
    if not state.is_running or state.pk is None:
        return None
    if state.kind == InstigatorKind.SCHEDULE:
        return DryRunInstigationTick(timestamp=_ts(state.next_tick_at)) if state.next_tick_at else None
    interval = int(state.definition.get("min_interval") or 30)
    last = state.last_tick_at or state.started_at
    return DryRunInstigationTick(timestamp=last.timestamp() + interval) if last else None


class InstigationState(graphene.ObjectType):
    class Meta:
        possible_types = (InstigatorState,)

    id = graphene.NonNull(graphene.ID)
    selectorId = graphene.NonNull(graphene.String)
    name = graphene.NonNull(graphene.String)
    instigationType = graphene.NonNull(InstigationType)
    status = graphene.NonNull(InstigationStatus)
    repositoryName = graphene.NonNull(graphene.String)
    repositoryLocationName = graphene.NonNull(graphene.String)
    typeSpecificData = graphene.Field(InstigationTypeSpecificData)
    runs = graphene.NonNull(graphene.List(graphene.NonNull(Run)), limit=graphene.Int())
    runsCount = graphene.NonNull(graphene.Int)
    tick = graphene.NonNull(InstigationTick, tickId=graphene.NonNull(graphene.ID))
    ticks = graphene.NonNull(graphene.List(graphene.NonNull(InstigationTick)), dayRange=graphene.Int(),
                             dayOffset=graphene.Int(), limit=graphene.Int(), cursor=graphene.String(),
                             statuses=graphene.List(graphene.NonNull(InstigationTickStatus)),
                             beforeTimestamp=graphene.Float(), afterTimestamp=graphene.Float())
    nextTick = graphene.Field(DryRunInstigationTick)
    runningCount = graphene.NonNull(graphene.Int)
    hasStartPermission = graphene.NonNull(graphene.Boolean)
    hasStopPermission = graphene.NonNull(graphene.Boolean)

    def resolve_id(state: InstigatorState, info) -> str:
        return selectors.instigator_selector_id(state)

    def resolve_selectorId(state: InstigatorState, info) -> str:
        return selectors.instigator_selector_id(state)

    def resolve_instigationType(state: InstigatorState, info) -> str:
        return str(state.kind)

    def resolve_status(state: InstigatorState, info) -> str:
        return "RUNNING" if state.is_running else "STOPPED"

    def resolve_repositoryName(state: InstigatorState, info) -> str:
        return state.repository_name or "__repository__"

    def resolve_repositoryLocationName(state: InstigatorState, info) -> str:
        return state.location_name

    def resolve_typeSpecificData(state: InstigatorState, info) -> Any:
        if state.kind == InstigatorKind.SCHEDULE:
            return ScheduleData(cronSchedule=_cron_text(state.definition.get("cron_schedule")),
                                startTimestamp=_ts(state.started_at))
        return SensorData(lastTickTimestamp=_ts(state.last_tick_at), lastRunKey=state.last_run_key,
                          lastCursor=state.cursor)

    def resolve_runs(state: InstigatorState, info, limit: int | None = None) -> list[RunModel]:
        return _loader(info).runs_of(state, limit) if state.pk is not None else []

    def resolve_runsCount(state: InstigatorState, info) -> int:
        return _loader(info).runs_count_of(state) if state.pk is not None else 0

    def resolve_tick(state: InstigatorState, info, tickId: str) -> Tick:
        return selectors.tick_get(state_id=state.pk, tick_id=tickId)

    def resolve_ticks(state: InstigatorState, info, limit: int | None = None, cursor: str | None = None,
                      statuses: list[Any] | None = None, **_window: Any) -> list[Tick]:
        if state.pk is None:
            return []
        if cursor is not None and not str(cursor).isdigit():
            raise InvalidInput(f"ticks(cursor): expected a tick id, got {cursor!r}")
        names = [getattr(s, "value", s) for s in statuses] if statuses else None
        return _loader(info).ticks_of(state, limit, cursor, names)

    def resolve_nextTick(state: InstigatorState, info) -> DryRunInstigationTick | None:
        return _next_tick(state)

    def resolve_runningCount(state: InstigatorState, info) -> int:
        return 1 if state.is_running else 0

    def resolve_hasStartPermission(state: InstigatorState, info) -> bool:
        return has_permission(info.context, _start_permission(state.kind), state.location_name)

    def resolve_hasStopPermission(state: InstigatorState, info) -> bool:
        return has_permission(info.context, _stop_permission(state.kind), state.location_name)


def _start_permission(kind: str) -> Permission:
    return Permission.START_SCHEDULE if kind == InstigatorKind.SCHEDULE else Permission.EDIT_SENSOR


def _stop_permission(kind: str) -> Permission:
    return Permission.STOP_RUNNING_SCHEDULE if kind == InstigatorKind.SCHEDULE else Permission.EDIT_SENSOR


class InstigationStates(graphene.ObjectType):
    results = graphene.NonNull(graphene.List(graphene.NonNull(InstigationState)))


# --- schedules and sensors --------------------------------------------------------------------------


class Schedule(graphene.ObjectType):
    """A schedule of a repository: its definition from the stored snapshot and its state from the database."""

    class Meta:
        possible_types = (DefinitionRef,)

    id = graphene.NonNull(graphene.ID)
    name = graphene.NonNull(graphene.String)
    cronSchedule = graphene.NonNull(graphene.String)
    pipelineName = graphene.NonNull(graphene.String)
    mode = graphene.NonNull(graphene.String)
    executionTimezone = graphene.String()
    description = graphene.String()
    defaultStatus = graphene.NonNull(InstigationStatus)
    canReset = graphene.NonNull(graphene.Boolean)
    scheduleState = graphene.NonNull(InstigationState)
    futureTicks = graphene.NonNull(DryRunInstigationTicks, cursor=graphene.Float(), limit=graphene.Int(),
                                   until=graphene.Float())
    tags = graphene.NonNull(graphene.List(graphene.NonNull(DefinitionTag)))

    def resolve_id(ref: DefinitionRef, info) -> str:
        return f"{ref.repository.id}:schedule:{ref.data['name']}"

    def resolve_name(ref: DefinitionRef, info) -> str:
        return ref.data["name"]

    def resolve_cronSchedule(ref: DefinitionRef, info) -> str:
        return _cron_text(ref.data.get("cron_schedule"))

    def resolve_pipelineName(ref: DefinitionRef, info) -> str:
        return ref.data.get("job_name") or ""

    def resolve_mode(ref: DefinitionRef, info) -> str:
        return "default"

    def resolve_executionTimezone(ref: DefinitionRef, info) -> str | None:
        return ref.data.get("execution_timezone")

    def resolve_description(ref: DefinitionRef, info) -> str | None:
        return ref.data.get("description")

    def resolve_defaultStatus(ref: DefinitionRef, info) -> str:
        return str(ref.data.get("default_status") or "STOPPED")

    def resolve_canReset(ref: DefinitionRef, info) -> bool:
        return _state_of(ref, InstigatorKind.SCHEDULE, info).status_overridden

    def resolve_scheduleState(ref: DefinitionRef, info) -> InstigatorState:
        return _state_of(ref, InstigatorKind.SCHEDULE, info)

    def resolve_futureTicks(ref: DefinitionRef, info, cursor: float | None = None, limit: int | None = None,
                            until: float | None = None) -> DryRunInstigationTicks:
        start = cursor if cursor is not None else dt.datetime.now(dt.UTC).timestamp()
        limit = 10 if limit is None else max(0, min(limit, 1000))
        results, at = [], start
        for _ in range(limit):
            tick = next_tick(ref.data["cron_schedule"], ref.data.get("execution_timezone"), at).timestamp()
            if until is not None and tick > until:
                break
            results.append(DryRunInstigationTick(timestamp=tick))
            at = tick
        return DryRunInstigationTicks(results=results, cursor=at)

    def resolve_tags(ref: DefinitionRef, info) -> list[DefinitionTag]:
        return _tags(ref.data.get("tags"))


class SensorMetadata(graphene.ObjectType):
    assetKeys = graphene.List(graphene.NonNull(AssetKey))


class Sensor(graphene.ObjectType):
    """A sensor of a repository: its definition from the stored snapshot and its state from the database."""

    class Meta:
        possible_types = (DefinitionRef,)

    id = graphene.NonNull(graphene.ID)
    jobOriginId = graphene.NonNull(graphene.String)
    name = graphene.NonNull(graphene.String)
    defaultStatus = graphene.NonNull(InstigationStatus)
    canReset = graphene.NonNull(graphene.Boolean)
    hasCursorUpdatePermissions = graphene.NonNull(graphene.Boolean)
    sensorState = graphene.NonNull(InstigationState)
    minIntervalSeconds = graphene.NonNull(graphene.Int)
    description = graphene.String()
    nextTick = graphene.Field(DryRunInstigationTick)
    metadata = graphene.NonNull(SensorMetadata)
    sensorType = graphene.NonNull(SensorType)
    tags = graphene.NonNull(graphene.List(graphene.NonNull(DefinitionTag)))

    def resolve_id(ref: DefinitionRef, info) -> str:
        return f"{ref.repository.id}:sensor:{ref.data['name']}"

    def resolve_jobOriginId(ref: DefinitionRef, info) -> str:
        return f"{ref.repository.id}:sensor:{ref.data['name']}"

    def resolve_name(ref: DefinitionRef, info) -> str:
        return ref.data["name"]

    def resolve_defaultStatus(ref: DefinitionRef, info) -> str:
        return str(ref.data.get("default_status") or "STOPPED")

    def resolve_canReset(ref: DefinitionRef, info) -> bool:
        return _state_of(ref, InstigatorKind.SENSOR, info).status_overridden

    def resolve_hasCursorUpdatePermissions(ref: DefinitionRef, info) -> bool:
        return has_permission(info.context, Permission.UPDATE_SENSOR_CURSOR, ref.repository.location.name)

    def resolve_sensorState(ref: DefinitionRef, info) -> InstigatorState:
        return _state_of(ref, InstigatorKind.SENSOR, info)

    def resolve_minIntervalSeconds(ref: DefinitionRef, info) -> int:
        return int(ref.data.get("min_interval") or 30)

    def resolve_description(ref: DefinitionRef, info) -> str | None:
        return ref.data.get("description")

    def resolve_nextTick(ref: DefinitionRef, info) -> DryRunInstigationTick | None:
        return _next_tick(_state_of(ref, InstigatorKind.SENSOR, info))

    def resolve_metadata(ref: DefinitionRef, info) -> SensorMetadata:
        keys = (ref.data.get("metadata") or {}).get("asset_keys") if isinstance(ref.data.get("metadata"), dict) else None
        return SensorMetadata(assetKeys=[AssetKey(path=k) for k in keys] if isinstance(keys, list) else None)

    def resolve_sensorType(ref: DefinitionRef, info) -> str:
        kind = ref.data.get("sensor_type") or "STANDARD"
        return kind if kind in SensorType._meta.enum.__members__ else "UNKNOWN"

    def resolve_tags(ref: DefinitionRef, info) -> list[DefinitionTag]:
        return _tags(ref.data.get("tags"))


class Schedules(graphene.ObjectType):
    results = graphene.NonNull(graphene.List(graphene.NonNull(Schedule)))


class Sensors(graphene.ObjectType):
    results = graphene.NonNull(graphene.List(graphene.NonNull(Sensor)))


class ScheduleNotFoundError(graphene.ObjectType):
    class Meta:
        interfaces = (Error,)

    scheduleName = graphene.NonNull(graphene.String)


class SensorNotFoundError(graphene.ObjectType):
    class Meta:
        interfaces = (Error,)

    sensorName = graphene.NonNull(graphene.String)


class InstigationStateNotFoundError(graphene.ObjectType):
    class Meta:
        interfaces = (Error,)

    name = graphene.NonNull(graphene.String)


class SchedulesOrError(graphene.Union):
    class Meta:
        types = (Schedules, RepositoryNotFoundError, PythonError)


class ScheduleOrError(graphene.Union):
    class Meta:
        types = (Schedule, ScheduleNotFoundError, PythonError)


class SensorsOrError(graphene.Union):
    class Meta:
        types = (Sensors, RepositoryNotFoundError, PythonError)


class SensorOrError(graphene.Union):
    class Meta:
        types = (Sensor, SensorNotFoundError, UnauthorizedError, PythonError)


class InstigationStateOrError(graphene.Union):
    class Meta:
        types = (InstigationState, InstigationStateNotFoundError, PythonError)


class ScheduleStateResult(graphene.ObjectType):
    scheduleState = graphene.NonNull(InstigationState)


class ScheduleMutationResult(graphene.Union):
    class Meta:
        types = (PythonError, UnauthorizedError, ScheduleStateResult, ScheduleNotFoundError)


class StopSensorMutationResult(graphene.ObjectType):
    instigationState = graphene.Field(InstigationState)


class StopSensorMutationResultOrError(graphene.Union):
    class Meta:
        types = (StopSensorMutationResult, UnauthorizedError, PythonError)


class ScheduleSelector(graphene.InputObjectType):
    repositoryName = graphene.NonNull(graphene.String)
    repositoryLocationName = graphene.NonNull(graphene.String)
    scheduleName = graphene.NonNull(graphene.String)


class SensorSelector(graphene.InputObjectType):
    repositoryName = graphene.NonNull(graphene.String)
    repositoryLocationName = graphene.NonNull(graphene.String)
    sensorName = graphene.NonNull(graphene.String)


class InstigationSelector(graphene.InputObjectType):
    repositoryName = graphene.NonNull(graphene.String)
    repositoryLocationName = graphene.NonNull(graphene.String)
    name = graphene.NonNull(graphene.String)


# --- backfills --------------------------------------------------------------------------------------


def _backfill_runs(backfill: Backfill):
    return RunModel.objects.filter(tags__key=backfills.BACKFILL_TAG, tags__value=backfill.backfill_id)


class PartitionBackfill(graphene.ObjectType):
    class Meta:
        possible_types = (Backfill,)

    id = graphene.NonNull(graphene.ID)
    status = graphene.NonNull(BulkActionStatus)
    runStatus = graphene.NonNull(RunStatus)
    creationTime = graphene.NonNull(graphene.Float)
    timestamp = graphene.NonNull(graphene.Float)
    endTimestamp = graphene.Float()
    jobName = graphene.String()
    partitionSetName = graphene.String()
    partitionNames = graphene.List(graphene.NonNull(graphene.String))
    numPartitions = graphene.Int()
    numCancelable = graphene.NonNull(graphene.Int)
    fromFailure = graphene.NonNull(graphene.Boolean)
    isAssetBackfill = graphene.NonNull(graphene.Boolean)
    assetSelection = graphene.List(graphene.NonNull(AssetKey))
    isValidSerialization = graphene.NonNull(graphene.Boolean)
    tags = graphene.NonNull(graphene.List(graphene.NonNull(PipelineTag)))
    runs = graphene.NonNull(graphene.List(graphene.NonNull(Run)), limit=graphene.Int())
    unfinishedRuns = graphene.NonNull(graphene.List(graphene.NonNull(Run)), limit=graphene.Int())
    cancelableRuns = graphene.NonNull(graphene.List(graphene.NonNull(Run)), limit=graphene.Int())
    error = graphene.Field(PythonError)
    hasCancelPermission = graphene.NonNull(graphene.Boolean)
    hasResumePermission = graphene.NonNull(graphene.Boolean)

    def resolve_id(backfill: Backfill, info) -> str:
        return backfill.backfill_id

    def resolve_runStatus(backfill: Backfill, info) -> str:
        return {"REQUESTED": "STARTED", "CANCELING": "CANCELING", "CANCELED": "CANCELED",
                "COMPLETED_SUCCESS": "SUCCESS"}.get(backfill.status, "FAILURE")

    def resolve_creationTime(backfill: Backfill, info) -> float:
        return backfill.created_at.timestamp()

    def resolve_timestamp(backfill: Backfill, info) -> float:
        return backfill.created_at.timestamp()

    def resolve_endTimestamp(backfill: Backfill, info) -> float | None:
        finished = backfill.status not in ("REQUESTED", "CANCELING")
        return backfill.updated_at.timestamp() if finished else None

    def resolve_partitionSetName(backfill: Backfill, info) -> str | None:
        return None if backfill.asset_selection else backfill.job_name + PARTITION_SET_SUFFIX  # Dagster: null for assets

    def resolve_partitionNames(backfill: Backfill, info) -> list[str]:
        return list(backfill.partition_names)

    def resolve_numPartitions(backfill: Backfill, info) -> int:
        return len(backfill.partition_names)

    def resolve_numCancelable(backfill: Backfill, info) -> int:
        return len(backfill.run_plan or backfill.partition_names) - backfill.submitted if backfill.status == "REQUESTED" else 0

    def resolve_fromFailure(backfill: Backfill, info) -> bool:
        return bool(backfill.from_failure_of)

    def resolve_isAssetBackfill(backfill: Backfill, info) -> bool:
        return bool(backfill.asset_selection)

    def resolve_assetSelection(backfill: Backfill, info) -> list[AssetKey] | None:
        return [AssetKey(path=key.split("/")) for key in backfill.asset_selection] if backfill.asset_selection else None

    def resolve_isValidSerialization(backfill: Backfill, info) -> bool:
        return True

    def resolve_tags(backfill: Backfill, info) -> list[PipelineTag]:
        return [PipelineTag(key=k, value=v) for k, v in (backfill.tags or {}).items()]

    def resolve_runs(backfill: Backfill, info, limit: int | None = None) -> list[RunModel]:
        runs = _backfill_runs(backfill).prefetch_related("tags").order_by("-id")
        return list(runs[:limit] if limit is not None else runs)

    def resolve_unfinishedRuns(backfill: Backfill, info, limit: int | None = None) -> list[RunModel]:
        from runs.models import FINISHED_STATUSES

        runs = _backfill_runs(backfill).exclude(status__in=FINISHED_STATUSES).prefetch_related("tags").order_by("-id")
        return list(runs[:limit] if limit is not None else runs)

    def resolve_cancelableRuns(backfill: Backfill, info, limit: int | None = None) -> list[RunModel]:
        runs = _backfill_runs(backfill).filter(status__in=["QUEUED", "NOT_STARTED", "STARTING", "STARTED"])
        runs = runs.prefetch_related("tags").order_by("-id")
        return list(runs[:limit] if limit is not None else runs)

    def resolve_error(backfill: Backfill, info) -> PythonError | None:
        return PythonError.from_error_data(backfill.error) if backfill.error else None

    def resolve_hasCancelPermission(backfill: Backfill, info) -> bool:
        return has_permission(info.context, Permission.CANCEL_PARTITION_BACKFILL, backfill.location_name)

    def resolve_hasResumePermission(backfill: Backfill, info) -> bool:
        return has_permission(info.context, Permission.LAUNCH_PARTITION_BACKFILL, backfill.location_name)


class PartitionBackfills(graphene.ObjectType):
    results = graphene.NonNull(graphene.List(graphene.NonNull(PartitionBackfill)))


class BackfillNotFoundError(graphene.ObjectType):
    class Meta:
        interfaces = (Error,)

    backfillId = graphene.NonNull(graphene.String)


class PartitionSetNotFoundError(graphene.ObjectType):
    class Meta:
        interfaces = (Error,)

    partitionSetName = graphene.NonNull(graphene.String)


class PartitionKeysNotFoundError(graphene.ObjectType):
    class Meta:
        interfaces = (Error,)

    partitionKeys = graphene.NonNull(graphene.List(graphene.NonNull(graphene.String)))


class PartitionBackfillsOrError(graphene.Union):
    class Meta:
        types = (PartitionBackfills, PythonError)


class PartitionBackfillOrError(graphene.Union):
    class Meta:
        types = (PartitionBackfill, BackfillNotFoundError, PythonError)


class LaunchBackfillSuccess(graphene.ObjectType):
    backfillId = graphene.NonNull(graphene.String)
    launchedRunIds = graphene.List(graphene.String)


class LaunchBackfillResult(graphene.Union):
    class Meta:
        types = (LaunchBackfillSuccess, PartitionSetNotFoundError, PartitionKeysNotFoundError,
                 RunConfigValidationInvalid, PipelineNotFoundError, UnauthorizedError, PythonError)


class CancelBackfillSuccess(graphene.ObjectType):
    backfillId = graphene.NonNull(graphene.String)


class CancelBackfillResult(graphene.Union):
    class Meta:
        types = (CancelBackfillSuccess, UnauthorizedError, PythonError)


class ResumeBackfillSuccess(graphene.ObjectType):
    backfillId = graphene.NonNull(graphene.String)


class ResumeBackfillResult(graphene.Union):
    class Meta:
        types = (ResumeBackfillSuccess, UnauthorizedError, PythonError)


class PartitionSetSelector(graphene.InputObjectType):
    partitionSetName = graphene.NonNull(graphene.String)
    repositorySelector = graphene.NonNull(RepositorySelector)


class LaunchBackfillParams(graphene.InputObjectType):
    selector = graphene.Field(PartitionSetSelector)
    assetSelection = graphene.List(graphene.NonNull(AssetKeyInput))
    partitionNames = graphene.List(graphene.NonNull(graphene.String))
    fromFailure = graphene.Boolean()
    allPartitions = graphene.Boolean()
    tags = graphene.List(graphene.NonNull(ExecutionTag))
    forceSynchronousSubmission = graphene.Boolean()
    title = graphene.String()
    description = graphene.String()


# --- resolvers --------------------------------------------------------------------------------------


def _actor(info) -> Any:
    return actor_from_request(info.context)


def _repository(location_name: str, repository_name: str) -> RepositoryRef | None:
    location = CodeLocation.objects.filter(name=location_name, status=LocationStatus.LOADED).first()
    if location is None or location.snapshot is None:
        return None
    ref = RepositoryRef(location, location.snapshot)
    return ref if ref.name == repository_name else None


def _definition(kind: str, location_name: str, repository_name: str, name: str) -> DefinitionRef | None:
    repository = _repository(location_name, repository_name)
    if repository is None:
        return None
    key = "schedules" if kind == InstigatorKind.SCHEDULE else "sensors"
    data = next((d for d in repository.snapshot.get(key) or [] if d["name"] == name), None)
    return DefinitionRef(repository, data) if data is not None else None


def _repository_not_found(selector: dict[str, str]) -> RepositoryNotFoundError:
    name, location = selector["repositoryName"], selector["repositoryLocationName"]
    return RepositoryNotFoundError(repositoryName=name, repositoryLocationName=location,
                                   message=f"Could not find a repository named {name} in location {location}.")


def _status_filter(refs: Iterable[DefinitionRef], kind: str, status: Any, info) -> list[DefinitionRef]:
    wanted = getattr(status, "value", status)
    refs = list(refs)
    if wanted is None:
        return refs
    return [r for r in refs if InstigationState.resolve_status(_state_of(r, kind, info), info) == wanted]


def _definitions(info, selector: dict[str, str], kind: str, status: Any, results: type) -> Any:
    """The schedules or sensors of a repository (`results` wraps them), those of `status` when given."""
    repository = _repository(selector["repositoryLocationName"], selector["repositoryName"])
    if repository is None:
        return _repository_not_found(selector)
    key = "schedules" if kind == InstigatorKind.SCHEDULE else "sensors"
    refs = [DefinitionRef(repository, data) for data in repository.snapshot.get(key) or []]
    return results(results=_status_filter(refs, kind, status, info))


@errors_as_data
def resolve_schedules(root, info, repositorySelector, scheduleStatus=None) -> Any:
    return _definitions(info, repositorySelector, InstigatorKind.SCHEDULE, scheduleStatus, Schedules)


@errors_as_data
def resolve_schedule(root, info, scheduleSelector) -> Any:
    name = scheduleSelector["scheduleName"]
    ref = _definition(InstigatorKind.SCHEDULE, scheduleSelector["repositoryLocationName"],
                      scheduleSelector["repositoryName"], name)
    if ref is None:
        return ScheduleNotFoundError(scheduleName=name, message=f"Schedule {name} could not be found.")
    return ref


@errors_as_data
def resolve_sensors(root, info, repositorySelector, sensorStatus=None) -> Any:
    return _definitions(info, repositorySelector, InstigatorKind.SENSOR, sensorStatus, Sensors)


def _sensor_not_found(name: str) -> SensorNotFoundError:
    return SensorNotFoundError(sensorName=name, message=f"Could not find sensor {name}.")


@errors_as_data
def resolve_sensor(root, info, sensorSelector) -> Any:
    name = sensorSelector["sensorName"]
    ref = _definition(InstigatorKind.SENSOR, sensorSelector["repositoryLocationName"],
                      sensorSelector["repositoryName"], name)
    return ref if ref is not None else _sensor_not_found(name)


@errors_as_data
def resolve_instigation_state(root, info, instigationSelector, id=None) -> Any:
    name = instigationSelector["name"]
    location, repository = instigationSelector["repositoryLocationName"], instigationSelector["repositoryName"]
    states = selectors.instigator_find(kind=None, name=name, location_name=location, repository_name=repository,
                                       include_absent=True)
    if id is not None:
        states = [s for s in states if selectors.instigator_selector_id(s) == id]
    if not states:
        return InstigationStateNotFoundError(name=name, message=f"Could not find instigation state for {name}.")
    return states[0]


@errors_as_data
def resolve_backfills(root, info, status=None, cursor=None, limit=None, filters=None) -> Any:
    status = getattr(status, "value", status)
    return PartitionBackfills(results=selectors.backfill_list(status=status, cursor=cursor, limit=limit))


@errors_as_data
def resolve_backfill(root, info, backfillId: str) -> Any:
    try:
        backfill = selectors.backfill_get(backfill_id=backfillId)
    except NotFound:
        return BackfillNotFoundError(backfillId=backfillId, message=f"Backfill {backfillId} could not be found.")
    return backfill


# --- mutations --------------------------------------------------------------------------------------


def _schedule_change(info, selector: dict | None, change) -> Any:
    name = selector["scheduleName"]
    ref = _definition(InstigatorKind.SCHEDULE, selector["repositoryLocationName"], selector["repositoryName"], name)
    if ref is None:
        return ScheduleNotFoundError(scheduleName=name, message=f"Schedule {name} could not be found.")
    try:
        state = change(location_name=selector["repositoryLocationName"], name=name)
    except NotFound:
        return ScheduleNotFoundError(scheduleName=name, message=f"Schedule {name} could not be found.")
    except Conflict as exc:
        return PythonError.from_exception(exc)
    return ScheduleStateResult(scheduleState=state)


@errors_as_data
def resolve_start_schedule(root, info, scheduleSelector) -> Any:
    return _schedule_change(info, scheduleSelector,
                            lambda **kw: services.schedule_start(**kw, actor=_actor(info)))


@errors_as_data
def resolve_reset_schedule(root, info, scheduleSelector) -> Any:
    return _schedule_change(info, scheduleSelector,
                            lambda **kw: services.instigator_reset(kind=InstigatorKind.SCHEDULE, **kw,
                                                                   actor=_actor(info)))


@errors_as_data
def resolve_stop_schedule(root, info, id=None, scheduleOriginId=None, scheduleSelectorId=None) -> Any:
    value = id or scheduleOriginId or scheduleSelectorId
    if not value:
        return PythonError(message="stopRunningSchedule needs one of id, scheduleOriginId or scheduleSelectorId.",
                           stack=[])
    state = selectors.instigator_by_id(kind=InstigatorKind.SCHEDULE, value=value)
    if state is None:
        return ScheduleNotFoundError(scheduleName=value, message=f"Schedule {value} could not be found.")
    try:
        state = services.schedule_stop(location_name=state.location_name, name=state.name, actor=_actor(info))
    except Conflict as exc:
        return PythonError.from_exception(exc)
    return ScheduleStateResult(scheduleState=state)


def _sensor_change(info, selector: dict, change) -> Any:
    name, location = selector["sensorName"], selector["repositoryLocationName"]
    ref = _definition(InstigatorKind.SENSOR, location, selector["repositoryName"], name)
    if ref is None:
        return _sensor_not_found(name)
    try:
        state = change(location_name=location, name=name)
    except NotFound:
        return _sensor_not_found(name)
    except (Conflict, InvalidInput) as exc:
        return PythonError.from_exception(exc)
    _loader(info).remember(state)
    return ref


@errors_as_data
def resolve_start_sensor(root, info, sensorSelector) -> Any:
    return _sensor_change(info, sensorSelector,
                          lambda **kw: services.sensor_start(**kw, actor=_actor(info)))


@errors_as_data
def resolve_reset_sensor(root, info, sensorSelector) -> Any:
    return _sensor_change(info, sensorSelector,
                          lambda **kw: services.instigator_reset(kind=InstigatorKind.SENSOR, **kw, actor=_actor(info)))


@errors_as_data
def resolve_set_sensor_cursor(root, info, sensorSelector, cursor=None) -> Any:
    return _sensor_change(info, sensorSelector,
                          lambda **kw: services.sensor_cursor_set(**kw, cursor=cursor, actor=_actor(info)))


@errors_as_data
def resolve_stop_sensor(root, info, id=None, jobOriginId=None, jobSelectorId=None) -> Any:
    value = id or jobOriginId or jobSelectorId
    state = selectors.instigator_by_id(kind=InstigatorKind.SENSOR, value=value) if value else None
    if state is None:
        return PythonError(message=f"Could not find sensor {value!r}: give its id, jobOriginId or jobSelectorId.",
                           className="SensorNotFoundError", stack=[])
    state = services.sensor_stop(location_name=state.location_name, name=state.name, actor=_actor(info))
    return StopSensorMutationResult(instigationState=state)


@errors_as_data
def resolve_launch_backfill(root, info, backfillParams) -> Any:
    selector = backfillParams.get("selector")
    if backfillParams.get("assetSelection"):
        if selector is not None:
            return PythonError(message="Give either a partition set selector or an asset selection, not both.",
                               stack=[])
        return _launch_asset_backfill(info, backfillParams)
    if selector is None:
        return PythonError(message="launchPartitionBackfill needs a partition set selector or an asset selection.",
                           stack=[])
    set_name = selector["partitionSetName"]
    repository = selector["repositorySelector"]
    location_name = repository["repositoryLocationName"]
    if _repository(location_name, repository["repositoryName"]) is None:
        return PartitionSetNotFoundError(partitionSetName=set_name,
                                         message=f"Partition set {set_name} could not be found.")
    job_name = set_name.removesuffix(PARTITION_SET_SUFFIX)
    names = backfillParams.get("partitionNames")
    every = bool(backfillParams.get("allPartitions"))
    if names is not None and every:
        return PythonError(message="Give either partitionNames or allPartitions, not both.", stack=[])
    tags = {t["key"]: t["value"] for t in backfillParams.get("tags") or []}
    try:
        backfill = backfills.backfill_create(location_name=location_name, job_name=job_name,
                                             partition_names=None if every else list(names or []),
                                             all_partitions=every, tags=tags, actor=_actor(info))
    except NotFound:
        return PartitionSetNotFoundError(partitionSetName=set_name,
                                         message=f"Partition set {set_name} could not be found.")
    except InvalidInput as exc:
        if "has no partitions named" in str(exc):
            known = set(names or [])
            return PartitionKeysNotFoundError(message=str(exc), partitionKeys=sorted(known))
        return PythonError.from_exception(exc)
    launched = None
    if backfillParams.get("forceSynchronousSubmission"):
        backfill = backfills.backfill_progress(backfill_id=backfill.backfill_id)
        launched = list(_backfill_runs(backfill).order_by("id").values_list("run_id", flat=True))
    return LaunchBackfillSuccess(backfillId=backfill.backfill_id, launchedRunIds=launched)


def _launch_asset_backfill(info, backfillParams) -> Any:
    keys = ["/".join(key["path"]) for key in backfillParams["assetSelection"]]
    names = backfillParams.get("partitionNames")
    every = bool(backfillParams.get("allPartitions"))
    if names is not None and every:
        return PythonError(message="Give either partitionNames or allPartitions, not both.", stack=[])
    tags = {t["key"]: t["value"] for t in backfillParams.get("tags") or []}
    try:
        backfill = backfills.backfill_create(asset_selection=keys, partition_names=None if every else list(names or []),
                                             all_partitions=every, tags=tags, actor=_actor(info))
    except InvalidInput as exc:
        if "has no partitions named" in str(exc):
            return PartitionKeysNotFoundError(message=str(exc), partitionKeys=sorted(set(names or [])))
        return PythonError.from_exception(exc)
    except NotFound as exc:
        return PythonError.from_exception(exc)
    launched = None
    if backfillParams.get("forceSynchronousSubmission"):
        backfill = backfills.backfill_progress(backfill_id=backfill.backfill_id)
        launched = list(_backfill_runs(backfill).order_by("id").values_list("run_id", flat=True))
    return LaunchBackfillSuccess(backfillId=backfill.backfill_id, launchedRunIds=launched)


@errors_as_data
def resolve_cancel_backfill(root, info, backfillId: str) -> Any:
    try:
        backfills.backfill_cancel(backfill_id=backfillId, actor=_actor(info))
    except (NotFound, Conflict) as exc:
        return PythonError.from_exception(exc)
    return CancelBackfillSuccess(backfillId=backfillId)


@errors_as_data
def resolve_resume_backfill(root, info, backfillId: str) -> Any:
    try:
        backfills.backfill_resume(backfill_id=backfillId, actor=_actor(info))
    except (NotFound, Conflict) as exc:
        return PythonError.from_exception(exc)
    return ResumeBackfillSuccess(backfillId=backfillId)


@errors_as_data
def resolve_reexecute_backfill(root, info, reexecutionParams=None) -> Any:
    if reexecutionParams is None:
        return PythonError(message="reexecutePartitionBackfill needs reexecutionParams naming the backfill "
                                   "(parentRunId).", stack=[])
    try:
        backfill = backfills.backfill_reexecute_failed(backfill_id=reexecutionParams["parentRunId"],
                                                       actor=_actor(info))
    except (NotFound, Conflict, InvalidInput) as exc:
        return PythonError.from_exception(exc)
    return LaunchBackfillSuccess(backfillId=backfill.backfill_id, launchedRunIds=None)


class SchedulingQueries(graphene.ObjectType):
    """Composed into the root `Query` by `orchestra_site.schema`."""

    schedulesOrError = graphene.Field(graphene.NonNull(SchedulesOrError),
                                      repositorySelector=graphene.NonNull(RepositorySelector),
                                      scheduleStatus=InstigationStatus(), resolver=resolve_schedules)
    scheduleOrError = graphene.Field(graphene.NonNull(ScheduleOrError),
                                     scheduleSelector=graphene.NonNull(ScheduleSelector), resolver=resolve_schedule)
    sensorsOrError = graphene.Field(graphene.NonNull(SensorsOrError),
                                    repositorySelector=graphene.NonNull(RepositorySelector),
                                    sensorStatus=InstigationStatus(), resolver=resolve_sensors)
    sensorOrError = graphene.Field(graphene.NonNull(SensorOrError), sensorSelector=graphene.NonNull(SensorSelector),
                                   resolver=resolve_sensor)
    instigationStateOrError = graphene.Field(graphene.NonNull(InstigationStateOrError),
                                             instigationSelector=graphene.NonNull(InstigationSelector),
                                             id=graphene.String(), resolver=resolve_instigation_state)
    partitionBackfillOrError = graphene.Field(graphene.NonNull(PartitionBackfillOrError),
                                              backfillId=graphene.NonNull(graphene.String), resolver=resolve_backfill)
    partitionBackfillsOrError = graphene.Field(graphene.NonNull(PartitionBackfillsOrError),
                                               status=BulkActionStatus(), cursor=graphene.String(),
                                               limit=graphene.Int(), resolver=resolve_backfills)


class SchedulingMutations(graphene.ObjectType):
    """Composed into the root `Mutation` by `orchestra_site.schema`."""

    startSchedule = graphene.Field(graphene.NonNull(ScheduleMutationResult),
                                   scheduleSelector=graphene.NonNull(ScheduleSelector), resolver=resolve_start_schedule)
    stopRunningSchedule = graphene.Field(graphene.NonNull(ScheduleMutationResult), id=graphene.String(),
                                         scheduleOriginId=graphene.String(), scheduleSelectorId=graphene.String(),
                                         resolver=resolve_stop_schedule)
    resetSchedule = graphene.Field(graphene.NonNull(ScheduleMutationResult),
                                   scheduleSelector=graphene.NonNull(ScheduleSelector), resolver=resolve_reset_schedule)
    startSensor = graphene.Field(graphene.NonNull(SensorOrError), sensorSelector=graphene.NonNull(SensorSelector),
                                 resolver=resolve_start_sensor)
    setSensorCursor = graphene.Field(graphene.NonNull(SensorOrError), cursor=graphene.String(),
                                     sensorSelector=graphene.NonNull(SensorSelector), resolver=resolve_set_sensor_cursor)
    stopSensor = graphene.Field(graphene.NonNull(StopSensorMutationResultOrError), id=graphene.String(),
                                jobOriginId=graphene.String(), jobSelectorId=graphene.String(),
                                resolver=resolve_stop_sensor)
    resetSensor = graphene.Field(graphene.NonNull(SensorOrError), sensorSelector=graphene.NonNull(SensorSelector),
                                 resolver=resolve_reset_sensor)
    launchPartitionBackfill = graphene.Field(graphene.NonNull(LaunchBackfillResult),
                                             backfillParams=graphene.NonNull(LaunchBackfillParams),
                                             resolver=resolve_launch_backfill)
    resumePartitionBackfill = graphene.Field(graphene.NonNull(ResumeBackfillResult),
                                             backfillId=graphene.NonNull(graphene.String),
                                             resolver=resolve_resume_backfill)
    reexecutePartitionBackfill = graphene.Field(graphene.NonNull(LaunchBackfillResult),
                                                reexecutionParams=ReexecutionParams(),
                                                resolver=resolve_reexecute_backfill)
    cancelPartitionBackfill = graphene.Field(graphene.NonNull(CancelBackfillResult),
                                             backfillId=graphene.NonNull(graphene.String),
                                             resolver=resolve_cancel_backfill)


TYPES = (InstigationStates, ScheduleData, SensorData)
