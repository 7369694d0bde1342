"""GraphQL step stats of a run: Dagster's `RunStepStats` (status, times, attempts, markers) behind `Run.stepStats`.

Read from `runs.selectors.run_step_stats` (one query for the whole run). Dagster's step status has no
"up for retry": a step waiting for its next attempt is IN_PROGRESS with its last attempt ended, and its
`endTime` is null until a final event, as in Dagster.
"""

from __future__ import annotations

from datetime import datetime

import graphene

from runs import selectors

StepEventStatus = graphene.Enum(
    "StepEventStatus", [(name, name) for name in ("SKIPPED", "SUCCESS", "FAILURE", "IN_PROGRESS")]
)


def _seconds(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


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
