"""Reads of schedule and sensor state and their ticks."""

from __future__ import annotations

import hashlib

from django.db.models import Count, F, Prefetch, Q, QuerySet, Subquery, Window, prefetch_related_objects
from django.db.models.functions import RowNumber

from core.exceptions import NotFound
from runs.models import Run, RunTag
from runs.selectors import BACKFILL_TAG
from scheduling.models import Backfill, InstigatorKind, InstigatorState, Tick

PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
# The tag naming the schedule or sensor that requested a run (scheduling.ticks writes it).
NAME_TAGS = {InstigatorKind.SCHEDULE: "dagster/schedule_name", InstigatorKind.SENSOR: "dagster/sensor_name"}


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


def instigator_find(*, kind: str | None, name: str, location_name: str | None = None,
                    repository_name: str | None = None, include_absent: bool = False) -> list[InstigatorState]:
    """The states named `name` (of `kind`, in `location_name` / `repository_name` when given): one, or several
    when locations share the name, or none."""
    states = instigator_list(kind=kind, location_name=location_name, include_absent=include_absent).filter(name=name)
    if repository_name is not None:
        return [s for s in states if (s.repository_name or "__repository__") == repository_name]
    return list(states)


def instigator_selector_id(state: InstigatorState) -> str:
    """A stable id for one schedule or sensor (Dagster's selector id is also a hash of its selector)."""
    return hashlib.sha1(f"{state.kind}:{state.location_name}:{state.repository_name}:{state.name}".encode()).hexdigest()


def instigator_by_id(*, kind: str, value: str) -> InstigatorState | None:
    """A state by the ids the APIs hand out: its selector id, or `<repository>@<location>:<kind>:<name>`
    (GraphQL's `Schedule.id` / `Sensor.jobOriginId`)."""
    if f":{kind.lower()}:" in value:
        repository_id, name = value.split(f":{kind.lower()}:", 1)
        repository, _, location = repository_id.partition("@")
        found = instigator_find(kind=kind, name=name, location_name=location, repository_name=repository,
                                include_absent=True)
        return found[0] if found else None
    return next((s for s in InstigatorState.objects.filter(kind=kind) if instigator_selector_id(s) == value), None)


def instigator_names(*, kind: str, location_name: str | None = None) -> list[str]:
    return sorted(set(instigator_list(kind=kind, location_name=location_name).values_list("name", flat=True)))


def _instigator_tags(states: list[InstigatorState]) -> tuple[QuerySet[RunTag], dict[tuple, int]]:
    """The run tags naming any of `states`, and each state's pk by (tag key, name, location)."""
    by_name = {(NAME_TAGS[s.kind], s.name, s.location_name): s.pk for s in states if s.pk is not None}
    match = Q(pk__in=[])
    for key in {k for k, _, _ in by_name}:
        names = {n for k, n, _ in by_name if k == key}
        locations = {loc for k, _, loc in by_name if k == key}
        match |= Q(key=key, value__in=names, run__location_name__in=locations)
    return RunTag.objects.filter(match), by_name


def instigator_runs_count(*, states: list[InstigatorState]) -> dict[int, int]:
    """How many runs each state requested, by state pk, in one query."""
    tags, by_name = _instigator_tags(states)
    counts = {pk: 0 for pk in by_name.values()}
    for row in tags.values("key", "value", "run__location_name").annotate(n=Count("run_id")):
        pk = by_name.get((row["key"], row["value"], row["run__location_name"]))
        if pk is not None:
            counts[pk] = row["n"]
    return counts


def instigator_runs(*, states: list[InstigatorState], limit: int | None = None) -> dict[int, list[Run]]:
    """The runs each state requested, newest first (the newest `limit` of each), by state pk, in two queries
    (runs, then their tags)."""
    tags, by_name = _instigator_tags(states)
    if limit is not None:
        tags = tags.annotate(rank=Window(RowNumber(), partition_by=[F("key"), F("value"), F("run__location_name")],
                                         order_by=F("run_id").desc())).filter(rank__lte=limit)
    tags = tags.select_related("run").order_by("-run_id")
    runs: dict[int, list[Run]] = {pk: [] for pk in by_name.values()}
    found = [(by_name.get((t.key, t.value, t.run.location_name)), t.run) for t in tags]
    prefetch_related_objects([run for _, run in found], Prefetch("tags"))
    for pk, run in found:
        if pk is not None:
            runs[pk].append(run)
    return runs


def tick_get(*, state_id: int | None, tick_id: str | int) -> Tick:
    """One tick of a state, or NotFound."""
    tick = (Tick.objects.filter(state_id=state_id, pk=int(tick_id)).first()
            if state_id is not None and str(tick_id).isdigit() else None)
    if tick is None:
        raise NotFound("tick", str(tick_id))
    return tick


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
    plan = Backfill.objects.filter(backfill_id=backfill_id).values_list("run_plan", flat=True).first() or []
    ranged = {unit["run_id"]: unit["partitions"] for unit in plan if unit.get("ranged") and unit.get("run_id")}
    for run in Run.objects.filter(run_id__in=list(ranged)).order_by("id") if ranged else []:
        for partition in ranged[run.run_id]:  # a run of a partition range: each partition of it
            runs.setdefault(partition, []).append(run)
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
