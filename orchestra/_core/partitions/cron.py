"""Cron strings evaluated in a time zone, with Dagster's rules for daylight-saving transitions.

A cron string names wall-clock times ("naive" local times). Each is turned into real instants:

* a time that exists once is that instant;
* a time skipped by a spring-forward gap is dropped by schedules that fire every hour (hour field
  `*`), and otherwise moved to the first instant after the gap (so a daily tick is never lost);
* a time repeated by a fall-back is kept twice by every-hour schedules, and otherwise only its
  later occurrence is used.

Ticks are `(naive, fold)` pairs: `naive.replace(tzinfo=tz, fold=fold)` is the instant. Staying with
naive datetimes keeps listing thousands of partition keys cheap.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache

_ONE_DAY = timedelta(days=1)
_ONE_HOUR = timedelta(hours=1)
_MIN_DAY = date(1, 1, 2)
_MAX_DAY = date(9999, 12, 30)

_MONTH_NAMES = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
_DAY_NAMES = {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())}
_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
# (low, high, names) per field: minute, hour, day of month, month, day of week
_FIELDS = ((0, 59, {}), (0, 23, {}), (1, 31, {}), (1, 12, _MONTH_NAMES), (0, 7, _DAY_NAMES))

Tick = tuple[datetime, int]


class InvalidCronString(ValueError):
    pass


def _parse_value(text: str, low: int, high: int, names: dict[str, int]) -> int:
    value = names.get(text.lower()) if names else None
    if value is None:
        if not text.isdigit():
            raise InvalidCronString(text)
        value = int(text)
    if not low <= value <= high:
        raise InvalidCronString(text)
    return value


def _parse_field(text: str, low: int, high: int, names: dict[str, int]) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        if not part:
            raise InvalidCronString(text)
        rng, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise InvalidCronString(text)
            step = int(step_text)
        if rng == "*":
            start, end = low, high
        elif "-" in rng:
            a, _, b = rng.partition("-")
            start, end = _parse_value(a, low, high, names), _parse_value(b, low, high, names)
            if start > end:
                raise InvalidCronString(text)
        else:
            start = _parse_value(rng, low, high, names)
            end = high if step_text else start
        values.update(range(start, end + 1, step))
    return frozenset(values)


class CronSchedule:
    """A parsed five-field cron string."""

    __slots__ = (
        "text", "minutes", "hours", "days", "months", "weekdays", "day_or", "repeats_every_hour", "every_day"
    )

    def __init__(self, text: str):
        self.text = text
        fields = _MACROS.get(text.strip().lower(), text).split()
        if len(fields) != 5:
            raise InvalidCronString(text)
        parsed = [_parse_field(f, *spec) for f, spec in zip(fields, _FIELDS, strict=True)]
        self.minutes = tuple(sorted(parsed[0]))
        self.hours = tuple(sorted(parsed[1]))
        self.days = parsed[2]
        self.months = parsed[3]
        self.weekdays = frozenset(d % 7 for d in parsed[4])
        # Like croniter: when both day fields are restricted a day matches either of them.
        self.day_or = not fields[2].startswith("*") and not fields[4].startswith("*")
        self.repeats_every_hour = fields[1] == "*"
        self.every_day = len(self.days) == 31 and len(self.months) == 12 and len(self.weekdays) == 7

    def matches_day(self, day: date) -> bool:
        if self.every_day:
            return True
        if day.month not in self.months:
            return False
        dom = day.day in self.days
        dow = (day.weekday() + 1) % 7 in self.weekdays
        return (dom or dow) if self.day_or else (dom and dow)

    def matches(self, naive: datetime) -> bool:
        return naive.minute in self.minutes and naive.hour in self.hours and self.matches_day(naive.date())

    def naive_times(self, origin: datetime, ascending: bool = True) -> Iterator[datetime]:
        """Matching wall-clock times >= origin (ascending) or <= origin (descending)."""
        day = origin.date()
        first = True
        step = _ONE_DAY if ascending else -_ONE_DAY
        hours = self.hours if ascending else self.hours[::-1]
        minutes = self.minutes if ascending else self.minutes[::-1]
        # An ascending walk starting mid-minute begins with the next whole minute.
        late = ascending and bool(origin.second or origin.microsecond)
        cutoff = (origin.hour, origin.minute + late)
        misses = 0
        every_day = self.every_day
        while _MIN_DAY <= day <= _MAX_DAY:
            if every_day or self.matches_day(day):
                misses = 0
                for hour in hours:
                    if first and (hour < cutoff[0] if ascending else hour > cutoff[0]):
                        continue
                    for minute in minutes:
                        if first and hour == cutoff[0] and (
                            minute < cutoff[1] if ascending else minute > cutoff[1]
                        ):
                            continue
                        yield datetime(day.year, day.month, day.day, hour, minute)
            else:
                misses += 1
                if misses > 366 * 8:  # e.g. "0 0 31 2 *" never fires
                    return
            first = False
            day += step


@lru_cache(maxsize=256)
def parse_cron(text: str) -> CronSchedule:
    return CronSchedule(text)


def is_valid_cron_string(text: str) -> bool:
    try:
        parse_cron(text)
    except InvalidCronString:
        return False
    return True


@lru_cache(maxsize=64)
def get_timezone(name: str) -> tzinfo:
    if name in ("UTC", "utc"):
        return UTC
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def is_fixed_offset(tz: tzinfo) -> bool:
    return isinstance(tz, timezone)


def _state(naive: datetime, tz: tzinfo) -> int:
    """0: exists once, 1: skipped by a gap, 2: occurs twice."""
    before = naive.replace(tzinfo=tz, fold=0).utcoffset()
    after = naive.replace(tzinfo=tz, fold=1).utcoffset()
    if before == after:
        return 0
    return 2 if before > after else 1  # type: ignore[operator]


def is_second_ambiguous(naive: datetime, fold: int, tz: tzinfo) -> bool:
    return fold == 1 and not is_fixed_offset(tz) and _state(naive, tz) == 2


def to_instant(tick: Tick, tz: tzinfo) -> datetime:
    return tick[0].replace(tzinfo=tz, fold=tick[1])


def tick_timestamp(tick: Tick, tz: tzinfo) -> float:
    return tick[0].replace(tzinfo=tz, fold=tick[1]).timestamp()


def tick_from_instant(instant: datetime) -> Tick:
    return instant.replace(tzinfo=None, fold=0), instant.fold


def _resolve(naive: datetime, cron: CronSchedule, tz: tzinfo) -> list[Tick]:
    state = _state(naive, tz)
    if state == 0:
        return [(naive, 0)]
    if state == 1:
        if cron.repeats_every_hour:
            return []
        shifted = naive.replace(minute=0, second=0, microsecond=0) + _ONE_HOUR
        return [(shifted, 0)]
    if cron.repeats_every_hour:
        return [(naive, 0), (naive, 1)]
    return [(naive, 1)]


def iter_ticks(cron: CronSchedule, tz: tzinfo, timestamp: float, ascending: bool = True) -> Iterator[Tick]:
    """Ticks at or after `timestamp` (ascending) or at or before it (descending), in order."""
    if cron.text.endswith(" 29 2 *"):
        # Dagster walks February 28th and moves leap years' ticks a day later; the walk is bounded
        # by the 28th, so a tick on the 29th itself is not found from its own instant. Kept as is.
        import calendar  # (only this cron needs it: a location that loads no such schedule does not import it)

        base = parse_cron(cron.text[: -len(" 29 2 *")] + " 28 2 *")
        for naive, fold in _iter_ticks(base, tz, timestamp, ascending):
            if calendar.isleap(naive.year):
                yield naive + _ONE_DAY, fold
        return
    yield from _iter_ticks(cron, tz, timestamp, ascending)


def _iter_ticks(cron: CronSchedule, tz: tzinfo, timestamp: float, ascending: bool) -> Iterator[Tick]:
    local = datetime.fromtimestamp(timestamp, tz).replace(tzinfo=None, fold=0)
    if is_fixed_offset(tz):
        for naive in cron.naive_times(local, ascending):
            yield naive, 0
        return
    # Start an hour early so both occurrences of a repeated wall-clock time are considered.
    origin = local - _ONE_HOUR if ascending else local + _ONE_HOUR
    sign = 1 if ascending else -1
    pending: list[tuple[float, Tick]] = []  # transition ticks, kept in order until safe to emit
    last: float | None = None
    year = None
    near: frozenset[date] = frozenset()
    for naive in cron.naive_times(origin.replace(second=0, microsecond=0), ascending):
        if naive.year != year:
            year = naive.year
            near = _dates_near_transitions(tz, year)
        ordinary = naive.date() not in near or _state(naive, tz) == 0
        if ordinary and not pending:
            if last is None:  # still before `timestamp`?
                ts = naive.replace(tzinfo=tz).timestamp()
                if (ts - timestamp) * sign < 0:
                    continue
                last = ts
            yield naive, 0
            continue
        if ordinary:
            candidates = [(naive, 0)]
        else:
            candidates = _resolve(naive, cron, tz)
        for tick in candidates:
            heapq.heappush(pending, (sign * tick_timestamp(tick, tz), tick))
        if not ordinary:
            continue
        # `naive` is an ordinary time: every pending transition tick precedes or equals it.
        while pending:
            key, tick = heapq.heappop(pending)
            ts = key * sign
            if (ts - timestamp) * sign >= 0 and (last is None or (ts - last) * sign > 0):
                last = ts
                yield tick


def near_transition(naive: datetime, tz: tzinfo) -> bool:
    """Whether `naive` falls within a day of a UTC-offset change of `tz`."""
    return naive.date() in _dates_near_transitions(tz, naive.year)


@lru_cache(maxsize=512)
def _dates_near_transitions(tz: tzinfo, year: int) -> frozenset[date]:
    """Local dates of `year` within a day of a UTC-offset change (found by sampling each day)."""
    near: set[date] = set()
    start = datetime(year, 1, 1, tzinfo=UTC) - 2 * _ONE_DAY
    previous = start.astimezone(tz).utcoffset()
    for day in range(1, 370):
        instant = start + day * _ONE_DAY
        offset = instant.astimezone(tz).utcoffset()
        if offset != previous:
            local_day = instant.astimezone(tz).date()
            near.update(local_day + k * _ONE_DAY for k in range(-2, 2))
            previous = offset
    return frozenset(near)


def first_tick(cron: CronSchedule, tz: tzinfo, timestamp: float, ascending: bool = True) -> Tick:
    return next(iter_ticks(cron, tz, timestamp, ascending))
