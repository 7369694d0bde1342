"""The run queue: the daemon's dequeue of QUEUED runs by priority within the instance's limits.

Dagster's QueuedRunCoordinator daemon semantics (`max_concurrent_runs`, `tag_concurrency_limits`
with per-value limits, tag `dagster/priority` higher first then oldest first), made safe for several
daemon workers at once: one transaction serialises dequeuers (an advisory lock on PostgreSQL; on
SQLite the IMMEDIATE transaction already holds the write lock), counts the runs in progress, locks
the chosen QUEUED rows (`FOR UPDATE SKIP LOCKED`) and records the claim as RUN_DEQUEUED
(-> NOT_STARTED, which still holds a slot). Launching happens after commit through
`runs.services.run_launch`, a no-op for a run that is no longer NOT_STARTED; a daemon killed in
between leaves the run to run monitoring, which re-drives it, so a run is never launched twice and
limits are never exceeded.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from pydantic import ValidationError

from core.exceptions import InvalidInput
from core.instance_config import ResolvedInstance, RunQueueConfig, TagConcurrencyLimit
from runs.models import Run, RunStatus, RunTag
from runs.services import EventInput, event_store, run_launch

logger = logging.getLogger(__name__)

PRIORITY_TAG = "dagster/priority"
DEQUEUE_TASK = "runs.run_queue_dequeue"
DAEMON_QUEUE = "daemon"
DAEMON_TYPE = "QUEUED_RUN_COORDINATOR"
# Runs that hold a slot. Dagster counts STARTING, STARTED and CANCELING; NOT_STARTED is added
# because here a dequeued run waits in NOT_STARTED for its launch and must keep its slot meanwhile.
IN_PROGRESS_STATUSES = (RunStatus.NOT_STARTED, RunStatus.STARTING, RunStatus.STARTED, RunStatus.CANCELING)
# Any constant shared by every dequeuer of the database; the advisory lock serialises them.
_ADVISORY_LOCK_KEY = 0x0C0DE_0001


def run_queue_config(instance: ResolvedInstance | None = None) -> RunQueueConfig | None:
    """The instance's effective run-queue settings, or None when runs are not queued.

    From `run_queue` (the shorthand) or a QueuedRunCoordinator's `config`; `concurrency.runs`
    overrides `max_concurrent_runs` and `tag_concurrency_limits`, as in Dagster.
    """
    instance = instance if instance is not None else settings.INSTANCE
    config = instance.config
    if not instance.uses_queue:
        return None
    if config.run_queue is not None:
        queue = config.run_queue
    else:
        assert config.run_coordinator is not None
        try:
            queue = RunQueueConfig.model_validate(config.run_coordinator.config)
        except ValidationError as exc:
            raise InvalidInput(f"run_coordinator.config is not a valid QueuedRunCoordinator config: {exc}") from None
    runs = config.concurrency.runs
    if runs is not None:
        update: dict[str, Any] = {}
        if runs.max_concurrent_runs is not None:
            update["max_concurrent_runs"] = runs.max_concurrent_runs
        if runs.tag_concurrency_limits is not None:
            update["tag_concurrency_limits"] = runs.tag_concurrency_limits
        queue = queue.model_copy(update=update)
    return queue


class TagLimits:
    """Counts runs per limited tag and answers whether one more run would break a limit.

    A limit without `value` counts every run carrying the key; with a string value, runs carrying
    that key and value; with `{applyLimitPerUniqueValue: true}`, each value of the key separately.
    """

    def __init__(self, limits: Sequence[TagConcurrencyLimit]):
        self.key_limits: dict[str, int] = {}
        self.pair_limits: dict[tuple[str, str], int] = {}
        self.per_value_limits: dict[str, int] = {}
        for limit in limits:
            if isinstance(limit.value, str):
                self.pair_limits[(limit.key, limit.value)] = limit.limit
            elif limit.value and limit.value.get("applyLimitPerUniqueValue"):
                self.per_value_limits[limit.key] = limit.limit
            else:
                self.key_limits[limit.key] = limit.limit
        self.key_counts: dict[str, int] = defaultdict(int)
        self.pair_counts: dict[tuple[str, str], int] = defaultdict(int)

    @property
    def keys(self) -> set[str]:
        return {*self.key_limits, *self.per_value_limits, *(key for key, _ in self.pair_limits)}

    def blocks(self, tags: Mapping[str, str]) -> bool:
        for key, value in tags.items():
            if key in self.key_limits and self.key_counts[key] >= self.key_limits[key]:
                return True
            pair = (key, value)
            if pair in self.pair_limits and self.pair_counts[pair] >= self.pair_limits[pair]:
                return True
            if key in self.per_value_limits and self.pair_counts[pair] >= self.per_value_limits[key]:
                return True
        return False

    def add(self, tags: Mapping[str, str]) -> None:
        for key, value in tags.items():
            if key in self.key_limits:
                self.key_counts[key] += 1
            if (key, value) in self.pair_limits or key in self.per_value_limits:
                self.pair_counts[(key, value)] += 1


@dataclass
class DequeueResult:
    dequeued: list[str] = field(default_factory=list)
    launched: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def run_queue_dequeue(*, limit: int | None = None, actor: Any = None) -> list[str]:
    """Dequeue and launch the QUEUED runs the limits allow now; answer their run ids, in launch order.

    `limit` caps how many runs this call takes (None: as many as the limits allow). A no-op (and
    `[]`) when the instance does not queue runs. Errors of single launches are logged and leave the
    run to `run_launch`'s own failure handling or to run monitoring.
    """
    return run_queue_dequeue_detailed(limit=limit, actor=actor).dequeued


def run_queue_dequeue_detailed(*, limit: int | None = None, actor: Any = None) -> DequeueResult:
    """`run_queue_dequeue` with the launches and errors of the iteration (for the daemon heartbeat)."""
    config = run_queue_config()
    result = DequeueResult()
    if config is None:
        return result
    result.dequeued = _claim(config, limit)
    for run_id in result.dequeued:
        try:
            run_launch(run_id=run_id, actor=actor)
        except Exception as exc:  # one bad launch must not stop the others
            logger.exception("launching dequeued run %s failed", run_id)
            result.errors.append(f"run {run_id}: {type(exc).__name__}: {exc}")
        else:
            result.launched.append(run_id)
    return result


def run_queue_nudge() -> None:
    """Ask a daemon worker to dequeue now, once the current transaction commits.

    A nudge is only a shortcut: if the message is lost, the beat's periodic dequeue finds the run.
    """
    if run_queue_config() is None:
        return
    transaction.on_commit(_send_dequeue_task)


def _send_dequeue_task() -> None:
    from celery import current_app

    try:
        current_app.send_task(DEQUEUE_TASK, queue=DAEMON_QUEUE, expires=60)
    except Exception:  # the broker is down: the periodic dequeue will pick the run up
        logger.warning("could not send the run-queue nudge; the periodic dequeue will launch the run", exc_info=True)


def _claim(config: RunQueueConfig, limit: int | None) -> list[str]:
    """In one transaction: pick the runs to launch, lock them and record RUN_DEQUEUED on each."""
    max_runs = config.max_concurrent_runs
    with transaction.atomic():
        _serialise_dequeuers()
        tag_limits = TagLimits(config.tag_concurrency_limits)
        wanted_keys = tag_limits.keys
        in_progress = list(Run.objects.filter(status__in=IN_PROGRESS_STATUSES).values_list("pk", flat=True))
        room = None if max_runs == -1 else max_runs - len(in_progress)
        if limit is not None:
            room = limit if room is None else min(room, limit)
        if room is not None and room <= 0:
            return []
        if wanted_keys:
            for tags in _tags_of(in_progress, wanted_keys).values():
                tag_limits.add(tags)
        # Lock every QUEUED row nobody else holds (a terminate in flight keeps its run out of this
        # batch); on SQLite select_for_update is a no-op and the IMMEDIATE transaction excludes writers.
        queued = list(
            Run.objects.select_for_update(skip_locked=True)
            .filter(status=RunStatus.QUEUED)
            .order_by("id")
            .values_list("pk", "run_id")
        )
        if not queued:
            return []
        tags_by_pk = _tags_of([pk for pk, _ in queued], wanted_keys | {PRIORITY_TAG})
        ordered = sorted(queued, key=lambda row: -_priority(tags_by_pk.get(row[0], {})))  # stable: FIFO
        chosen: list[str] = []
        for pk, run_id in ordered:
            if room is not None and len(chosen) >= room:
                break
            tags = tags_by_pk.get(pk, {})
            if tag_limits.blocks(tags):
                continue
            tag_limits.add(tags)
            chosen.append(run_id)
        for run_id in chosen:
            event_store(
                run_id=run_id,
                events=[EventInput(event_type="RUN_DEQUEUED", message="Run dequeued by the run queue.")],
            )
    return chosen


def _serialise_dequeuers() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])


def _tags_of(pks: Iterable[int], keys: set[str]) -> dict[int, dict[str, str]]:
    pks = list(pks)
    if not pks or not keys:
        return {}
    tags: dict[int, dict[str, str]] = defaultdict(dict)
    for start in range(0, len(pks), 500):
        rows = RunTag.objects.filter(run_id__in=pks[start : start + 500], key__in=sorted(keys))
        for run_pk, key, value in rows.values_list("run_id", "key", "value"):
            tags[run_pk][key] = value
    return tags


def _priority(tags: Mapping[str, str]) -> int:
    try:
        return int(tags.get(PRIORITY_TAG, "0"))
    except ValueError:
        return 0


@dataclass
class LimitUsage:
    """One concurrency limit of the run queue and how much of it runs in progress use."""

    label: str
    limit: int
    in_use: int


def run_queue_usage() -> dict[str, Any] | None:
    """The run queue's limits with their current use (for the deployment page), or None when runs are not
    queued. Three queries at most, whatever the number of runs."""
    config = run_queue_config()
    if config is None:
        return None
    in_progress = list(Run.objects.filter(status__in=IN_PROGRESS_STATUSES).values_list("pk", flat=True))
    queued = Run.objects.filter(status=RunStatus.QUEUED).count()
    limits = TagLimits(config.tag_concurrency_limits)
    for tags in _tags_of(in_progress, limits.keys).values():
        limits.add(tags)
    rows = [LimitUsage("all runs (max_concurrent_runs)", config.max_concurrent_runs, len(in_progress))]
    rows += [LimitUsage(f"tag {key}", limit, limits.key_counts[key]) for key, limit in sorted(limits.key_limits.items())]
    rows += [LimitUsage(f"tag {key}={value}", limit, limits.pair_counts[(key, value)])
             for (key, value), limit in sorted(limits.pair_limits.items())]
    for key, limit in sorted(limits.per_value_limits.items()):
        values = sorted(value for (k, value) in limits.pair_counts if k == key)
        rows += [LimitUsage(f"tag {key}={value} (per value)", limit, limits.pair_counts[(key, value)]) for value in values]
        if not values:
            rows.append(LimitUsage(f"tag {key}=<each value>", limit, 0))
    return {"limits": rows, "queued": queued, "in_progress": len(in_progress)}
