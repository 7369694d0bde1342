"""Time-window building blocks: windows, schedule types, and reading/writing time partition keys."""

from __future__ import annotations

import re
from datetime import datetime
from enum import Enum
from functools import lru_cache
from operator import attrgetter
from typing import NamedTuple

from orchestra._core.partitions import cron as _cron
from orchestra._errors import DagsterInvalidDefinitionError, DagsterInvariantViolationError


class TimeWindow(NamedTuple):
    """A half-open interval of time `[start, end)`; both datetimes carry the partitions' time zone."""

    start: datetime
    end: datetime


class TimestampWithTimezone(NamedTuple):
    """An instant (Unix timestamp) remembered with the zone it was given in (an exclusion)."""

    timestamp: float
    timezone: str


class ScheduleType(Enum):
    HOURLY = "HOURLY"
    DAILY = "DAILY"
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"


def cron_for_schedule_type(schedule_type: ScheduleType, minute: int, hour: int, day: int | None) -> str:
    if schedule_type is ScheduleType.HOURLY:
        return f"{minute} * * * *"
    if schedule_type is ScheduleType.DAILY:
        return f"{minute} {hour} * * *"
    if schedule_type is ScheduleType.WEEKLY:
        return f"{minute} {hour} * * {day if day is not None else 0}"
    return f"{minute} {hour} {day if day is not None else 1} * *"


def is_valid_cron(text: str) -> bool:
    if not isinstance(text, str) or not _cron.is_valid_cron_string(text):
        return False
    parsed = _cron.parse_cron(text)
    return not (parsed.months == {2} and len(parsed.days) == 1 and min(parsed.days) in (30, 31))


@lru_cache(maxsize=8192)
def parse_key(key: str, tz_name: str, fmt: str) -> datetime:
    """The instant a key names; a key without an offset means the first occurrence of its time."""
    parsed = _parse_padded(key, fmt)
    if parsed is None:
        try:
            parsed = datetime.strptime(key, fmt)
        except ValueError:
            if "%z" in fmt:
                raise
            parsed = datetime.strptime(key, fmt + "%z")
    tz = _cron.get_timezone(tz_name)
    if parsed.tzinfo is not None:
        return datetime.fromtimestamp(parsed.timestamp(), tz)
    return parsed.replace(tzinfo=tz, fold=0)


_FAST_DIRECTIVES = {"Y": "year", "m": "month", "d": "day", "H": "hour", "M": "minute", "S": "second"}
_STRPTIME_DEFAULTS = {"year": 1900, "month": 1, "day": 1}


@lru_cache(maxsize=128)
def _padded_key_pattern(fmt: str) -> tuple[re.Pattern[str], tuple[str, ...]] | None:
    """For a format of %Y %m %d %H %M %S (each at most once) and literal text: a pattern matching its
    zero-padded keys, and the `datetime` field each group holds. None for other formats."""
    pattern, fields, i = [], [], 0
    while i < len(fmt):
        char = fmt[i]
        if char != "%":
            pattern.append(re.escape(char))
            i += 1
            continue
        directive = fmt[i + 1 : i + 2]
        if directive == "%":
            pattern.append("%")
        elif directive in _FAST_DIRECTIVES and _FAST_DIRECTIVES[directive] not in fields:
            pattern.append("([0-9]{4})" if directive == "Y" else "([0-9]{2})")
            fields.append(_FAST_DIRECTIVES[directive])
        else:
            return None
        i += 2
    return re.compile("".join(pattern)), tuple(fields)


def _parse_padded(key: str, fmt: str) -> datetime | None:
    """`datetime.strptime(key, fmt)` for a zero-padded key of a format `_padded_key_pattern` reads, else
    None: strptime then parses the key, or raises its own error (an out-of-range field comes back None
    here). Importing `_strptime` and compiling its patterns cost about a millisecond, as much as
    defining a location's daily partitions."""
    pattern = _padded_key_pattern(fmt)
    match = pattern[0].fullmatch(key) if pattern is not None else None
    if match is None:
        return None
    try:
        return datetime(**{**_STRPTIME_DEFAULTS, **dict(zip(pattern[1], map(int, match.groups()), strict=True))})
    except ValueError:
        return None


@lru_cache(maxsize=128)
def fast_formatter(fmt: str):
    """A cheaper equivalent of `naive.strftime(fmt)` for formats made of %Y %m %d %H %M %S only."""
    pattern, fields, i = [], [], 0
    while i < len(fmt):
        char = fmt[i]
        if char != "%":
            pattern.append(char)
            i += 1
            continue
        directive = fmt[i + 1 : i + 2]
        if directive == "%":
            pattern.append("%%")
        elif directive in _FAST_DIRECTIVES:
            pattern.append("%04d" if directive == "Y" else "%02d")
            fields.append(_FAST_DIRECTIVES[directive])
        else:
            return None
        i += 2
    template = "".join(pattern)
    if not fields:
        return None
    get_fields = attrgetter(*fields) if len(fields) > 1 else (lambda dt: (getattr(dt, fields[0]),))

    def format_naive(naive: datetime) -> str:
        if naive.year < 1000:  # platform strftime does not pad such years
            return naive.strftime(fmt)
        return template % get_fields(naive)

    return format_naive


def to_timestamp(value: datetime | str, tz_name: str, fmt: str) -> float:
    if isinstance(value, str):
        return parse_key(value, tz_name, fmt).timestamp()
    if isinstance(value, datetime):
        # Like Dagster, the wall-clock fields are read in the partitions' zone (any tzinfo is replaced).
        return value.replace(tzinfo=_cron.get_timezone(tz_name)).timestamp()
    if isinstance(value, TimestampWithTimezone):
        return float(value.timestamp)
    if isinstance(value, int | float):
        return float(value)
    raise DagsterInvalidDefinitionError(f"Expected a datetime or a string, got {value!r}.")


SCHEDULE_PATTERNS = (
    (r"\d+ \* \* \* \*", ScheduleType.HOURLY),
    (r"\d+ \d+ \* \* \*", ScheduleType.DAILY),
    (r"\d+ \d+ \* \* \d+", ScheduleType.WEEKLY),
    (r"\d+ \d+ \d+ \* \*", ScheduleType.MONTHLY),
)


class CadenceAttributes:
    """Dagster's cadence accessors (schedule type and offsets), read back from `self.cron_schedule`."""

    cron_schedule: str

    @property
    def schedule_type(self) -> ScheduleType | None:
        for pattern, kind in SCHEDULE_PATTERNS:
            if re.fullmatch(pattern, self.cron_schedule):
                return kind
        return None

    def _cron_field(self, pattern: str, index: int, what: str) -> int:
        match = re.fullmatch(pattern, self.cron_schedule)
        if match is None:
            raise DagsterInvariantViolationError(f"{self.cron_schedule} has no {what} offset")
        return int(match.groups()[index])

    @property
    def minute_offset(self) -> int:
        return self._cron_field(r"(\d+) (\d+|\*) (\d+|\*) (\d+|\*) (\d+|\*)", 0, "minute")

    @property
    def hour_offset(self) -> int:
        return self._cron_field(r"(\d+|\*) (\d+) (\d+|\*) (\d+|\*) (\d+|\*)", 1, "hour")

    @property
    def day_offset(self) -> int:
        kind = self.schedule_type
        if kind is ScheduleType.WEEKLY:
            return self._cron_field(r"(\d+|\*) (\d+|\*) (\d+|\*) (\d+|\*) (\d+)", 4, "day")
        if kind is ScheduleType.MONTHLY:
            return self._cron_field(r"(\d+|\*) (\d+|\*) (\d+) (\d+|\*) (\d+|\*)", 2, "day")
        raise DagsterInvariantViolationError(f"Unsupported schedule type for day_offset: {kind}")

    def get_cron_schedule(self, minute_of_hour=None, hour_of_day=None, day_of_week=None, day_of_month=None) -> str:
        """The partitions' cadence as a cron string, optionally moving the minute/hour/day it fires at."""
        if minute_of_hour is None and hour_of_day is None and day_of_week is None and day_of_month is None:
            return self.cron_schedule
        kind = self.schedule_type
        if kind is None:
            raise DagsterInvariantViolationError(
                f"{self.cron_schedule} does not support minute_of_hour/hour_of_day/day_of_week/day_of_month arguments"
            )
        minute = self.minute_offset if minute_of_hour is None else minute_of_hour
        if kind is ScheduleType.HOURLY:
            if hour_of_day is not None:
                raise DagsterInvariantViolationError("Cannot set hour parameter with hourly partitions.")
        elif hour_of_day is None:
            hour_of_day = self.hour_offset
        if kind is ScheduleType.DAILY and (day_of_week is not None or day_of_month is not None):
            raise DagsterInvariantViolationError("Cannot set day of week parameter with daily partitions.")
        day: int | None = 0
        if kind is ScheduleType.MONTHLY:
            day = day_of_month if day_of_month is not None else (self.day_offset or 1)
        elif kind is ScheduleType.WEEKLY:
            day = day_of_week if day_of_week is not None else (self.day_offset or 0)
        return cron_for_schedule_type(kind, minute, hour_of_day or 0, day)

