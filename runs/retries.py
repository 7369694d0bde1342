"""Run retries: the daemon duty that re-executes failed runs (Dagster's EVENT_LOG_CONSUMER daemon).

It reads RUN_FAILURE events after a stored event-id cursor and, for each failed run that the
instance's `run_retries` and the run's tags allow, submits a re-execution through
`runs.reexecution.run_reexecute` with Dagster's tags. Consumers are serialised by a row lock on the
cursor (an IMMEDIATE transaction on SQLite), and every retry carries the idempotency key
`retry:<run id>`, so two daemon workers never create two retries of one run.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from core.instance_config import RunRetriesConfig
from orchestra._core.metadata.json_form import metadata_to_json
from orchestra._core.metadata.values import MetadataValue
from runs import selectors
from runs.models import DaemonCursor, EventLogEntry, Run, RunStatus
from runs.services import IDEMPOTENCY_KEY_TAG, EventInput, event_store, run_tags_add

DAEMON_TYPE = "EVENT_LOG_CONSUMER"
DAEMON_QUEUE = "daemon"
RETRIES_TASK = "runs.run_retries_consume"
# Dagster's key in its daemon cursor storage, so the meaning of the stored value is the same.
CURSOR_KEY = "EVENT_LOG_CONSUMER_CURSOR-RUN_FAILURE"
DEFAULT_FETCH_LIMIT = 500

MAX_RETRIES_TAG = "dagster/max_retries"
RETRY_STRATEGY_TAG = "dagster/retry_strategy"
RETRY_ON_ASSET_OR_OP_FAILURE_TAG = "dagster/retry_on_asset_or_op_failure"
RETRY_NUMBER_TAG = "dagster/retry_number"
WILL_RETRY_TAG = "dagster/will_retry"
AUTO_RETRY_RUN_ID_TAG = "dagster/auto_retry_run_id"
FAILURE_REASON_TAG = "dagster/failure_reason"
STRATEGIES = ("FROM_FAILURE", "ALL_STEPS", "FROM_ASSET_FAILURE")
DEFAULT_STRATEGY = "FROM_FAILURE"

logger = logging.getLogger(__name__)


@dataclass
class RetriesResult:
    """What one pass of the consumer did: (failed run, retry run) pairs, runs not retried, errors."""

    retried: list[tuple[str, str]] = field(default_factory=list)
    not_retried: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cursor: int | None = None


def run_retries_config() -> RunRetriesConfig | None:
    """The instance's `run_retries` section when retries are enabled, else None."""
    config = settings.INSTANCE.config.run_retries
    return config if config.enabled else None


def run_retries_consume(*, limit: int = DEFAULT_FETCH_LIMIT, actor: Any = None) -> RetriesResult:
    """Retry the runs whose RUN_FAILURE events came after the stored cursor; a no-op when disabled.

    The first pass starts at the newest event (as Dagster does), so enabling retries never retries
    old failures. The cursor advances past every event read, in the transaction that submits the
    retries; a run that cannot be retried gets an engine event saying why and `dagster/will_retry`
    set to false.
    """
    config = run_retries_config()
    result = RetriesResult()
    if config is None:
        return result
    with transaction.atomic():
        cursor = _locked_cursor()
        after = int(cursor.value or 0)
        failures = list(
            EventLogEntry.objects.filter(id__gt=after, event_type="RUN_FAILURE")
            .order_by("id").values_list("id", "run_id", "payload")[:limit]
        )
        for _event_id, run_id, payload in failures:
            reason = (payload or {}).get("failure_reason") if isinstance(payload, Mapping) else None
            try:
                with transaction.atomic():
                    _consider(run_id=run_id, failure_reason=reason, config=config, result=result, actor=actor)
            except Exception as exc:  # one run's fault must not stop the others or the cursor
                logger.exception("deciding whether to retry run %s failed", run_id)
                result.errors.append(f"{run_id}: {type(exc).__name__}: {exc}")
        if failures:
            cursor.value = str(failures[-1][0])
            cursor.updated_at = timezone.now()
            cursor.save(update_fields=["value", "updated_at"])
        result.cursor = int(cursor.value)
    return result


def _locked_cursor() -> DaemonCursor:
    if not DaemonCursor.objects.filter(key=CURSOR_KEY).exists():
        newest = EventLogEntry.objects.aggregate(newest=Max("id"))["newest"] or 0
        DaemonCursor.objects.get_or_create(key=CURSOR_KEY, defaults={"value": str(newest)})
    # The row lock serialises consumers (two daemon workers): the second reads the cursor the first
    # committed, so it does not even look at the failures the first retried.
    return DaemonCursor.objects.select_for_update().get(key=CURSOR_KEY)


def _consider(*, run_id: str, failure_reason: str | None, config: RunRetriesConfig, result: RetriesResult,
              actor: Any) -> None:
    run = Run.objects.filter(run_id=run_id).first()
    if run is None or run.status != RunStatus.FAILURE:
        return
    tags = selectors.run_tags(run)
    reason = failure_reason or tags.get(FAILURE_REASON_TAG) or run.failure_reason or None
    if tags.get(WILL_RETRY_TAG) is None:
        will_retry, why_not = should_retry(run=run, tags=tags, failure_reason=reason, config=config)
        run_tags_add(run_id=run_id, tags={WILL_RETRY_TAG: str(will_retry).lower()}, actor=actor)
        if why_not:
            _engine_event(run_id, why_not)
    else:
        will_retry = _bool_tag(tags[WILL_RETRY_TAG], False)
    if not will_retry:
        result.not_retried.append(run_id)
        return
    _retry(run=run, tags=tags, result=result, actor=actor)


def should_retry(*, run: Run, tags: Mapping[str, str], failure_reason: str | None,
                 config: RunRetriesConfig) -> tuple[bool, str | None]:
    """Dagster's rule: a failed run retries while its run group (the root and every re-execution of it)
    has at most `max_retries` runs (the `dagster/max_retries` tag overrides the instance's), unless
    it failed in a step and `retry_on_asset_or_op_failure` (tag or instance) is false.

    Returns the decision and, when the reason deserves telling on the run, the engine event text.
    """
    if run.status != RunStatus.FAILURE:
        return False, None
    on_step_failure = _bool_tag(tags.get(RETRY_ON_ASSET_OR_OP_FAILURE_TAG), config.retry_on_asset_or_op_failure)
    if failure_reason == "STEP_FAILURE" and not on_step_failure:
        return False, ("Not retrying run since it failed due to an asset or op failure and run retries are "
                       "configured with retry_on_asset_or_op_failure set to false.")
    raw = tags.get(MAX_RETRIES_TAG)
    if raw is None:
        max_retries = config.max_retries
    else:
        try:
            max_retries = int(raw)
        except ValueError:
            return False, f"Not retrying run: the tag {MAX_RETRIES_TAG}={raw!r} is not an integer."
    if max_retries <= 0:
        return False, None
    return _run_group_size(run) <= max_retries, None


def _retry(*, run: Run, tags: Mapping[str, str], result: RetriesResult, actor: Any) -> None:
    from runs.reexecution import run_reexecute

    strategy = tags.get(RETRY_STRATEGY_TAG)
    if strategy is not None and strategy not in STRATEGIES:
        _engine_event(run.run_id, f"Error parsing retry strategy from tag '{RETRY_STRATEGY_TAG}: {strategy}'")
        strategy = None
    retry_number = _run_group_size(run)
    try:
        with transaction.atomic():
            new_run = run_reexecute(
                parent_run_id=run.run_id, strategy=strategy or DEFAULT_STRATEGY, actor=actor,
                extra_tags={RETRY_NUMBER_TAG: str(retry_number), IDEMPOTENCY_KEY_TAG: f"retry:{run.run_id}"},
            )
    except Exception as exc:
        # As Dagster: give up on this run (will_retry false) rather than fail again at every pass.
        logger.warning("retrying run %s failed: %s", run.run_id, exc)
        _engine_event(run.run_id, "Failed to retry run", error=_error(exc), level=logging.ERROR)
        run_tags_add(run_id=run.run_id, tags={WILL_RETRY_TAG: "false"}, actor=actor)
        result.errors.append(f"{run.run_id}: {type(exc).__name__}: {exc}")
        return
    if tags.get(AUTO_RETRY_RUN_ID_TAG) == new_run.run_id:
        return  # an earlier pass already retried it (the idempotency key answered its run)
    run_tags_add(run_id=run.run_id, tags={AUTO_RETRY_RUN_ID_TAG: new_run.run_id}, actor=actor)
    _engine_event(run.run_id, "Retrying the run", metadata={"new run": MetadataValue.dagster_run(new_run.run_id)})
    _engine_event(new_run.run_id, "Launched as an automatic retry",
                  metadata={"failed run": MetadataValue.dagster_run(run.run_id)})
    result.retried.append((run.run_id, new_run.run_id))


def _run_group_size(run: Run) -> int:
    root = run.root_run_id or run.run_id
    return Run.objects.filter(Q(run_id=root) | Q(root_run_id=root)).count()


def _bool_tag(value: str | None, default: bool) -> bool:
    """Dagster's reading of a boolean tag: anything but false/none/0/empty is true."""
    if value is None:
        return default
    return value.strip().lower() not in {"false", "none", "0", ""}


def _engine_event(run_id: str, message: str, *, metadata: Mapping[str, Any] | None = None, error: Any = None,
                  level: int = logging.INFO) -> None:
    payload = {"metadata": metadata_to_json(metadata) if metadata else [], "error": error,
               "marker_start": None, "marker_end": None}
    event_store(run_id=run_id, strict=False,
                events=[EventInput(event_type="ENGINE_EVENT", level=level, message=message, payload=payload)])


def _error(exc: BaseException) -> dict[str, Any]:
    return {"message": f"{type(exc).__name__}: {exc}", "stack": traceback.format_tb(exc.__traceback__),
            "cls_name": type(exc).__name__, "cause": None, "context": None}
