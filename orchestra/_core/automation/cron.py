"""Cron tick times of a schedule in its execution time zone, across daylight-saving transitions.

Cron strings are parsed by `croniter` on naive wall-clock times; this module turns those wall-clock
times into instants of the execution time zone with the rules Dagster's scheduler follows:

* a wall-clock time skipped by a spring-forward transition fires once, at the transition instant
  (the first wall-clock time that exists after the gap), unless the schedule's hour field is `*`, in
  which case the skipped times simply do not fire;
* a wall-clock time repeated by a fall-back transition fires once, at its later occurrence, unless
  the hour field is `*`, in which case both occurrences fire.

A list of cron strings fires at the union of its strings' ticks.
"""

from __future__ import annotations

import datetime as dt
import functools
import heapq
import re
from collections.abc import Iterator, Sequence

from orchestra._errors import DagsterInvalidDefinitionError

CronSchedule = str | Sequence[str]

# Offsets change by at most two hours at a transition (Antarctica/Troll); keep a margin above it.
_TRANSITION_MARGIN = dt.timedelta(hours=3)
_UTC = dt.UTC


@functools.lru_cache(maxsize=256)
def _fields(cron_string: str) -> tuple[list, ...] | None:
    from croniter import croniter

    try:
        if not croniter.is_valid(cron_string):
            return None
        return tuple(croniter.expand(cron_string)[0])
    except Exception:  # croniter raises several unrelated types for malformed input
        return None


# Five fields of plain numbers, `*`, ranges, steps and lists, each within its field's bounds (the
# day of week without 7): what schedules are mostly written as, and what croniter accepts as it is.
_PLAIN_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
_PLAIN_NUMBER = "(?:0|[1-9][0-9]{0,1})"
_PLAIN_ITEM = re.compile(rf"\*(?:/({_PLAIN_NUMBER}))?|({_PLAIN_NUMBER})(?:-({_PLAIN_NUMBER})(?:/({_PLAIN_NUMBER}))?)?")


def _plainly_valid(cron_string: str) -> bool:
    """True when `cron_string` is valid without asking croniter (see `_PLAIN_BOUNDS`); False means
    "ask croniter", not "invalid". Spares a code location importing croniter (tens of milliseconds)
    to check its schedules; croniter is imported when ticks are computed."""
    fields = cron_string.split(" ")
    if len(fields) != 5:
        return False
    for (low, high), field in zip(_PLAIN_BOUNDS, fields, strict=True):
        for item in field.split(","):
            match = _PLAIN_ITEM.fullmatch(item)
            if match is None:
                return False
            star_step, first, last, step = match.groups()
            if first is None:  # `*` or `*/step`
                if star_step is not None and not 1 <= int(star_step) <= high:
                    return False
                continue
            if not low <= int(first) <= (int(last) if last is not None else int(first)) <= high:
                return False
            if step is not None and not 1 <= int(step) <= high:
                return False
    # February alone: croniter decides whether days 30 and 31 make it a schedule that never fires
    return fields[3] == "*" or "2" not in fields[3]


def is_valid_cron_string(cron_string: str) -> bool:
    """True for a standard five-field cron string (no seconds field) that can ever fire."""
    if not isinstance(cron_string, str):
        return False
    if _plainly_valid(cron_string):
        return True
    fields = _fields(cron_string)
    if fields is None or len(fields) != 5:
        return False
    days, months = fields[2], fields[3]
    # "0 0 30 2 *" parses but never fires; Dagster rejects it.
    if months == [2] and len(days) == 1 and days[0] in (30, 31):
        return False
    # Dagster's cron parser predates the "nearest weekday" (`15W`) syntax and rejects it.
    parts = cron_string.split()
    return len(parts) < 3 or "w" not in parts[2].lower()


_FIELD_MAXIMA = (59, 23, 31, 12, 7)


def has_out_of_range_step(cron_schedule: CronSchedule) -> bool:
    """True when a step exceeds its field's range (`*/90` minutes fires hourly, not every 90 minutes)."""
    strings = [cron_schedule] if isinstance(cron_schedule, str) else list(cron_schedule)
    for cron_string in strings:
        for maximum, field in zip(_FIELD_MAXIMA, cron_string.split(), strict=False):
            for part in field.split(","):
                _, slash, step = part.partition("/")
                if slash and step.isdigit() and int(step) > maximum:
                    return True
    return False


def is_valid_cron_schedule(cron_schedule: object) -> bool:
    """True for a valid cron string or a non-empty sequence of valid cron strings."""
    if isinstance(cron_schedule, str):
        return is_valid_cron_string(cron_schedule)
    if isinstance(cron_schedule, Sequence) and cron_schedule:
        return all(is_valid_cron_string(s) for s in cron_schedule)
    return False


def get_timezone(name: str | None) -> dt.tzinfo:
    """The IANA time zone `name` (UTC when None); raises `ZoneInfoNotFoundError` for unknown names."""
    if not name or name == "UTC":
        return _UTC
    # The time zone database (zoneinfo reads sysconfig to find it) only when a zone other than UTC is named.
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def is_valid_timezone(name: str) -> bool:
    if not name or name == "UTC":
        return True
    from zoneinfo import ZoneInfoNotFoundError

    try:
        get_timezone(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return False
    return True


def _repeats_every_hour(cron_string: str) -> bool:
    fields = _fields(cron_string)
    return fields is not None and fields[1] == ["*"]


# --- wall-clock times to instants ---------------------------------------------------------------


def _instant(naive: dt.datetime, tz: dt.tzinfo, fold: int) -> dt.datetime:
    return naive.replace(tzinfo=tz, fold=fold)


def _exists(naive: dt.datetime, tz: dt.tzinfo) -> bool:
    aware = _instant(naive, tz, 0)
    return aware.astimezone(_UTC).astimezone(tz).replace(tzinfo=None) == naive


def _first_instant_after_gap(naive: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """The transition instant of the gap that swallows `naive`: the first existing wall time after it."""
    # fold=1 reads `naive` with the offset after the transition (an instant before it) and fold=0
    # with the offset before it (an instant after it); bisect the seconds between the two.
    low = int(_instant(naive, tz, 1).timestamp())
    high = int(_instant(naive, tz, 0).timestamp())
    if low > high:
        low, high = high, low
    while high - low > 1:
        middle = (low + high) // 2
        wall = dt.datetime.fromtimestamp(middle, tz).replace(tzinfo=None)
        if wall > naive:
            high = middle
        else:
            low = middle
    return dt.datetime.fromtimestamp(high, tz)


def _instants_for_wall_time(naive: dt.datetime, tz: dt.tzinfo, every_hour: bool) -> list[dt.datetime]:
    if not _exists(naive, tz):
        return [] if every_hour else [_first_instant_after_gap(naive, tz)]
    earlier, later = _instant(naive, tz, 0), _instant(naive, tz, 1)
    if earlier.utcoffset() != later.utcoffset():  # repeated by a fall-back transition
        return [earlier, later] if every_hour else [later]
    return [earlier]


def _to_aware(moment: dt.datetime | float, tz: dt.tzinfo) -> dt.datetime:
    if isinstance(moment, dt.datetime):
        if moment.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous here; pass an aware datetime or a timestamp")
        return moment.astimezone(tz)
    return dt.datetime.fromtimestamp(float(moment), tz)


# --- iteration ----------------------------------------------------------------------------------


def _cron_string_ticks(cron_string: str, tz: dt.tzinfo, start: dt.datetime, ascending: bool) -> Iterator[dt.datetime]:
    every_hour = _repeats_every_hour(cron_string)
    sign = 1 if ascending else -1  # keys are sign * timestamp so "smaller" always means "sooner"
    start_key = sign * start.timestamp()
    margin = _TRANSITION_MARGIN if ascending else -_TRANSITION_MARGIN
    # croniter excludes the time it starts from; start a margin early so a tick at `start`, and
    # both readings of a repeated wall time around it, are candidates.
    from croniter import croniter

    walls = croniter(cron_string, start.replace(tzinfo=None) - margin)
    step = walls.get_next if ascending else walls.get_prev
    pending: list[tuple[float, dt.datetime]] = []
    last_key: float | None = None
    while True:
        wall = step(dt.datetime)
        for moment in _instants_for_wall_time(wall, tz, every_hour):
            heapq.heappush(pending, (sign * moment.timestamp(), moment))
        # Wall times still to come map to instants no sooner than this bound.
        bound = sign * _instant(wall, tz, 0).timestamp() - _TRANSITION_MARGIN.total_seconds()
        while pending and pending[0][0] <= bound:
            key, moment = heapq.heappop(pending)
            if key >= start_key and (last_key is None or key > last_key):
                last_key = key
                yield moment


def cron_ticks(
    cron_schedule: CronSchedule,
    execution_timezone: str | None,
    start: dt.datetime | float,
    *,
    ascending: bool = True,
) -> Iterator[dt.datetime]:
    """Endless iterator over the schedule's tick times from `start` (inclusive), in the time zone.

    Ascending yields ticks at or after `start`; descending yields ticks at or before it, latest first.
    Each tick is an aware datetime in the execution time zone (UTC when None).
    """
    if not is_valid_cron_schedule(cron_schedule):
        raise DagsterInvalidDefinitionError(f"{cron_schedule!r} is not a valid cron schedule")
    tz = get_timezone(execution_timezone)
    start_dt = _to_aware(start, tz)
    strings = [cron_schedule] if isinstance(cron_schedule, str) else list(dict.fromkeys(cron_schedule))
    iterators = [_cron_string_ticks(s, tz, start_dt, ascending) for s in strings]
    if len(iterators) == 1:
        yield from iterators[0]
        return
    sign = 1 if ascending else -1
    heads = [(sign * t.timestamp(), i, t) for i, it in enumerate(iterators) for t in [next(it)]]
    heapq.heapify(heads)
    last_ts: float | None = None
    while True:
        key, i, moment = heapq.heappop(heads)
        if last_ts is None or key != last_ts:
            last_ts = key
            yield moment
        following = next(iterators[i])
        heapq.heappush(heads, (sign * following.timestamp(), i, following))


def schedule_execution_times(
    cron_schedule: CronSchedule,
    execution_timezone: str | None,
    start: dt.datetime | float,
    end: dt.datetime | float,
) -> list[dt.datetime]:
    """Every tick time `t` of the schedule with `start <= t <= end`, in order.

    Args:
        cron_schedule: A cron string or a list of cron strings.
        execution_timezone: An IANA time zone name; None means UTC.
        start: Aware datetime or POSIX timestamp.
        end: Aware datetime or POSIX timestamp.

    Example:
        >>> [t.isoformat() for t in schedule_execution_times(
        ...     "0 2 * * *", "America/New_York",
        ...     datetime(2024, 3, 9, tzinfo=timezone.utc), datetime(2024, 3, 11, 12, tzinfo=timezone.utc))]
        ['2024-03-09T02:00:00-05:00', '2024-03-10T03:00:00-04:00', '2024-03-11T02:00:00-04:00']
    """
    end_ts = _to_aware(end, _UTC).timestamp()
    ticks = []
    for tick in cron_ticks(cron_schedule, execution_timezone, start):
        if tick.timestamp() > end_ts:
            break
        ticks.append(tick)
    return ticks


def next_tick(cron_schedule: CronSchedule, execution_timezone: str | None, after: dt.datetime | float) -> dt.datetime:
    """The first tick strictly after `after`."""
    after_ts = _to_aware(after, _UTC).timestamp()
    return next(t for t in cron_ticks(cron_schedule, execution_timezone, after) if t.timestamp() > after_ts)


def latest_tick(cron_schedule: CronSchedule, execution_timezone: str | None, at: dt.datetime | float) -> dt.datetime:
    """The last tick at or before `at`."""
    return next(cron_ticks(cron_schedule, execution_timezone, at, ascending=False))
