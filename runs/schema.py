"""The runs app's GraphQL: runs, their event logs and assets, with Dagster's type names and result unions.

Resolvers only parse arguments, call a selector or service and pick the union member; expected
outcomes (not found, bad filter, unauthorized) are members, anything else is a `PythonError`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import graphene
import yaml
from graphene.types.generic import GenericScalar

from core.exceptions import InvalidInput, NotFound
from core.graphql import AssetKeyInput, Error, PythonError, UnauthorizedError, errors_as_data
from core.permissions import Permission, actor_from_request, has_permission
from runs import models as run_models
from runs import selectors, services
from runs.schema_events import DagsterRunEvent, LogLevel, MaterializationEvent, asset_key_path
from runs.schema_logs import LogQueries
from runs.schema_metadata import METADATA_ENTRY_TYPES, AssetKey
from runs.schema_steps import ExecutionPlan, RunStepStats, step_stats_loader

RunStatus = graphene.Enum.from_enum(run_models.RunStatus, description="The status of a run.")
CANCELABLE_STATUSES = frozenset({run_models.RunStatus.QUEUED, run_models.RunStatus.STARTED})
DEFAULT_EVENT_PAGE = 1000


class RunConfigData(GenericScalar):
    """A run's config as a JSON value (not a JSON-encoded string)."""


def _timestamp(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def _datetime(seconds: float | None) -> datetime | None:
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidInput(f"{seconds} is not a timestamp in seconds")


def parse_event_cursor(cursor: str | None) -> int | None:
    """The storage id an opaque event cursor stands for ('' or None: from the start)."""
    if not cursor:
        return None
    try:
        return int(cursor)
    except ValueError:
        raise InvalidInput(f"cursor {cursor!r} is not a cursor this server returned")


# --- errors -----------------------------------------------------------------------------------------


class PipelineRunNotFoundError(graphene.Interface):
    class Meta:
        interfaces = (Error,)

    runId = graphene.NonNull(graphene.String)
    message = graphene.NonNull(graphene.String)


class RunNotFoundError(graphene.ObjectType):
    class Meta:
        interfaces = (PipelineRunNotFoundError, Error)

    @classmethod
    def for_run(cls, run_id: str) -> RunNotFoundError:
        return cls(runId=run_id, message=f"Run {run_id} could not be found.")


class InvalidPipelineRunsFilterError(graphene.ObjectType):
    class Meta:
        interfaces = (Error,)


class AssetNotFoundError(graphene.ObjectType):
    class Meta:
        interfaces = (Error,)


# --- events -----------------------------------------------------------------------------------------


class EventConnection(graphene.ObjectType):
    """A page of a run's events; pass `cursor` back as `afterCursor` for the next page."""

    class Meta:
        possible_types = (selectors.EventPage,)

    events = graphene.NonNull(graphene.List(graphene.NonNull(DagsterRunEvent)))
    cursor = graphene.NonNull(graphene.String)
    hasMore = graphene.NonNull(graphene.Boolean)

    def resolve_cursor(page: selectors.EventPage, info) -> str:
        return "" if page.cursor is None else str(page.cursor)

    def resolve_hasMore(page: selectors.EventPage, info) -> bool:
        return page.has_more


class EventConnectionOrError(graphene.Union):
    class Meta:
        types = (EventConnection, RunNotFoundError, PythonError)


class OrchestraEventLogFilter(graphene.InputObjectType):
    """Orchestra's extension of `logsForRun` (not in Dagster's schema): only the events that meet every given
    condition, filtered in the database — the run page's event-log filter on runs too big to hold in a page."""

    eventTypes = graphene.List(graphene.NonNull(graphene.String),
                               description='Stored event type names (DagsterEventType); "LOG" is a plain log message.')
    stepKeys = graphene.List(graphene.NonNull(graphene.String))
    minLevel = graphene.Field(LogLevel, description="The lowest level kept.")
    text = graphene.String(description="A case-insensitive substring of the message.")
    beforeCursor = graphene.String(description="Only events before this cursor (a cursor this server returned).")


LEVEL_NUMBERS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}


def event_filter_from_input(data: Any) -> selectors.EventFilter | None:
    if data is None:
        return None
    level = data.get("minLevel")
    return selectors.EventFilter(
        event_types=data.get("eventTypes"), step_keys=data.get("stepKeys"),
        min_level=LEVEL_NUMBERS[getattr(level, "value", level)] if level is not None else None,
        text=data.get("text") or None, before=parse_event_cursor(data.get("beforeCursor")),
    )


@errors_as_data
def resolve_logs(root, info, runId: str, afterCursor: str | None = None, limit: int | None = None,
                 eventFilter: Any = None) -> Any:
    try:
        return selectors.events_page(
            run_id=runId,
            cursor=parse_event_cursor(afterCursor),
            limit=DEFAULT_EVENT_PAGE if limit is None else limit,
            filters=event_filter_from_input(eventFilter),
        )
    except NotFound:
        return RunNotFoundError.for_run(runId)


# --- runs -------------------------------------------------------------------------------------------


class PipelineTag(graphene.ObjectType):
    key = graphene.NonNull(graphene.String)
    value = graphene.NonNull(graphene.String)


class PipelineRun(graphene.Interface):
    """Dagster's legacy name for a run, kept because its Python client asks for `... on PipelineRun`."""

    id = graphene.NonNull(graphene.ID)
    runId = graphene.NonNull(graphene.String)
    pipelineSnapshotId = graphene.String()
    status = graphene.NonNull(RunStatus)
    pipelineName = graphene.NonNull(graphene.String)
    jobName = graphene.NonNull(graphene.String)
    solidSelection = graphene.List(graphene.NonNull(graphene.String))
    stepKeysToExecute = graphene.List(graphene.NonNull(graphene.String))
    runConfigYaml = graphene.NonNull(graphene.String)
    runConfig = graphene.NonNull(RunConfigData)
    mode = graphene.NonNull(graphene.String)
    tags = graphene.NonNull(graphene.List(graphene.NonNull(PipelineTag)))
    rootRunId = graphene.String()
    parentRunId = graphene.String()
    canTerminate = graphene.NonNull(graphene.Boolean)
    stepStats = graphene.NonNull(graphene.List(graphene.NonNull(RunStepStats)))
    executionPlan = graphene.Field(ExecutionPlan)
    eventConnection = graphene.NonNull(EventConnection, afterCursor=graphene.String(), limit=graphene.Int())

    def resolve_id(run: run_models.Run, info) -> str:
        return run.run_id

    def resolve_runId(run: run_models.Run, info) -> str:
        return run.run_id

    def resolve_pipelineSnapshotId(run: run_models.Run, info) -> str | None:
        return run.snapshot_id or None

    def resolve_pipelineName(run: run_models.Run, info) -> str:
        return run.job_name

    def resolve_jobName(run: run_models.Run, info) -> str:
        return run.job_name

    def resolve_solidSelection(run: run_models.Run, info) -> list[str] | None:
        return run.op_selection

    def resolve_stepKeysToExecute(run: run_models.Run, info) -> list[str] | None:
        return run.step_keys_to_execute

    def resolve_runConfigYaml(run: run_models.Run, info) -> str:
        return yaml.safe_dump(run.run_config, default_flow_style=False, sort_keys=False, allow_unicode=True)

    def resolve_runConfig(run: run_models.Run, info) -> Any:
        return run.run_config

    def resolve_mode(run: run_models.Run, info) -> str:
        return "default"

    def resolve_tags(run: run_models.Run, info) -> list[dict[str, str]]:
        # Plain dicts (PipelineTag's fields resolve by key): a graphene object per tag cost more.
        return [{"key": k, "value": v} for k, v in selectors.run_tags(run).items()]

    def resolve_rootRunId(run: run_models.Run, info) -> str | None:
        return run.root_run_id

    def resolve_parentRunId(run: run_models.Run, info) -> str | None:
        return run.parent_run_id

    def resolve_canTerminate(run: run_models.Run, info) -> bool:
        return run.status in CANCELABLE_STATUSES

    def resolve_stepStats(run: run_models.Run, info) -> list[selectors.StepStats]:
        return step_stats_loader(info).of(run.run_id)

    def resolve_executionPlan(run: run_models.Run, info) -> list[str] | None:
        """The step keys the run planned (runs.reexecution.planned_steps); null when its job is gone."""
        from runs.reexecution import planned_steps

        try:
            return planned_steps(run)
        except NotFound:
            return None

    def resolve_eventConnection(
        run: run_models.Run, info, afterCursor=None, limit=None
    ) -> selectors.EventPage:
        return selectors.events_page(
            run_id=run.run_id,
            cursor=parse_event_cursor(afterCursor),
            limit=DEFAULT_EVENT_PAGE if limit is None else limit,
        )


class Run(graphene.ObjectType):
    """A run; its root is a `runs.models.Run` fetched with its tags."""

    class Meta:
        interfaces = (PipelineRun,)
        possible_types = (run_models.Run,)

    runStatus = graphene.NonNull(RunStatus)
    creationTime = graphene.NonNull(graphene.Float)
    startTime = graphene.Float()
    endTime = graphene.Float()
    updateTime = graphene.Float()
    assetSelection = graphene.List(graphene.NonNull(AssetKey))
    resolvedOpSelection = graphene.List(graphene.NonNull(graphene.String))
    hasDeletePermission = graphene.NonNull(graphene.Boolean)
    hasReExecutePermission = graphene.NonNull(graphene.Boolean)
    hasTerminatePermission = graphene.NonNull(graphene.Boolean)

    def resolve_runStatus(run: run_models.Run, info) -> str:
        return run.status

    def resolve_creationTime(run: run_models.Run, info) -> float:
        return run.created_at.timestamp()

    def resolve_startTime(run: run_models.Run, info) -> float | None:
        return _timestamp(run.started_at)

    def resolve_endTime(run: run_models.Run, info) -> float | None:
        return _timestamp(run.ended_at)

    def resolve_updateTime(run: run_models.Run, info) -> float | None:
        return _timestamp(run.updated_at)

    def resolve_assetSelection(run: run_models.Run, info) -> list[AssetKey] | None:
        if run.asset_selection is None:
            return None
        # Stored as key paths or as paths joined by '/'.
        return [
            AssetKey(path=k if isinstance(k, list) else asset_key_path(str(k))) for k in run.asset_selection
        ]

    def resolve_resolvedOpSelection(run: run_models.Run, info) -> list[str] | None:
        return run.op_selection

    def resolve_hasDeletePermission(run: run_models.Run, info) -> bool:
        return has_permission(info.context, Permission.DELETE_PIPELINE_RUN, run.location_name or None)

    def resolve_hasReExecutePermission(run: run_models.Run, info) -> bool:
        return has_permission(info.context, Permission.LAUNCH_PIPELINE_REEXECUTION, run.location_name or None)

    def resolve_hasTerminatePermission(run: run_models.Run, info) -> bool:
        return has_permission(info.context, Permission.TERMINATE_PIPELINE_EXECUTION, run.location_name or None)


class RunOrError(graphene.Union):
    class Meta:
        types = (Run, RunNotFoundError, PythonError)


class PipelineRuns(graphene.Interface):
    results = graphene.NonNull(graphene.List(graphene.NonNull(Run)))
    count = graphene.Int()


@dataclass(frozen=True)
class RunsPage:
    results: list[run_models.Run]
    filters: selectors.RunFilter | None


class Runs(graphene.ObjectType):
    """A page of runs; `count` counts every run matching the filter (one query, only when asked)."""

    class Meta:
        interfaces = (PipelineRuns,)
        possible_types = (RunsPage,)

    count = graphene.NonNull(graphene.Int)

    def resolve_count(page: RunsPage, info) -> int:
        return selectors.run_count(filters=page.filters)


class RunsOrError(graphene.Union):
    class Meta:
        types = (Runs, InvalidPipelineRunsFilterError, PythonError)


class ExecutionTag(graphene.InputObjectType):
    key = graphene.NonNull(graphene.String)
    value = graphene.NonNull(graphene.String)


class RunsFilter(graphene.InputObjectType):
    """Which runs to list; every given condition must hold. Times are seconds since the epoch.

    A tag key given twice matches either value (Dagster keeps only the last).
    """

    runIds = graphene.List(graphene.String)
    pipelineName = graphene.String()
    tags = graphene.List(graphene.NonNull(ExecutionTag))
    statuses = graphene.List(graphene.NonNull(RunStatus))
    snapshotId = graphene.String()
    updatedAfter = graphene.Float()
    updatedBefore = graphene.Float()
    createdBefore = graphene.Float()
    createdAfter = graphene.Float()
    mode = graphene.String(description="Accepted for Dagster's clients; every run's mode is 'default'.")


def run_filter_from_input(data: Any) -> selectors.RunFilter | None:
    if data is None:
        return None
    return selectors.RunFilter(
        run_ids=[r for r in data["runIds"] if r is not None] if data.get("runIds") is not None else None,
        job_name=data.get("pipelineName"),
        statuses=[getattr(s, "value", s) for s in data.get("statuses") or []],
        tags=selectors.tag_filter((tag["key"], tag["value"]) for tag in data.get("tags") or []),
        created_before=_datetime(data.get("createdBefore")),
        created_after=_datetime(data.get("createdAfter")),
        updated_before=_datetime(data.get("updatedBefore")),
        updated_after=_datetime(data.get("updatedAfter")),
        snapshot_id=data.get("snapshotId"),
    )


# --- assets -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssetRef:
    """An asset known to the asset index, by its stored key (the path joined by '/')."""

    key: str


class Asset(graphene.ObjectType):
    class Meta:
        possible_types = (AssetRef,)

    id = graphene.NonNull(graphene.String)
    key = graphene.NonNull(AssetKey)
    assetMaterializations = graphene.NonNull(
        graphene.List(graphene.NonNull(MaterializationEvent)),
        partitions=graphene.List(graphene.NonNull(graphene.String)),
        limit=graphene.Int(),
    )

    def resolve_id(asset: AssetRef, info) -> str:
        return json.dumps(asset_key_path(asset.key))

    def resolve_key(asset: AssetRef, info) -> AssetKey:
        return AssetKey(path=asset_key_path(asset.key))

    def resolve_assetMaterializations(asset: AssetRef, info, partitions=None, limit=None) -> list[Any]:
        return selectors.asset_materializations(
            asset_key=asset.key, partitions=partitions, limit=selectors.MAX_PAGE if limit is None else limit
        )


class AssetConnection(graphene.ObjectType):
    nodes = graphene.NonNull(graphene.List(graphene.NonNull(Asset)))
    cursor = graphene.String()


class AssetsOrError(graphene.Union):
    class Meta:
        types = (AssetConnection, PythonError)


class AssetOrError(graphene.Union):
    class Meta:
        types = (Asset, AssetNotFoundError)


# --- deletion ---------------------------------------------------------------------------------------


class DeletePipelineRunSuccess(graphene.ObjectType):
    runId = graphene.NonNull(graphene.String)


class DeletePipelineRunResult(graphene.Union):
    class Meta:
        types = (DeletePipelineRunSuccess, UnauthorizedError, PythonError, RunNotFoundError)


# --- roots ------------------------------------------------------------------------------------------


# The Run model's JSON fields and the GraphQL fields of `Run` that read them. A runs page whose
# `results` ask for none of a field's readers does not load (and decode) that field.
_JSON_FIELD_READERS = {
    "run_config": {"runConfigYaml", "runConfig"},
    "op_selection": {"solidSelection", "resolvedOpSelection"},
    "step_keys_to_execute": {"stepKeysToExecute"},
    "asset_selection": {"assetSelection"},
    "asset_check_selection": set(),
    "origin": set(),
    "launcher": set(),
}


def _unread_run_fields(info) -> list[str]:
    """The JSON fields of `Run` that no field selected under `results` reads (none when unsure)."""
    requested = _selected_fields(info, info.field_nodes[0].selection_set, under="results")
    if requested is None:
        return []
    return [field for field, readers in _JSON_FIELD_READERS.items() if not readers & requested]


def _selected_fields(info, selection_set, under: str | None = None) -> set[str] | None:
    """Names of the fields in `selection_set` (through fragments), or of those under field `under`."""
    from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode

    names: set[str] = set()
    for node in selection_set.selections if selection_set else ():
        if isinstance(node, FieldNode):
            if under is None:
                names.add(node.name.value)
            elif node.name.value == under:
                inner = _selected_fields(info, node.selection_set)
                if inner is None:
                    return None
                names |= inner
        elif isinstance(node, (InlineFragmentNode, FragmentSpreadNode)):
            fragment = node if isinstance(node, InlineFragmentNode) else info.fragments.get(node.name.value)
            if fragment is None:
                return None
            inner = _selected_fields(info, fragment.selection_set, under)
            if inner is None:
                return None
            names |= inner
        else:
            return None
    return names


@errors_as_data
def resolve_runs(root, info, filter=None, cursor=None, limit=None) -> Any:
    try:
        filters = run_filter_from_input(filter)
        runs = selectors.run_list(
            filters=filters, cursor=cursor, limit=selectors.MAX_PAGE if limit is None else limit,
            defer=_unread_run_fields(info),
        )
    except (InvalidInput, NotFound) as exc:
        return InvalidPipelineRunsFilterError(message=str(exc))
    step_stats_loader(info).expect(run.run_id for run in runs)
    return RunsPage(results=runs, filters=filters)


@errors_as_data
def resolve_run(root, info, runId: str) -> Any:
    try:
        return selectors.run_get(run_id=runId)
    except NotFound:
        return RunNotFoundError.for_run(runId)


@errors_as_data
def resolve_delete_run(root, info, runId: str) -> Any:
    try:
        services.run_delete(run_id=runId, actor=actor_from_request(info.context))
    except NotFound:
        return RunNotFoundError.for_run(runId)
    return DeletePipelineRunSuccess(runId=runId)


@errors_as_data
def resolve_assets(root, info, prefix=None, assetKeys=None, cursor=None, limit=None) -> Any:
    keys = selectors.asset_keys_list(
        prefix=prefix,
        asset_keys=["/".join(k["path"]) for k in assetKeys] if assetKeys is not None else None,
        cursor=cursor,
        limit=limit,
    )
    return AssetConnection(nodes=[AssetRef(key) for key in keys], cursor=keys[-1] if keys else None)


def resolve_asset(root, info, assetKey) -> Any:
    # Dagster's AssetOrError has no PythonError member: an unexpected error fails the request (500).
    key = "/".join(assetKey["path"])
    if not selectors.asset_keys_list(asset_keys=[key], limit=1):
        return AssetNotFoundError(message=f"Asset key {json.dumps(assetKey['path'])} not found.")
    return AssetRef(key)


class RunQueries(LogQueries, graphene.ObjectType):
    """The runs app's root query fields; composed into the root `Query` by `orchestra_site.schema`."""

    runsOrError = graphene.NonNull(
        RunsOrError,
        filter=RunsFilter(),
        cursor=graphene.String(),
        limit=graphene.Int(),
        resolver=resolve_runs,
    )
    pipelineRunsOrError = graphene.NonNull(
        RunsOrError,
        filter=RunsFilter(),
        cursor=graphene.String(),
        limit=graphene.Int(),
        resolver=resolve_runs,
    )
    runOrError = graphene.NonNull(RunOrError, runId=graphene.ID(required=True), resolver=resolve_run)
    pipelineRunOrError = graphene.NonNull(RunOrError, runId=graphene.ID(required=True), resolver=resolve_run)
    logsForRun = graphene.NonNull(
        EventConnectionOrError,
        runId=graphene.ID(required=True),
        afterCursor=graphene.String(),
        limit=graphene.Int(),
        eventFilter=graphene.Argument(OrchestraEventLogFilter, description=OrchestraEventLogFilter.__doc__),
        resolver=resolve_logs,
    )
    assetsOrError = graphene.NonNull(
        AssetsOrError,
        prefix=graphene.List(graphene.NonNull(graphene.String)),
        assetKeys=graphene.List(graphene.NonNull(AssetKeyInput)),
        cursor=graphene.String(),
        limit=graphene.Int(),
        resolver=resolve_assets,
    )
    assetOrError = graphene.NonNull(
        AssetOrError, assetKey=AssetKeyInput(required=True), resolver=resolve_asset
    )


class RunMutations(graphene.ObjectType):
    """The runs app's mutations; composed into the root `Mutation` by `orchestra_site.schema`."""

    deleteRun = graphene.NonNull(
        DeletePipelineRunResult, runId=graphene.String(required=True), resolver=resolve_delete_run
    )
    deletePipelineRun = graphene.NonNull(
        DeletePipelineRunResult, runId=graphene.String(required=True), resolver=resolve_delete_run
    )


# Orchestra's additions to Dagster's schema, named as such (tests/runs/test_schema.py checks everything else
# against Dagster's): types, `Type.field`s and `Type.field(argument)`s.
EXTENSION_TYPES = frozenset({"OrchestraEventLogFilter"})
EXTENSION_FIELDS = frozenset({"MarkdownMetadataEntry.mdHtml"})
EXTENSION_ARGUMENTS = frozenset({"Query.logsForRun(eventFilter)"})

# Types reachable only through an interface (metadata entries), which the root schema lists explicitly.
INTERFACE_ONLY_TYPES = METADATA_ENTRY_TYPES
