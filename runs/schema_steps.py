"""GraphQL step stats of a run: Dagster's `RunStepStats` (status, times, attempts, markers) behind `Run.stepStats`.

Read from `runs.selectors.runs_step_stats`: one query for the whole run, or for every run of a runs page, and
one more for the materializations and expectation results of all those steps when a query asks for them. Dagster's step status has no
"up for retry": a step waiting for its next attempt is IN_PROGRESS with its last attempt ended, and its
`endTime` is null until a final event, as in Dagster.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

import graphene

from runs import selectors
from runs.models import EventLogEntry
from runs.schema_events import ExpectationResult, MaterializationEvent

_STEP_RESULT_EVENTS = ("ASSET_MATERIALIZATION", "STEP_EXPECTATION_RESULT")

StepEventStatus = graphene.Enum(
    "StepEventStatus", [(name, name) for name in ("SKIPPED", "SUCCESS", "FAILURE", "IN_PROGRESS")]
)


def _seconds(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


class StepStatsLoader:
    """Step stats for one request: the first run asked for loads those of every run of the pages listed so far
    (one query per page, not one per run); likewise the steps' materializations and expectation results."""

    def __init__(self) -> None:
        self.loaded: dict[str, list[selectors.StepStats]] = {}
        self.pending: set[str] = set()
        self.results: dict[tuple[str, str, str], list[EventLogEntry]] | None = None

    def expect(self, run_ids: Iterable[str]) -> None:
        self.pending.update(run_ids)

    def of(self, run_id: str) -> list[selectors.StepStats]:
        if run_id not in self.loaded:
            wanted = (self.pending - self.loaded.keys()) | {run_id}
            self.loaded.update(selectors.runs_step_stats(run_ids=sorted(wanted)))
            self.pending.clear()
            self.results = None  # read again, with the new runs, if asked
        return self.loaded[run_id]

    def step_results(self, step: selectors.StepStats, event_type: str) -> list[EventLogEntry]:
        if self.results is None:
            self.results = defaultdict(list)
            for row in selectors.runs_step_events(run_ids=sorted(self.loaded), event_types=_STEP_RESULT_EVENTS):
                self.results[(row.run_id, row.step_key, row.event_type)].append(row)
        return self.results.get((step.run_id, step.step_key, event_type), [])


def step_stats_loader(info) -> StepStatsLoader:
    context = info.context
    loader = getattr(context, "_step_stats_loader", None)
    if loader is None:
        loader = context._step_stats_loader = StepStatsLoader()
    return loader


class RunMarker(graphene.ObjectType):
    """A span of a step: one attempt, or the time between an engine event's marker start and end."""

    startTime = graphene.Float()
    endTime = graphene.Float()


class RunStepStats(graphene.ObjectType):
    class Meta:
        possible_types = (selectors.StepStats,)

    runId = graphene.NonNull(graphene.String)
    stepKey = graphene.NonNull(graphene.String)
    status = graphene.Field(StepEventStatus)
    startTime = graphene.Float()
    endTime = graphene.Float()
    attempts = graphene.NonNull(graphene.List(graphene.NonNull(RunMarker)))
    markers = graphene.NonNull(graphene.List(graphene.NonNull(RunMarker)))
    materializations = graphene.NonNull(graphene.List(graphene.NonNull(MaterializationEvent)))
    expectationResults = graphene.NonNull(graphene.List(graphene.NonNull(ExpectationResult)))

    def resolve_runId(step: selectors.StepStats, info) -> str:
        return step.run_id

    def resolve_stepKey(step: selectors.StepStats, info) -> str:
        return step.step_key

    def resolve_status(step: selectors.StepStats, info) -> str | None:
        if step.status == "UP_FOR_RETRY":
            return "IN_PROGRESS"
        return None if step.status == "NOT_STARTED" else step.status

    def resolve_startTime(step: selectors.StepStats, info) -> float | None:
        return _seconds(step.start_time)

    def resolve_endTime(step: selectors.StepStats, info) -> float | None:
        return None if step.status == "UP_FOR_RETRY" else _seconds(step.end_time)

    def resolve_attempts(step: selectors.StepStats, info) -> list[RunMarker]:
        return [RunMarker(startTime=_seconds(start), endTime=_seconds(end)) for start, end in step.attempt_spans]

    def resolve_markers(step: selectors.StepStats, info) -> list[RunMarker]:
        return [RunMarker(startTime=_seconds(start), endTime=_seconds(end)) for start, end in step.markers.values()]

    def resolve_materializations(step: selectors.StepStats, info) -> list[EventLogEntry]:
        return step_stats_loader(info).step_results(step, "ASSET_MATERIALIZATION")

    def resolve_expectationResults(step: selectors.StepStats, info) -> list[EventLogEntry]:
        return step_stats_loader(info).step_results(step, "STEP_EXPECTATION_RESULT")



# --- the steps a run planned: Dagster's `Run.executionPlan` ---------------------------------------------------

StepKind = graphene.Enum("StepKind", [(name, name) for name in ("COMPUTE", "UNRESOLVED_MAPPED", "UNRESOLVED_COLLECT")])


class ExecutionStep(graphene.ObjectType):
    """A planned step: its key and `kind`. Orchestra plans steps from the job's stored snapshot by key
    (runs.reexecution.planned_steps), so every step reads COMPUTE, a mapped node appearing as its node's key;
    Dagster's `inputs`, `outputs`, `solidHandleID` and `metadata` are not served."""

    key = graphene.NonNull(graphene.String)
    kind = graphene.NonNull(StepKind)

    def resolve_key(root: str, info) -> str:
        return root

    def resolve_kind(root: str, info) -> str:
        return "COMPUTE"


class ExecutionPlan(graphene.ObjectType):
    """The steps a run planned, in plan order (a subset of Dagster's `ExecutionPlan`: `steps` only; its
    `artifactsPersisted`, `assetKeys`, `assetSelection` and `assetCheckKeys` are not served). The root is the
    list of planned step keys."""

    steps = graphene.NonNull(graphene.List(graphene.NonNull(ExecutionStep)))

    def resolve_steps(root: list[str], info) -> list[str]:
        return root
