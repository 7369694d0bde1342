"""Re-execution: a new run from a finished one (all steps, from failure, selected steps, or the assets that failed).

The steps are worked out from the parent's stored events and its job's stored snapshot, with the
same rules as the SDK (`orchestra._core.reexecution`), and the run is submitted through `run_submit`;
the run worker then executes only those steps and reads the outputs of the others from the parent
chain through the IO manager.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from core.exceptions import Conflict, InvalidInput
from orchestra._core.reexecution import (
    STEP_RECORD_TYPES,
    ReexecutionStrategy,
    StepRecord,
    StepShape,
    parse_step_selection,
    step_shapes_from_graph,
    steps_to_retry,
)
from runs import selectors, services
from runs.models import FINISHED_STATUSES, EventLogEntry, Run, RunStatus

PARENT_RUN_ID_TAG = "dagster/parent_run_id"
ROOT_RUN_ID_TAG = "dagster/root_run_id"
RESUME_RETRY_TAG = "dagster/is_resume_retry"
ASSET_RESUME_RETRY_TAG = "dagster/is_asset_resume_retry"
STEP_SELECTION_TAG = "dagster/step_selection"
# Dagster's TAGS_TO_MAYBE_OMIT_ON_RETRY, plus the submission's idempotency key (a retry is a new run)
# and the lineage tags this module sets itself.
_NOT_INHERITED = frozenset({
    "dagster/failure_reason", "dagster/retry_number", RESUME_RETRY_TAG, ASSET_RESUME_RETRY_TAG,
    "dagster/will_retry", "dagster/auto_retry_run_id", "dagster/backfill", "dagster/parent_backfill_id",
    "dagster/root_backfill_id", "dagster/run_metrics", ".dagster/run_metrics", "orchestra/idempotency_key",
    PARENT_RUN_ID_TAG, ROOT_RUN_ID_TAG, "dagster/code_location", STEP_SELECTION_TAG,
})


def run_reexecute(*, parent_run_id: str, strategy: str = "FROM_FAILURE", extra_tags: Mapping[str, str] | None = None,
                  run_config: Mapping | None = None, step_keys: Sequence[str] | None = None, actor: Any = None) -> Run:
    """Submit a re-execution of the finished run `parent_run_id`.

    `strategy` is Dagster's `ReexecutionStrategy`: FROM_FAILURE (the steps that failed, were
    interrupted or never ran, and their downstream; the parent must have failed or been canceled),
    FROM_ASSET_FAILURE (the assets and checks the parent planned and did not materialize or pass),
    ALL_STEPS. `step_keys` re-executes just those steps of the parent (Dagster's "re-execute selected":
    the strategy must be ALL_STEPS; the run gets `dagster/step_selection`), reading the outputs of the
    others from the parent chain. The new run keeps the parent's tags (less Dagster's per-attempt ones), its run config
    unless `run_config` is given, and its op or asset selection, and gets `dagster/parent_run_id`,
    `dagster/root_run_id` and, from failure, `dagster/is_resume_retry`.

    Raises NotFound (unknown run), Conflict (a run not finished yet), InvalidInput (an unknown
    strategy, nothing to re-execute, or steps the parent did not plan), and whatever `run_submit` raises.
    """
    parent = selectors.run_get(run_id=parent_run_id)
    try:
        chosen = ReexecutionStrategy(strategy)
    except ValueError:
        raise InvalidInput(
            f"strategy must be one of {[s.value for s in ReexecutionStrategy]}, got {strategy!r}"
        ) from None
    if parent.status not in FINISHED_STATUSES:
        raise Conflict(f"run {parent_run_id!r} is {parent.status}: only a finished run can be re-executed")
    if not parent.location_name:
        raise InvalidInput(
            f"run {parent_run_id!r} was executed in process, not from a code location: re-execute it where its code "
            "is, with execute_job(..., reexecution_options=ReexecutionOptions(...))"
        )
    parent_tags = selectors.run_tags(parent)
    tags = {k: v for k, v in parent_tags.items() if k not in _NOT_INHERITED}
    tags.update({str(k): str(v) for k, v in (extra_tags or {}).items()})
    tags[PARENT_RUN_ID_TAG] = parent.run_id
    tags[ROOT_RUN_ID_TAG] = parent.root_run_id or parent.run_id
    to_execute = None
    asset_selection = ["/".join(path) for path in parent.asset_selection] if parent.asset_selection else None
    check_selection = _check_texts(parent.asset_check_selection)
    if step_keys is not None:
        if chosen != ReexecutionStrategy.ALL_STEPS:
            raise InvalidInput(f"a step selection re-executes with strategy ALL_STEPS, got {chosen.value}")
        to_execute = selected_steps(parent, step_keys)
        tags[STEP_SELECTION_TAG] = ",".join(to_execute)
    elif chosen == ReexecutionStrategy.FROM_FAILURE:
        if parent.status not in (RunStatus.FAILURE, RunStatus.CANCELED):
            raise InvalidInput(
                f"run {parent_run_id!r} is {parent.status}: only a failed or canceled run can be re-executed from failure"
            )
        to_execute = steps_from_failure(parent)
        if not to_execute:
            raise InvalidInput(f"run {parent_run_id!r}: no steps needed to be retried in the failed run")
        tags[RESUME_RETRY_TAG] = "true"
    elif chosen == ReexecutionStrategy.FROM_ASSET_FAILURE:
        asset_selection, check_selection = keys_from_asset_failure(parent)
        if not asset_selection and not check_selection:
            raise InvalidInput(f"run {parent_run_id!r}: no assets or asset checks needed to be retried in the failed run")
        tags[ASSET_RESUME_RETRY_TAG] = "true"
    return services.run_submit(
        job_name=parent.job_name, location_name=parent.location_name or None,
        repository_name=parent.repository_name or None,
        run_config=dict(run_config) if run_config is not None else parent.run_config, tags=tags,
        op_selection=parent.op_selection or None, asset_selection=asset_selection,
        asset_check_selection=check_selection, step_keys_to_execute=to_execute,
        parent_run_id=parent.run_id, root_run_id=parent.root_run_id or parent.run_id, actor=actor,
    )


def selected_steps(parent: Run, step_keys: Sequence[str]) -> list[str]:
    """`step_keys` in the parent's order, each one a step the parent planned (its step subset, or every step
    of its job's stored snapshot under its op selection)."""
    wanted = list(dict.fromkeys(str(key).strip() for key in step_keys if str(key).strip()))
    if not wanted:
        raise InvalidInput("select at least one step to re-execute")
    planned = planned_steps(parent)
    # A mapped step ("op[key]") is planned when its node is; its mapping keys exist only at run time.
    nodes = {key.split("[", 1)[0] for key in planned}
    unknown = [key for key in wanted if key not in planned and key.split("[", 1)[0] not in nodes]
    if unknown:
        raise InvalidInput(f"run {parent.run_id!r} did not plan the steps {unknown}")
    order = {key: index for index, key in enumerate(planned)}
    return sorted(wanted, key=lambda key: order.get(key, order.get(key.split("[", 1)[0], len(order))))


def planned_steps(run: Run) -> list[str]:
    """The step keys `run` planned, in plan order: its step subset, or every step of its job's stored snapshot
    under its op selection (a mapped step appears as its node's key). Raises NotFound when the job is gone."""
    from workspace import selectors as workspace_selectors

    if run.step_keys_to_execute:
        return list(run.step_keys_to_execute)
    job = workspace_selectors.job_snapshot(
        location_name=run.location_name, job_name=run.job_name, repository_name=run.repository_name or None,
    )
    shapes = step_shapes_from_graph(job["graph"])
    if run.op_selection:
        shapes = _op_subset(shapes, run.op_selection)
    if run.asset_selection:
        shapes = _asset_subset(run, shapes)
    return [shape.key for shape in shapes]


def _asset_subset(run: Run, shapes: list[StepShape]) -> list[StepShape]:
    """The steps of the nodes `run`'s asset selection runs (all of them when the snapshot cannot tell)."""
    from runs import submission

    target = submission.resolve_target(job_name=run.job_name, location_name=run.location_name,
                                       repository_name=run.repository_name or None)
    nodes = submission.asset_selection_nodes(target.job, run.asset_selection)
    if nodes is None:
        return shapes
    return [shape for shape in shapes if shape.key.split("[", 1)[0].split(".", 1)[0] in nodes]


def steps_from_failure(parent: Run) -> list[str]:
    """The step keys a FROM_FAILURE re-execution of `parent` runs, from its job's stored snapshot."""
    from workspace import selectors as workspace_selectors

    job = workspace_selectors.job_snapshot(
        location_name=parent.location_name, job_name=parent.job_name, repository_name=parent.repository_name or None,
    )
    shapes = step_shapes_from_graph(job["graph"])
    if parent.op_selection:
        shapes = _op_subset(shapes, parent.op_selection)
    return steps_to_retry(shapes, parent.step_keys_to_execute, _step_records(parent.run_id))


def _op_subset(shapes: list[StepShape], op_selection: list[str]) -> list[StepShape]:
    """The steps of the top-level nodes an op selection picks (nested handles follow their graph)."""
    def top(key: str) -> str:
        return key.split("[", 1)[0].split(".", 1)[0]

    nodes: dict[str, set[str]] = {}
    for shape in shapes:
        nodes.setdefault(top(shape.key), set()).update(top(d) for d in shape.deps if top(d) != top(shape.key))
    node_shapes = [StepShape(name, frozenset(deps)) for name, deps in nodes.items()]
    clauses = [clause.split(".", 1)[0] if "." in clause.strip("*+") else clause for clause in op_selection]
    try:
        selected = set(parse_step_selection(node_shapes, clauses))
    except Exception as exc:
        raise InvalidInput(f"the parent run's op_selection {op_selection!r} no longer fits its job: {exc}") from None
    return [s for s in shapes if top(s.key) in selected]


def _step_records(run_id: str) -> Iterator[StepRecord]:
    cursor = None
    while True:
        rows = selectors.events_after(run_id=run_id, cursor=cursor, limit=10_000, event_types=STEP_RECORD_TYPES)
        for row in rows:
            payload = row.payload or {}
            yield StepRecord(row.event_type, row.step_key or "", payload.get("output_name"), payload.get("mapping_key"))
        if len(rows) < 10_000:
            return
        cursor = rows[-1].id


def keys_from_asset_failure(parent: Run) -> tuple[list[str], list[str]]:
    """Assets ("a/b") and checks ("a/b:name") the parent planned and did not materialize or pass.

    As Dagster: an asset with a failed blocking check is re-executed with all its checks; a check is
    re-executed when it did not run or its asset is re-executed.
    """
    from workspace import selectors as workspace_selectors

    job = None
    if parent.asset_selection:
        planned_assets = ["/".join(path) for path in parent.asset_selection]
    else:
        job = workspace_selectors.job_snapshot(
            location_name=parent.location_name, job_name=parent.job_name, repository_name=parent.repository_name or None,
        )
        planned_assets = list(job.get("asset_keys") or [])
    if parent.asset_check_selection is not None:
        parent_checks = _check_texts(parent.asset_check_selection) or []
    else:
        parent_checks = list(job.get("asset_check_keys") or []) if job is not None else []
    materialized = set(
        EventLogEntry.objects.filter(run_id=parent.run_id, event_type="ASSET_MATERIALIZATION")
        .values_list("asset_key", flat=True).distinct()
    )
    evaluated: set[str] = set()
    blocked: set[str] = set()
    for asset_key, payload in EventLogEntry.objects.filter(
        run_id=parent.run_id, event_type="ASSET_CHECK_EVALUATION"
    ).values_list("asset_key", "payload"):
        payload = payload or {}
        if payload.get("blocking") and not payload.get("passed"):
            blocked.add(asset_key)
        else:
            evaluated.add(f"{asset_key}:{payload.get('check_name', '')}")
    assets = [key for key in planned_assets if key not in materialized or key in blocked]
    checks = [
        key for key in parent_checks
        if key not in evaluated or key.rsplit(":", 1)[0] in blocked or key.rsplit(":", 1)[0] in assets
    ]
    return assets, checks


def _check_texts(selection: Any) -> list[str] | None:
    if selection is None:
        return None
    texts = []
    for item in selection:
        if isinstance(item, str):
            texts.append(item)
        else:
            path, name = item
            texts.append(f"{'/'.join(path) if isinstance(path, list | tuple) else path}:{name}")
    return texts
