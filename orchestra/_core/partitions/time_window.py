"""Time-window partitions: one partition per interval between consecutive ticks of a cron string.

A key is the start of its window formatted with `fmt`. The last partition is the last window that
has ended by "now" (plus `end_offset` windows), so a running window only appears with
`end_offset=1`. Windows are computed as cron ticks (see `cron.py`), never materialised per key.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from orchestra._core.partitions import cron as _cron
from orchestra._core.partitions.base import (
    PartitionKeyRange,
    PartitionsDefinition,
    current_loading_context,
    partition_loading_context,
)
from orchestra._core.partitions.time_keys import (
    CadenceAttributes,
    ScheduleType,
    TimestampWithTimezone,
    TimeWindow,
    cron_for_schedule_type,
    fast_formatter,
    is_valid_cron,
    parse_key,
    to_timestamp,
)
from orchestra._errors import DagsterInvalidDefinitionError, DagsterInvariantViolationError

Tick = _cron.Tick


class TimeWindowPartitionsDefinition(CadenceAttributes, PartitionsDefinition):
    """Partitions whose keys are the starts of the windows between ticks of a cron schedule.

    Args:
        start: The first partition starts at the first tick at or after this (a string is parsed
            with `fmt`).
        fmt: `strftime` format of the keys.
        end: Windows end no later than this (exclusive). None: unbounded.
        schedule_type / cron_schedule: The cadence; give one of them.
        timezone: IANA time zone of the windows (default "UTC").
        end_offset: Extra partitions past the last complete window (1 includes the current one).
        exclusions: Cron strings or datetimes whose ticks start no partition.

    Example:
        ```python
        dg.TimeWindowPartitionsDefinition(start="2024-01-01", fmt="%Y-%m-%d", cron_schedule="0 0 * * 1-5")
        ```
    """

    def __init__(
        self,
        start: datetime | str,
        fmt: str,
        end: datetime | str | None = None,
        schedule_type: ScheduleType | None = None,
        timezone: str | None = None,
        end_offset: int = 0,
        minute_offset: int | None = None,
        hour_offset: int | None = None,
        day_offset: int | None = None,
        cron_schedule: str | None = None,
        exclusions: Sequence[str | datetime] | None = None,
    ):
        timezone = timezone or "UTC"
        if cron_schedule is not None:
            if schedule_type is not None or minute_offset or hour_offset or day_offset:
                raise DagsterInvariantViolationError(
                    "If cron_schedule argument is provided, then schedule_type, minute_offset, "
                    "hour_offset, and day_offset can't also be provided"
                )
        else:
            if schedule_type is None:
                raise DagsterInvariantViolationError("One of schedule_type and cron_schedule must be provided")
            cron_schedule = cron_for_schedule_type(
                schedule_type, minute_offset or 0, hour_offset or 0, day_offset or None
            )
        if not is_valid_cron(cron_schedule):
            raise DagsterInvalidDefinitionError(
                f"Found invalid cron schedule '{cron_schedule}' for a TimeWindowPartitionsDefinition."
            )
        _cron.get_timezone(timezone)  # an unknown zone fails here, at definition time
        cleaned: list[str | TimestampWithTimezone] = []
        for item in exclusions or ():
            if isinstance(item, str):
                if not is_valid_cron(item):
                    bad = ", ".join(f"'{e}'" for e in exclusions or () if isinstance(e, str) and not is_valid_cron(e))
                    raise DagsterInvalidDefinitionError(
                        f"Found invalid cron schedule(s) {bad} in the exclusions argument for a "
                        "TimeWindowPartitionsDefinition. Expected a set of valid cron strings and datetime objects."
                    )
                cleaned.append(item)
            elif isinstance(item, TimestampWithTimezone):
                cleaned.append(item)
            else:
                cleaned.append(TimestampWithTimezone(to_timestamp(item, timezone, fmt), timezone))
        self._init_fields(
            start_ts=to_timestamp(start, timezone, fmt),
            end_ts=to_timestamp(end, timezone, fmt) if end else None,
            timezone=timezone,
            fmt=fmt,
            end_offset=end_offset,
            cron_schedule=cron_schedule,
            exclusions=cleaned or None,
        )

    def _init_fields(self, *, start_ts, end_ts, timezone, fmt, end_offset, cron_schedule, exclusions) -> None:
        self.start_timestamp: float = float(start_ts)
        self.end_timestamp: float | None = None if end_ts is None else float(end_ts)
        self.timezone: str = timezone
        self.fmt: str = fmt
        self.end_offset: int = end_offset
        self.cron_schedule: str = cron_schedule
        self.exclusions: list[str | TimestampWithTimezone] | None = list(exclusions) if exclusions else None
        self._tz = _cron.get_timezone(timezone)
        self._cron = _cron.parse_cron(cron_schedule)
        self._excluded_ts = frozenset(e.timestamp for e in exclusions or () if not isinstance(e, str))
        self._excluded_crons = [_cron.parse_cron(e) for e in exclusions or () if isinstance(e, str)]
        self._fmt_has_offset = "%z" in fmt or "%Z" in fmt
        self._fast_format = fast_formatter(fmt)

    @classmethod
    def _from_fields(cls, **fields: Any) -> TimeWindowPartitionsDefinition:
        instance = cls.__new__(cls)
        instance._init_fields(**fields)
        return instance

    def __reduce__(self):
        # Pickle the defining fields only; parsed crons and formatters are rebuilt on load.
        fields = {
            "start_ts": self.start_timestamp, "end_ts": self.end_timestamp, "timezone": self.timezone,
            "fmt": self.fmt, "end_offset": self.end_offset, "cron_schedule": self.cron_schedule,
            "exclusions": self.exclusions,
        }
        return (_rebuild_time_window_definition, (type(self), fields))

    # --- identity ----------------------------------------------------------------------------
    def _identity(self) -> tuple:
        return (self.start_timestamp, self.end_timestamp, self.timezone, self.fmt, self.end_offset,
                self.cron_schedule, tuple(self.exclusions or ()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TimeWindowPartitionsDefinition) and self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())

    def __repr__(self) -> str:
        text = (
            f"TimeWindowPartitionsDefinition(start={self.start_timestamp}, end={self.end_timestamp}, "
            f"timezone='{self.timezone}', fmt='{self.fmt}', end_offset={self.end_offset}, "
            f"cron_schedule='{self.cron_schedule}')"
        )
        return text + (f", exclusions={self.exclusions}" if self.exclusions else "")

    def __str__(self) -> str:
        cadence = self.schedule_type.value.capitalize() if self.schedule_type else self.cron_schedule
        text = f"{cadence}, starting {self._format(_cron.tick_from_instant(self.start))} {self.timezone}."
        if self.end_offset != 0:
            text += f" End offsetted by {self.end_offset} partition{'' if self.end_offset == 1 else 's'}."
        return text

    # --- public attributes -------------------------------------------------------------------
    @property
    def start(self) -> datetime:
        return datetime.fromtimestamp(self.start_timestamp, self._tz)

    @property
    def end(self) -> datetime | None:
        return None if self.end_timestamp is None else datetime.fromtimestamp(self.end_timestamp, self._tz)

    @property
    def is_basic_daily(self) -> bool:
        return not self.exclusions and self.cron_schedule == "0 0 * * *"

    @property
    def is_basic_hourly(self) -> bool:
        return not self.exclusions and self.cron_schedule == "0 * * * *"

    # --- ticks and windows -------------------------------------------------------------------
    def _ts(self, tick: Tick) -> float:
        return _cron.tick_timestamp(tick, self._tz)

    def _dt(self, tick: Tick) -> datetime:
        return _cron.to_instant(tick, self._tz)

    def _window(self, start: Tick, end: Tick) -> TimeWindow:
        return TimeWindow(self._dt(start), self._dt(end))

    def _format(self, tick: Tick) -> str:
        naive, fold = tick
        if self._fmt_has_offset:
            return self._dt(tick).strftime(self.fmt)
        key = self._fast_format(naive) if self._fast_format else naive.strftime(self.fmt)
        # The second occurrence of a repeated hour gets its UTC offset appended, as in Dagster.
        if fold and self._cron.repeats_every_hour and _cron.is_second_ambiguous(naive, fold, self._tz):
            key += self._dt(tick).strftime("%z")
        return key

    def _is_excluded(self, tick: Tick) -> bool:
        if not self.exclusions:
            return False
        if self._excluded_ts and self._ts(tick) in self._excluded_ts:
            return True
        naive = tick[0]
        plain = _cron.is_fixed_offset(self._tz) or not _cron.near_transition(naive, self._tz)
        for excluded in self._excluded_crons:
            if plain:  # away from DST changes, wall-clock matching is exact
                if excluded.matches(naive):
                    return True
                continue
            ts = self._ts(tick)
            if self._ts(_cron.first_tick(excluded, self._tz, ts)) == ts:
                return True
        return False

    def _ticks(self, timestamp: float, ascending: bool = True) -> Iterator[Tick]:
        return _cron.iter_ticks(self._cron, self._tz, timestamp, ascending)

    def _windows(self, timestamp: float, skip_excluded: bool = True) -> Iterator[tuple[Tick, Tick]]:
        """Windows starting at or after `timestamp`, in order, as (start tick, end tick)."""
        ticks = self._ticks(timestamp)
        current = next(ticks)
        for following in ticks:
            if not (skip_excluded and self._is_excluded(current)):
                yield current, following
            current = following

    def _windows_before(self, timestamp: float, skip_excluded: bool = True) -> Iterator[tuple[Tick, Tick]]:
        """Windows ending at or before `timestamp`, latest first."""
        ticks = self._ticks(timestamp, ascending=False)
        current = next(ticks)
        for previous in ticks:
            if not (skip_excluded and self._is_excluded(previous)):
                yield previous, current
            current = previous

    def _now_ts(self) -> float:
        now = current_loading_context().effective_dt
        if now.tzinfo is None:  # a naive "now" is read in the partitions' zone
            now = now.replace(tzinfo=self._tz)
        return now.timestamp()

    @lru_cache(maxsize=64)  # noqa: B019 - definitions are immutable and few
    def _first_window(self, now_ts: float) -> tuple[Tick, Tick] | None:
        first = next(self._windows(self.start_timestamp))
        if self.end_timestamp is not None and self.end_timestamp <= self.start_timestamp:
            return None
        if self.end_offset == 0:
            limit = now_ts
        elif self.end_offset > 0:
            ahead = self._windows(now_ts)
            for _ in range(self.end_offset + 1):
                boundary = next(ahead)
            limit = self._ts(boundary[0])
        else:
            behind = self._windows_before(now_ts)
            for _ in range(-self.end_offset):
                boundary = next(behind)
            limit = self._ts(boundary[0])
        return first if self._ts(first[1]) <= limit else None

    @lru_cache(maxsize=64)  # noqa: B019
    def _last_window(self, now_ts: float, skip_excluded: bool = True) -> tuple[Tick, Tick] | None:
        first = self._first_window(now_ts)
        if first is None:
            return None
        if self.end_offset == 0:
            if self.end_timestamp is not None and self.end_timestamp < now_ts:
                now_ts = self.end_timestamp
            return next(self._windows_before(now_ts, skip_excluded))
        before_end = None
        if self.end_timestamp is not None:
            before_end = next(self._windows_before(self.end_timestamp, skip_excluded))
        behind = self._windows_before(now_ts, skip_excluded)
        window = next(behind)
        if self.end_offset < 0:
            for _ in range(-self.end_offset):
                window = next(behind)
        else:
            ahead = self._windows(self._ts(window[1]), skip_excluded)
            for _ in range(self.end_offset):
                window = next(ahead)
        if before_end is not None and self._ts(before_end[0]) <= self._ts(window[0]):
            return before_end
        if self._ts(window[0]) < self._ts(first[0]):
            return first
        return window

    def get_first_partition_window(self) -> TimeWindow | None:
        found = self._first_window(self._now_ts())
        return None if found is None else self._window(*found)

    def get_last_partition_window(self) -> TimeWindow | None:
        found = self._last_window(self._now_ts())
        return None if found is None else self._window(*found)

    def get_last_partition_window_ignoring_exclusions(self) -> TimeWindow | None:
        found = self._last_window(self._now_ts(), False)
        return None if found is None else self._window(*found)

    def get_first_partition_key(self) -> str | None:
        found = self._first_window(self._now_ts())
        return None if found is None else self._format(found[0])

    def get_last_partition_key(self) -> str | None:
        found = self._last_window(self._now_ts())
        return None if found is None else self._format(found[0])

    # --- keys ----------------------------------------------------------------------------------
    def _key_ticks(self, now_ts: float) -> Iterator[Tick]:
        """Starts of the partitions, from the first up to the last window's start.

        As in Dagster, the first window is listed even when it starts after the last window (a
        window that only ends past `end`); the walk stops once a listed start reaches the last.
        """
        last = self._last_window(now_ts)
        if last is None:
            return
        stop = last[0]
        near_stop = stop[0] - 2 * _cron._ONE_HOUR
        stop_ts = None
        for tick in self._ticks(self.start_timestamp):
            if self._is_excluded(tick):
                continue
            yield tick
            if tick == stop:
                return
            if tick[0] >= near_stop:  # compare instants only close to the end (wall clocks may repeat)
                stop_ts = self._ts(stop) if stop_ts is None else stop_ts
                if self._ts(tick) >= stop_ts:
                    return

    def get_partition_keys(self, current_time: datetime | None = None, dynamic_partitions_store=None) -> list[str]:
        with partition_loading_context(current_time, dynamic_partitions_store):
            return [self._format(tick) for tick in self._key_ticks(self._now_ts())]

    def get_num_partitions(self) -> int:
        now_ts = self._now_ts()
        first, last = self._first_window(now_ts), self._last_window(now_ts)
        if first is None or last is None:
            return 0
        end_ts = self._ts(last[1])
        if self._ts(first[0]) >= end_ts:
            return 0
        count = 0
        for tick in self._ticks(self._ts(first[0])):
            if self._ts(tick) >= end_ts:
                return count
            count += not self._is_excluded(tick)
        return count

    def get_partition_keys_between_indexes(self, start_idx: int, end_idx: int) -> list[str]:
        """Keys at positions [start_idx, end_idx) without formatting the others."""
        keys = []
        for index, tick in enumerate(self._key_ticks(self._now_ts())):
            if index >= end_idx:
                break
            if index >= start_idx:
                keys.append(self._format(tick))
        return keys

    def _parse(self, partition_key: str) -> datetime:
        return parse_key(partition_key, self.timezone, self.fmt)

    def _start_tick_for_key(self, partition_key: str) -> Tick:
        parsed = self._parse(partition_key)
        if self.is_basic_daily or self.is_basic_hourly:
            return _cron.tick_from_instant(parsed)
        return next(self._windows(parsed.timestamp()))[0]

    def start_time_for_partition_key(self, partition_key: str) -> datetime:
        return self._dt(self._start_tick_for_key(partition_key))

    def end_time_for_partition_key(self, partition_key: str) -> datetime:
        return self.time_window_for_partition_key(partition_key).end

    def time_window_for_partition_key(self, partition_key: str) -> TimeWindow:
        """The window `[start, end)` a key names (not checked against the definition's bounds)."""
        return self._window(*next(self._windows(self._parse(partition_key).timestamp())))

    def time_windows_for_partition_keys(self, partition_keys, validate: bool = True) -> list[TimeWindow]:
        windows = sorted(
            (self.time_window_for_partition_key(key) for key in set(partition_keys)),
            key=lambda w: w.start.timestamp(),
        )
        if validate:
            first, last = self.get_first_partition_window(), self.get_last_partition_window()
            if first is None or last is None:
                return []
            windows = [
                w for w in windows
                if w.start.timestamp() >= first.start.timestamp() and w.end.timestamp() <= last.end.timestamp()
            ]
        return windows

    def has_partition_key(self, partition_key: str) -> bool:
        try:
            tick = self._start_tick_for_key(partition_key)
        except ValueError:
            return False
        if self._is_excluded(tick):
            return False
        now_ts = self._now_ts()
        first, last = self._first_window(now_ts), self._last_window(now_ts)
        if first is None or last is None:
            return False
        ts = self._ts(tick)
        return self._ts(first[0]) <= ts <= self._ts(last[0]) and self._format(tick) == partition_key

    def get_partition_key(self, key: str | date | datetime) -> str:
        if isinstance(key, date | datetime):
            key = key.strftime(self.fmt)
        if not self.has_partition_key(key):
            raise ValueError(f"Got invalid partition key {key!r}")
        return key

    def get_next_partition_key(self, partition_key: str) -> str | None:
        """The key after `partition_key`, or None when it is the last one."""
        last = self._last_window(self._now_ts())
        if last is None:
            return None
        windows = self._windows(self._parse(partition_key).timestamp())
        next(windows)
        following = next(windows)[0]
        if self._ts(following) >= self._ts(last[1]):
            return None
        return self._format(following)

    def get_prev_partition_key(self, partition_key: str) -> str | None:
        """The key before `partition_key`, or None when it is the first one."""
        first = self._first_window(self._now_ts())
        if first is None:
            return None
        start = self._start_tick_for_key(partition_key)
        previous = next(self._windows_before(self._ts(start)))[0]
        if self._ts(previous) < self._ts(first[0]):
            return None
        return self._format(previous)

    def get_next_partition_window(self, end_dt: datetime, respect_bounds: bool = True) -> TimeWindow | None:
        window = next(self._windows(end_dt.timestamp()))
        if respect_bounds:
            last = self._last_window(self._now_ts())
            if last is None or self._ts(window[0]) >= self._ts(last[1]):
                return None
        return self._window(*window)

    def get_prev_partition_window(self, start_dt: datetime, respect_bounds: bool = True) -> TimeWindow | None:
        window = next(self._windows_before(start_dt.timestamp()))
        if respect_bounds:
            first = self._first_window(self._now_ts())
            if first is None or self._ts(window[0]) < self._ts(first[0]):
                return None
        return self._window(*window)

    def get_partition_key_for_timestamp(self, timestamp: float, end_closed: bool = False) -> str:
        """The key of the window containing `timestamp` (with `end_closed`, a window's end belongs to it)."""
        previous = None
        for tick in self._ticks(timestamp, ascending=False):
            if end_closed and self._ts(tick) == timestamp:
                continue
            if not self._is_excluded(tick):
                previous = tick
                break
        following = None
        for tick in self._ticks(timestamp):
            if not self._is_excluded(tick):
                following = tick
                break
        assert previous is not None and following is not None
        if end_closed or self._ts(following) > timestamp:
            return self._format(previous)
        return self._format(following)

    def get_partition_keys_in_time_window(self, time_window: TimeWindow) -> list[str]:
        end = time_window.end.timestamp()
        keys = []
        for start, _ in self._windows(time_window.start.timestamp()):
            if self._ts(start) >= end:
                break
            keys.append(self._format(start))
        return keys

    def get_num_partitions_in_window(self, time_window: TimeWindow) -> int:
        if time_window.start.timestamp() >= time_window.end.timestamp():
            return 0
        return len(self.get_partition_keys_in_time_window(time_window))

    def has_any_partitions_in_window(self, time_window: TimeWindow) -> bool:
        if time_window.start.timestamp() >= time_window.end.timestamp():
            return False
        start, _ = next(self._windows(time_window.start.timestamp()))
        return self._ts(start) < time_window.end.timestamp()

    def get_partition_key_range_for_time_window(self, time_window: TimeWindow, respect_bounds: bool = True) -> PartitionKeyRange:
        start_key = self.get_partition_key_for_timestamp(time_window.start.timestamp())
        previous = self.get_prev_partition_window(time_window.end, respect_bounds=respect_bounds)
        if previous is None:
            raise DagsterInvariantViolationError("No partition window ends within the given time window.")
        return PartitionKeyRange(start_key, self.get_partition_key_for_timestamp(previous.start.timestamp()))

    def get_partition_keys_in_range(self, partition_key_range: PartitionKeyRange) -> list[str]:
        start_time = self.start_time_for_partition_key(partition_key_range.start)
        if start_time.timestamp() < self.start_timestamp:
            raise DagsterInvariantViolationError(
                f"Partition key range start {partition_key_range.start} is before the partitions "
                f"definition start time {self.start}"
            )
        end_time = self.end_time_for_partition_key(partition_key_range.end)
        if self.end_timestamp is not None and end_time.timestamp() > self.end_timestamp:
            raise DagsterInvariantViolationError(
                f"Partition key range end {partition_key_range.end} is after the partitions "
                f"definition end time {self.end}"
            )
        return self.get_partition_keys_in_time_window(TimeWindow(start_time, end_time))

    def less_than(self, partition_key1: str, partition_key2: str) -> bool:
        return self.start_time_for_partition_key(partition_key1) < self.start_time_for_partition_key(partition_key2)

    def equal_except_for_start_or_end(self, other: TimeWindowPartitionsDefinition) -> bool:
        return (self.timezone, self.fmt, self.cron_schedule, self.end_offset, self.exclusions) == (
            other.timezone, other.fmt, other.cron_schedule, other.end_offset, other.exclusions
        )

    def validate_partition_definition(self) -> None:
        first = self.get_first_partition_key()
        if first is not None and self.get_next_partition_key(first) == first:
            raise DagsterInvalidDefinitionError(
                "This partition set contains multiple time ranges that map to the same partition key. "
                f"This usually indicates that the partition set's format string ({self.fmt}) is "
                f"not granular enough to produce a unique key for each time in the cron schedule ({self.cron_schedule})."
            )

    def get_serializable_unique_identifier(self, dynamic_partitions_store=None) -> str:
        import hashlib

        return hashlib.sha1(repr(self).encode("utf-8")).hexdigest()

    def to_snapshot(self) -> dict[str, Any]:
        return {
            "kind": "time_window",
            "class": type(self).__name__,
            "start": self.start_timestamp,
            "end": self.end_timestamp,
            "timezone": self.timezone,
            "fmt": self.fmt,
            "end_offset": self.end_offset,
            "cron_schedule": self.cron_schedule,
            "exclusions": [
                e if isinstance(e, str) else {"timestamp": e.timestamp, "timezone": e.timezone}
                for e in self.exclusions or ()
            ] or None,
        }


def _rebuild_time_window_definition(cls: type, fields: dict[str, Any]) -> TimeWindowPartitionsDefinition:
    return cls._from_fields(**fields)
