"""Reads of schedule and sensor state and their ticks."""

from __future__ import annotations

from django.db.models import QuerySet, Subquery

from core.exceptions import NotFound
from runs.models import Run, RunTag
from scheduling.models import Backfill, InstigatorState, Tick

BACKFILL_TAG = "dagster/backfill"
PARTITION_TAG = "dagster/partition"


def instigator_list(*, kind: str | None = None, location_name: str | None = None,
                    include_absent: bool = False) -> QuerySet[InstigatorState]:
    states = InstigatorState.objects.all()
    if kind is not None:
        states = states.filter(kind=kind)
    if location_name is not None:
        states = states.filter(location_name=location_name)
    if not include_absent:
        states = states.filter(present=True)
    return states.order_by("location_name", "kind", "name")


def instigator_get(*, kind: str, location_name: str, name: str) -> InstigatorState:
    try:
        return InstigatorState.objects.get(kind=kind, location_name=location_name, name=name)
    except InstigatorState.DoesNotExist:
        raise NotFound(kind.lower(), f"{name}@{location_name}") from None


def tick_list(*, state_id: int, limit: int = 50, before_id: int | None = None,
              statuses: list[str] | None = None) -> QuerySet[Tick]:
    """A state's ticks, newest first, paged by tick id."""
    ticks = Tick.objects.filter(state_id=state_id)
    if before_id is not None:
        ticks = ticks.filter(id__lt=before_id)
    if statuses:
        ticks = ticks.filter(status__in=statuses)
    return ticks.order_by("-id")[:limit]


def backfill_ids_in_progress() -> list[str]:
    """Ids of the backfills still to advance (requested or being canceled)."""
    from scheduling.models import Backfill, BackfillStatus

    active = Backfill.objects.filter(status__in=[BackfillStatus.REQUESTED, BackfillStatus.CANCELING])
    return list(active.values_list("backfill_id", flat=True))


def backfill_list(*, status: str | None = None, cursor: str | None = None, limit: int | None = 50) -> list[Backfill]:
    """Backfills newest first; `cursor` is the id of the last backfill of the previous page."""
    rows = Backfill.objects.all()
    if status is not None:
        rows = rows.filter(status=status.upper())
    if cursor:
        rows = rows.filter(id__lt=Subquery(Backfill.objects.filter(backfill_id=cursor).values("id")[:1]))
    rows = rows.order_by("-id")
    return list(rows[:limit] if limit is not None else rows)


def backfill_get(*, backfill_id: str) -> Backfill:
    backfill = Backfill.objects.filter(backfill_id=backfill_id).first() if isinstance(backfill_id, str) else None
    if backfill is None:
        raise NotFound("backfill", backfill_id)
    return backfill


def backfill_partition_runs(*, backfill_id: str) -> dict[str, list[Run]]:
    """The runs of each partition of a backfill (oldest first; a re-executed partition has several), in one
    query."""
    tags = RunTag.objects.filter(key=PARTITION_TAG, run__in=RunTag.objects.filter(
        key=BACKFILL_TAG, value=backfill_id).values("run_id")).select_related("run").order_by("run_id")
    runs: dict[str, list[Run]] = {}
    for tag in tags:
        runs.setdefault(tag.value, []).append(tag.run)
    return runs


def backfill_location_name(*, backfill_id: str) -> str | None:
    """The code location of backfill `backfill_id`, or None for an unknown one (for permission checks)."""
    from scheduling.models import Backfill

    if not isinstance(backfill_id, str) or "\x00" in backfill_id:
        return None
    return Backfill.objects.filter(backfill_id=backfill_id).values_list("location_name", flat=True).first() or None


def latest_ticks(*, state_ids: list[int]) -> dict[int, Tick]:
    """The newest tick of each of the given states, by state id, in one query."""
    from django.db.models import Max, Subquery

    newest = (Tick.objects.filter(state_id__in=state_ids).values("state_id").annotate(newest=Max("id"))
              .values("newest"))
    return {tick.state_id: tick for tick in Tick.objects.filter(id__in=Subquery(newest))}


def ticks_recent_by_state(*, state_ids: list[int], limit: int = 5, before_id: int | None = None,
                          statuses: list[str] | None = None) -> dict[int, list[Tick]]:
    """The newest `limit` ticks of each state, newest first, in one query (lists of schedules stay constant
    in queries whatever their length)."""
    from django.db.models import F, Window
    from django.db.models.functions import RowNumber

    ticks = Tick.objects.filter(state_id__in=state_ids)
    if before_id is not None:
        ticks = ticks.filter(id__lt=before_id)
    if statuses:
        ticks = ticks.filter(status__in=statuses)
    ranked = ticks.annotate(rank=Window(RowNumber(), partition_by=[F("state_id")], order_by=F("id").desc()))
    by_state: dict[int, list[Tick]] = {pk: [] for pk in state_ids}
    for tick in ranked.filter(rank__lte=limit).order_by("-id"):
        by_state[tick.state_id].append(tick)
    return by_state
