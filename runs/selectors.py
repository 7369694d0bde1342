"""Reads of runs, events and the asset index, each list in a constant number of queries."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.base import ModelState
from django.db.models.functions import Left

from core.exceptions import InvalidInput, NotFound
from runs.models import AssetIndex, DynamicPartition, EventLogEntry, Run, RunStatus, RunTag

MAX_PAGE = 1000


@dataclass(frozen=True)
class RunFilter:
    """Filters of the runs list, with Dagster's `RunsFilter` meaning (all given filters must hold)."""

    run_ids: Sequence[str] | None = None
    job_name: str | None = None
    statuses: Sequence[str] | None = None
    tags: Mapping[str, str | Sequence[str]] = field(default_factory=dict)
    created_before: datetime | None = None
    created_after: datetime | None = None
    updated_before: datetime | None = None
    updated_after: datetime | None = None
    snapshot_id: str | None = None
    location_name: str | None = None
    # Orchestra's: runs that targeted this asset (its key path joined by "/"): planned or materialized it.
    asset_key: str | None = None


TARGET_ASSET_EVENTS = ("ASSET_MATERIALIZATION_PLANNED", "ASSET_MATERIALIZATION")
BACKFILL_TAG = "dagster/backfill"  # Dagster's tag on the runs a backfill launched


def tag_filter(pairs: Iterable[tuple[str, str]]) -> dict[str, str | list[str]]:
    """`RunFilter.tags` from (key, value) pairs: each key must match, one of its values if repeated."""
    tags: dict[str, list[str]] = {}
    for key, value in pairs:
        tags.setdefault(key, []).append(value)
    return {key: values[0] if len(values) == 1 else values for key, values in tags.items()}


def run_get(*, run_id: str) -> Run:
    if "\x00" in run_id:  # no run id holds NUL, and PostgreSQL refuses it in a query
        raise NotFound("run", run_id)
    run = Run.objects.filter(run_id=run_id).prefetch_related("tags").first()
    if run is None:
        raise NotFound("run", run_id)
    return run


def run_location_name(*, run_id: str) -> str | None:
    """The code location of run `run_id`, or None for an unknown run (what permission checks ask for)."""
    if not isinstance(run_id, str) or "\x00" in run_id:
        return None
    return Run.objects.filter(run_id=run_id).values_list("location_name", flat=True).first() or None


def run_tags(run: Run) -> dict[str, str]:
    """The tags of a run fetched by `run_get`/`run_list` (uses their prefetch: no query)."""
    rows = run.__dict__.get("_tag_rows")  # a `run_list` page's: plain rows, no RunTag objects
    if rows is not None:
        return {key: value for _, key, value in rows}
    return {t.key: t.value for t in run.tags.all()}


def _filtered(filters: RunFilter | None) -> QuerySet[Run]:
    qs = Run.objects.all()
    if filters is None:
        return qs
    if filters.run_ids is not None:
        qs = qs.filter(run_id__in=list(filters.run_ids))
    if filters.job_name:
        qs = qs.filter(job_name=filters.job_name)
    if filters.location_name:
        qs = qs.filter(location_name=filters.location_name)
    if filters.statuses:
        qs = qs.filter(status__in=[str(s) for s in filters.statuses])
    if filters.created_before is not None:
        qs = qs.filter(created_at__lt=filters.created_before)
    if filters.created_after is not None:
        qs = qs.filter(created_at__gt=filters.created_after)
    if filters.updated_before is not None:
        qs = qs.filter(updated_at__lt=filters.updated_before)
    if filters.updated_after is not None:
        qs = qs.filter(updated_at__gt=filters.updated_after)
    if filters.snapshot_id:
        qs = qs.filter(snapshot_id=filters.snapshot_id)
    if filters.asset_key:
        # The asset events of a run name its targets: planned when the run starts, materialized as it goes
        # (read on the (asset_key, event_type, …) index, one subquery whatever the number of runs).
        targeted = EventLogEntry.objects.filter(
            asset_key=filters.asset_key, event_type__in=TARGET_ASSET_EVENTS,
        ).values("run_id")
        qs = qs.filter(run_id__in=targeted)
    driving = _driving_tag(filters)
    for key, value in filters.tags.items():
        if key == driving:
            # A join, not an EXISTS: a run has one value per key, so the join adds no rows, and
            # `_newest_first` orders by this tag's run id (equal to Run.id), so the database walks
            # the (key, value, run) index backwards and stops after `limit` rows instead of scanning
            # runs newest first and probing each for the tag (SQLite's plan for EXISTS: a full scan
            # when fewer than `limit` runs match).
            qs = qs.filter(tags__key=key, tags__value=value)
        else:
            values = {"value": value} if isinstance(value, str) else {"value__in": list(value)}
            qs = qs.filter(Exists(RunTag.objects.filter(run=OuterRef("pk"), key=key, **values)))
    return qs


def _driving_tag(filters: RunFilter | None) -> str | None:
    """The first tag filtered on one value (a list of values has no single index order to walk)."""
    if filters is None:
        return None
    return next((key for key, value in filters.tags.items() if isinstance(value, str)), None)


def _newest_first(qs: QuerySet[Run], filters: RunFilter | None) -> QuerySet[Run]:
    return qs.order_by("-tags__run_id" if _driving_tag(filters) is not None else "-id")


def run_list(*, filters: RunFilter | None = None, cursor: str | None = None, limit: int = 50,
             defer: Sequence[str] = ()) -> list[Run]:
    """Runs matching `filters`, newest first, after the run named by `cursor` (a run id).

    Two queries whatever the page size: the runs, then their tags. `defer` names model fields the
    caller will not read (decoding the JSON fields of 50 runs is most of the runs query's CPU); one
    read anyway costs a query per run.
    """
    if limit < 1 or limit > MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}, got {limit}")
    qs = _filtered(filters)
    if cursor:
        # The cursor's id as a subquery, not a query of its own: two queries per page, cursor or not.
        qs = qs.filter(id__lt=Subquery(Run.objects.filter(run_id=cursor).order_by().values("id")[:1]))
    page = _with_tags(_loaded_runs(_newest_first(qs, filters), limit, defer))
    if cursor and not page and not Run.objects.filter(run_id=cursor).exists():
        raise NotFound("run", cursor)  # an unknown cursor compares as NULL: an empty page, then this
    return page


def _loaded_runs(qs: QuerySet[Run], limit: int, defer: Sequence[str]) -> list[Run]:
    """The first `limit` runs of `qs` as `qs.defer(*defer)` loads them, without `Model.__init__`.

    Its loop over the fields (with deferred ones among them) cost more than the query on a 50-run
    page. Run has no init-signal receivers and no relation fields; a deferred field is absent from
    the instance's `__dict__`, so reading it loads it, as after `defer()`.
    """
    names = [f.attname for f in Run._meta.concrete_fields if f.attname not in defer and f.name not in defer]
    db = qs.db
    runs = []
    for row in qs.values_list(*names)[:limit]:
        run = Run.__new__(Run)
        run._state = ModelState()
        run._state.adding, run._state.db = False, db
        run.__dict__.update(zip(names, row, strict=True))
        runs.append(run)
    return runs


def _with_tags(runs: list[Run]) -> list[Run]:
    """`runs` with their tags read in one query, as plain rows that `run_tags` reads.

    `run.tags.all()` finds them too, as `prefetch_related("tags")` leaves them, but its RunTag
    objects and queryset are built only when asked for (`_TagPrefetch`): building them for every
    run cost a fifth of the CPU of a 50-run GraphQL page, whose resolvers read `run_tags`.
    """
    by_run: dict[int, list[tuple[int, str, str]]] = {run.pk: [] for run in runs}
    if by_run:
        rows = RunTag.objects.filter(run_id__in=list(by_run)).order_by("id").values_list("id", "run_id", "key", "value")
        for pk, run_pk, key, value in rows:
            by_run[run_pk].append((pk, key, value))
    for run in runs:
        run._tag_rows = by_run[run.pk]
        run._prefetched_objects_cache = _TagPrefetch(run)
    return runs


class _TagPrefetch(dict):
    """A run's prefetch cache whose tags queryset is built from `run._tag_rows` on first use."""

    def __init__(self, run: Run):
        super().__init__()
        self.run = run

    def __missing__(self, name: str) -> QuerySet[RunTag]:
        if name != Run.tags.rel.cache_name:
            raise KeyError(name)
        db = RunTag.objects.db
        tags = QuerySet(model=RunTag)
        tags._result_cache = [_loaded_tag(db, pk, self.run.pk, key, value) for pk, key, value in self.run._tag_rows]
        tags._prefetch_done = True
        self[name] = tags
        return tags

    def __contains__(self, name: object) -> bool:
        return name == Run.tags.rel.cache_name or super().__contains__(name)


def _loaded_tag(db: str, pk: int, run_pk: int, key: str, value: str) -> RunTag:
    """A RunTag as a query would load it, without `Model.__init__` (its field loop and init signals
    cost more than the rest of a runs page: 150 tags on a 50-run page). RunTag has no init-signal
    receivers and these are all its concrete fields."""
    tag = RunTag.__new__(RunTag)
    tag._state = ModelState()
    tag._state.adding, tag._state.db = False, db
    tag.id, tag.run_id, tag.key, tag.value = pk, run_pk, key, value
    return tag


def run_count(*, filters: RunFilter | None = None) -> int:
    return _filtered(filters).count()


def events_after(
    *, run_id: str, cursor: int | None = None, limit: int = 1000, event_types: Sequence[str] | None = None
) -> list[EventLogEntry]:
    """A run's events in order, after storage id `cursor` (exclusive)."""
    if limit < 1 or limit > 10_000:
        raise InvalidInput(f"limit must be between 1 and 10000, got {limit}")
    qs = EventLogEntry.objects.filter(run_id=run_id)
    if cursor is not None:
        qs = qs.filter(id__gt=cursor)
    if event_types:
        qs = qs.filter(event_type__in=list(event_types))
    return list(qs.order_by("id")[:limit])


@dataclass(frozen=True)
class EventPage:
    """A page of a run's event log; `cursor` is the last storage id seen (or the one asked after)."""

    events: list[EventLogEntry]
    cursor: int | None
    has_more: bool


def _run_events(run_id: str, limit: int) -> QuerySet[EventLogEntry]:
    """The events of run `run_id`, each annotated with its run's `job_name`, after checking a page `limit`
    and that the run exists (one query). Raises InvalidInput, NotFound."""
    if limit < 1 or limit > 10_000:
        raise InvalidInput(f"limit must be between 1 and 10000, got {limit}")
    if "\x00" in run_id or not Run.objects.filter(run_id=run_id).exists():
        raise NotFound("run", run_id)
    return EventLogEntry.objects.filter(run_id=run_id).annotate(job_name=F("run__job_name"))


@dataclass(frozen=True)
class EventFilter:
    """Which events of a run's log to read (the run page's event-log filter, applied in the database):
    every given condition must hold. `event_types` are stored type names, "LOG" standing for plain log
    messages; `text` is a case-insensitive substring of the message; `before` an exclusive storage id."""

    event_types: Sequence[str] | None = None
    step_keys: Sequence[str] | None = None
    min_level: int | None = None
    text: str | None = None
    before: int | None = None

    def apply(self, qs: QuerySet[EventLogEntry]) -> QuerySet[EventLogEntry]:
        if self.event_types is not None:
            named = [t for t in self.event_types if t != "LOG"]
            condition = Q(event_type__in=named)
            if "LOG" in self.event_types:
                condition |= Q(event_type=None)
            qs = qs.filter(condition)
        if self.step_keys is not None:
            qs = qs.filter(step_key__in=list(self.step_keys))
        if self.min_level:
            qs = qs.filter(level__gte=self.min_level)
        if self.text:
            if "\x00" in self.text:
                raise InvalidInput("text must not contain NUL")
            qs = qs.filter(message__icontains=self.text)
        if self.before is not None:
            qs = qs.filter(id__lt=self.before)
        return qs


def events_page(*, run_id: str, cursor: int | None = None, limit: int = 1000,
                filters: EventFilter | None = None) -> EventPage:
    """A run's events after storage id `cursor` (those `filters` keep), each annotated with its run's `job_name`.

    Raises NotFound for an unknown run. Two queries: the run's existence, then limit + 1 events.
    """
    qs = _run_events(run_id, limit)
    if cursor is not None:
        qs = qs.filter(id__gt=cursor)
    if filters is not None:
        qs = filters.apply(qs)
    rows = list(qs.order_by("id")[: limit + 1])
    events = rows[:limit]
    return EventPage(events=events, cursor=events[-1].id if events else cursor, has_more=len(rows) > limit)


@dataclass(frozen=True)
class EventTail:
    """The newest events of a run's log before storage id `before`, oldest first; `earliest` is the first
    id shown (the cursor of the page before it) and `latest` the last (where a live tail goes on)."""

    events: list[EventLogEntry]
    earliest: int | None
    latest: int | None
    has_earlier: bool


def events_tail(*, run_id: str, before: int | None = None, limit: int = 500) -> EventTail:
    """The newest `limit` events of a run (before storage id `before`, exclusive), oldest first, so a page
    of a 50,000-event run shows its end and pages back by cursor. Raises NotFound for an unknown run.

    Two queries: the run's existence, then limit + 1 events read newest first on (run_id, id).
    """
    qs = _run_events(run_id, limit)
    if before is not None:
        qs = qs.filter(id__lt=before)
    rows = list(qs.order_by("-id")[: limit + 1])
    events = rows[:limit][::-1]
    return EventTail(events=events, earliest=events[0].id if events else before,
                     latest=events[-1].id if events else None, has_earlier=len(rows) > limit)


def asset_keys_list(
    *,
    prefix: Sequence[str] | None = None,
    asset_keys: Sequence[str] | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> list[str]:
    """Asset keys in the asset index (joined by '/'), in key order, after the key `cursor`.

    `prefix` is a key path: it matches that key and every key below it.
    """
    if limit is not None and (limit < 1 or limit > MAX_PAGE):
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}, got {limit}")
    qs = AssetIndex.objects.all()
    if prefix:
        joined = "/".join(prefix)
        # Equality of the leading characters rather than LIKE (SQLite's LIKE ignores case) or a range
        # (PostgreSQL's linguistic collations order '/' unlike byte order); equality is exact in both.
        below = joined + "/"
        qs = qs.annotate(head=Left("asset_key", len(below))).filter(Q(asset_key=joined) | Q(head=below))
    if asset_keys is not None:
        qs = qs.filter(asset_key__in=list(asset_keys))
    if cursor:
        qs = qs.filter(asset_key__gt=cursor)
    keys = qs.order_by("asset_key").values_list("asset_key", flat=True).distinct()
    return list(keys[:limit] if limit is not None else keys)


def asset_materializations(
    *,
    asset_key: str,
    partitions: Sequence[str] | None = None,
    before_cursor: int | None = None,
    limit: int = 100,
) -> list[EventLogEntry]:
    """Materializations of one asset (optionally of some partitions), newest first."""
    if limit < 1 or limit > MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}, got {limit}")
    qs = EventLogEntry.objects.filter(asset_key=asset_key, event_type="ASSET_MATERIALIZATION")
    if partitions is not None:
        qs = qs.filter(partition__in=list(partitions))
    if before_cursor is not None:
        qs = qs.filter(id__lt=before_cursor)
    return list(qs.order_by("-id")[:limit])


def asset_latest(*, asset_key: str) -> list[AssetIndex]:
    """The asset index rows of one key (one per partition), with their latest events."""
    return list(
        AssetIndex.objects.filter(asset_key=asset_key)
        .select_related("last_materialization", "last_observation")
        .order_by("partition")
    )


def dynamic_partition_keys(*, partitions_def_name: str) -> list[str]:
    """The keys of a dynamic partitions definition, in the order they were added."""
    return list(
        DynamicPartition.objects.filter(partitions_def_name=partitions_def_name)
        .order_by("id")
        .values_list("partition_key", flat=True)
    )


def run_config_check(*, job_name: str, location_name: str | None = None, repository_name: str | None = None,
                     run_config: Any = None, op_selection: Sequence[str] | None = None,
                     asset_selection: Sequence[str] | None = None) -> dict[str, Any]:
    """Validate run config for a job (or an op or asset subset of it) against its stored snapshot, creating
    nothing; answer the config as a plain dict. Raises what `run_submit` raises for the same input
    (JobNotFound, SelectionInvalid, RunConfigInvalid, InvalidInput)."""
    from runs import submission

    job, nodes = _selected_job(job_name=job_name, location_name=location_name, repository_name=repository_name,
                               op_selection=op_selection, asset_selection=asset_selection)
    return submission.validate_run_config(job, run_config, nodes)


def _selected_job(*, job_name: str, location_name: str | None, repository_name: str | None,
                  op_selection: Sequence[str] | None, asset_selection: Sequence[str] | None) -> tuple[Any, Any]:
    """The stored job a check or a default config is for, and the nodes of its op or asset subset (None: all).
    Raises JobNotFound, SelectionInvalid or InvalidInput as `run_submit` would."""
    from runs import submission

    target = submission.resolve_target(job_name=job_name, location_name=location_name,
                                       repository_name=repository_name)
    if op_selection and asset_selection:
        raise InvalidInput("op_selection cannot be combined with asset_selection or asset_check_selection")
    nodes = submission.resolve_op_selection(target.job, op_selection) if op_selection else None
    if asset_selection:
        nodes = submission.asset_selection_nodes(target.job, submission.resolve_asset_selection(target.job,
                                                                                                asset_selection))
    return target.job, nodes


def run_config_defaults(*, job_name: str, location_name: str | None = None, repository_name: str | None = None,
                        op_selection: Sequence[str] | None = None,
                        asset_selection: Sequence[str] | None = None) -> dict[str, Any]:
    """The run config made of the defaults in a job's (or an op or asset subset's) config schema, from its
    stored snapshot. Raises what `run_config_check` raises for the same job and selection."""
    from workspace.config_types import config_default_values

    job, nodes = _selected_job(job_name=job_name, location_name=location_name, repository_name=repository_name,
                               op_selection=op_selection, asset_selection=asset_selection)
    defaults = config_default_values(job.snapshot.get("run_config_schema"))
    if nodes is not None and isinstance(defaults.get("ops"), dict):  # a subset's config names only its ops
        defaults["ops"] = {name: value for name, value in defaults["ops"].items() if name in nodes}
        if not defaults["ops"]:
            del defaults["ops"]
    return defaults


STEP_EVENT_TYPES = ("STEP_START", "STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED", "STEP_UP_FOR_RETRY",
                    "STEP_RESTARTED")


@dataclass
class StepStats:
    """One step of a run as its events tell it (Dagster's `RunStepKeyStatsSnapshot`).

    `attempts` counts the starts; `attempt_spans` holds each attempt's (start, end), the end None while it
    runs; `markers` holds each engine-event marker's (key, start, end), as Dagster's step stats do.
    """

    step_key: str
    status: str = "NOT_STARTED"  # IN_PROGRESS | SUCCESS | FAILURE | SKIPPED | UP_FOR_RETRY
    start_time: datetime | None = None
    end_time: datetime | None = None
    attempts: int = 0
    attempt_spans: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    markers: dict[str, list[datetime | None]] = field(default_factory=dict)
    run_id: str = ""


_STEP_ENDS = {"STEP_SUCCESS": "SUCCESS", "STEP_FAILURE": "FAILURE", "STEP_SKIPPED": "SKIPPED",
              "STEP_UP_FOR_RETRY": "UP_FOR_RETRY"}


def run_step_stats(*, run_id: str) -> list[StepStats]:
    """The steps of a run with their status, times, attempts and markers, in the order they first appeared.

    One query over the run's step lifecycle events and step engine events (for their markers), whatever the
    number of steps.
    """
    return runs_step_stats(run_ids=[run_id])[run_id]


def runs_step_stats(*, run_ids: Sequence[str]) -> dict[str, list[StepStats]]:
    """`run_step_stats` of several runs (a page of a runs list) in one query, by run id (every id present)."""
    from django.db.models.fields.json import KeyTransform

    rows = (EventLogEntry.objects
            .filter(Q(event_type__in=STEP_EVENT_TYPES) | Q(event_type="ENGINE_EVENT"), run_id__in=list(run_ids))
            .exclude(step_key=None).order_by("id")
            .annotate(marker_start=KeyTransform("marker_start", "payload"),  # JSON values: null reads as None
                      marker_end=KeyTransform("marker_end", "payload"))
            .values_list("run_id", "step_key", "event_type", "timestamp", "marker_start", "marker_end"))
    by_run: dict[str, dict[str, StepStats]] = {run_id: {} for run_id in run_ids}
    for run_id, step_key, event_type, timestamp, marker_start, marker_end in rows:
        steps = by_run[run_id]
        if event_type == "ENGINE_EVENT":
            if marker_start or marker_end:
                step = steps.setdefault(step_key, StepStats(step_key=step_key, run_id=run_id))
                if marker_start:
                    step.markers.setdefault(str(marker_start), [None, None])[0] = timestamp
                if marker_end:
                    step.markers.setdefault(str(marker_end), [None, None])[1] = timestamp
            continue
        step = steps.setdefault(step_key, StepStats(step_key=step_key, run_id=run_id))
        if event_type in ("STEP_START", "STEP_RESTARTED"):
            step.status = "IN_PROGRESS"
            step.attempts += 1
            step.start_time = step.start_time or timestamp
            step.end_time = None
            step.attempt_spans.append((timestamp, None))
        else:
            step.status = _STEP_ENDS[event_type]
            step.end_time = timestamp
            if step.attempt_spans and step.attempt_spans[-1][1] is None:  # one span per start, as `attempts` counts
                step.attempt_spans[-1] = (step.attempt_spans[-1][0], timestamp)
    return {run_id: list(steps.values()) for run_id, steps in by_run.items()}


def runs_step_events(*, run_ids: Sequence[str], event_types: Sequence[str]) -> list[EventLogEntry]:
    """The step events of these types (materializations, expectation results) of several runs, oldest first."""
    return list(EventLogEntry.objects.filter(run_id__in=list(run_ids), event_type__in=list(event_types))
                .exclude(step_key=None).order_by("id"))


def asset_latest_materializations(*, asset_keys: Sequence[str] | None = None) -> dict[str, EventLogEntry]:
    """The newest materialization event of each asset key (over all its partitions), by key.

    One query whatever the number of keys: the events whose id is the greatest of their key's index rows.
    """
    from django.db.models import Max

    index = AssetIndex.objects.exclude(last_materialization=None)
    if asset_keys is not None:
        index = index.filter(asset_key__in=list(asset_keys))
    newest = index.values("asset_key").annotate(newest=Max("last_materialization_id")).values("newest")
    events = EventLogEntry.objects.filter(id__in=Subquery(newest)).only("id", "run_id", "timestamp", "asset_key",
                                                                      "partition")
    return {event.asset_key: event for event in events}


IN_FLIGHT = (RunStatus.QUEUED, RunStatus.NOT_STARTED, RunStatus.STARTING, RunStatus.STARTED, RunStatus.CANCELING)


def run_id_search(*, prefix: str, limit: int = 5) -> list[Run]:
    """Runs whose id starts with `prefix` (a run id or the first characters of one), newest first."""
    prefix = prefix.strip().lower()
    if len(prefix) < 4 or any(ch not in "0123456789abcdef-" for ch in prefix):
        return []
    return list(Run.objects.filter(run_id__startswith=prefix).order_by("-id")[:limit])


def run_locations(*, run_ids: Sequence[str]) -> dict[str, str]:
    """The code location of each of `run_ids` that exists, in one query."""
    ids = [run_id for run_id in run_ids if isinstance(run_id, str) and "\x00" not in run_id]
    return dict(Run.objects.filter(run_id__in=ids).values_list("run_id", "location_name"))


def asset_check_summary(*, asset_keys: Sequence[str]) -> dict[str, dict[str, int]]:
    """For each asset key, how many of its checks' latest unpartitioned results passed and failed (one
    query)."""
    from runs.models import AssetCheckIndex

    summary: dict[str, dict[str, int]] = {}
    rows = AssetCheckIndex.objects.filter(asset_key__in=list(asset_keys), partition="").exclude(passed=None)
    for key, passed in rows.values_list("asset_key", "passed"):
        counts = summary.setdefault(key, {"passed": 0, "failed": 0})
        counts["passed" if passed else "failed"] += 1
    return summary


def asset_check_latest(*, asset_key: str, check_names: Sequence[str]) -> dict[str, Any]:
    """The newest result (an `AssetCheckIndex` row, any partition) of each named check of an asset, one
    query."""
    from runs.models import AssetCheckIndex

    latest: dict[str, Any] = {}
    for row in AssetCheckIndex.objects.filter(asset_key=asset_key, check_name__in=list(check_names)).order_by(
            "updated_at"):
        latest[row.check_name] = row
    return latest


def asset_materialized_partitions(*, asset_key: str) -> dict[str, str]:
    """Each materialized partition of an asset with the run that last materialized it, one query."""
    return dict(AssetIndex.objects.filter(asset_key=asset_key).exclude(last_materialization=None)
                .values_list("partition", "last_run_id"))
