"""Hourly, daily, weekly and monthly partitions: time windows with a named cadence and default formats."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from orchestra._core.partitions.time_window import ScheduleType, TimeWindowPartitionsDefinition
from orchestra._errors import DagsterInvariantViolationError

DEFAULT_DATE_FORMAT = "%Y-%m-%d"
DEFAULT_HOURLY_FORMAT = "%Y-%m-%d-%H:%M"
DEFAULT_MONTHLY_FORMAT = "%Y-%m"


class HourlyPartitionsDefinition(TimeWindowPartitionsDefinition):
    """One partition per hour, keyed like `2024-03-10-02:00` (`%Y-%m-%d-%H:%M`).

    Example:
        ```python
        dg.HourlyPartitionsDefinition(start_date="2024-01-01-00:00", timezone="America/New_York")
        ```
    """

    def __init__(
        self,
        start_date: datetime | str,
        end_date: datetime | str | None = None,
        minute_offset: int = 0,
        timezone: str | None = None,
        fmt: str | None = None,
        end_offset: int = 0,
        exclusions: Sequence[str | datetime] | None = None,
        **kwargs,
    ):
        cron_schedule = kwargs.get("cron_schedule")
        super().__init__(
            schedule_type=None if cron_schedule else ScheduleType.HOURLY,
            start=start_date,
            end=end_date,
            minute_offset=minute_offset,
            timezone=timezone,
            fmt=fmt or DEFAULT_HOURLY_FORMAT,
            end_offset=end_offset,
            cron_schedule=cron_schedule,
            exclusions=exclusions,
        )


class DailyPartitionsDefinition(TimeWindowPartitionsDefinition):
    """One partition per day, keyed like `2024-01-31` (`%Y-%m-%d`).

    Example:
        ```python
        dg.DailyPartitionsDefinition(start_date="2024-01-01", hour_offset=6, timezone="Europe/Paris")
        ```
    """

    def __init__(
        self,
        start_date: datetime | str,
        end_date: datetime | str | None = None,
        minute_offset: int = 0,
        hour_offset: int = 0,
        timezone: str | None = None,
        fmt: str | None = None,
        end_offset: int = 0,
        exclusions: Sequence[str | datetime] | None = None,
        **kwargs,
    ):
        cron_schedule = kwargs.get("cron_schedule")
        super().__init__(
            schedule_type=None if cron_schedule else ScheduleType.DAILY,
            start=start_date,
            end=end_date,
            minute_offset=minute_offset,
            hour_offset=hour_offset,
            timezone=timezone,
            fmt=fmt or DEFAULT_DATE_FORMAT,
            end_offset=end_offset,
            cron_schedule=cron_schedule,
            exclusions=exclusions,
        )


class WeeklyPartitionsDefinition(TimeWindowPartitionsDefinition):
    """One partition per week, starting on `day_offset` (0 = Sunday ... 6 = Saturday).

    Example:
        ```python
        dg.WeeklyPartitionsDefinition(start_date="2024-01-01", day_offset=1)  # Monday to Monday
        ```
    """

    def __init__(
        self,
        start_date: datetime | str,
        end_date: datetime | str | None = None,
        minute_offset: int = 0,
        hour_offset: int = 0,
        day_offset: int = 0,
        timezone: str | None = None,
        fmt: str | None = None,
        end_offset: int = 0,
        exclusions: Sequence[str | datetime] | None = None,
        **kwargs,
    ):
        cron_schedule = kwargs.get("cron_schedule")
        super().__init__(
            schedule_type=None if cron_schedule else ScheduleType.WEEKLY,
            start=start_date,
            end=end_date,
            minute_offset=minute_offset,
            hour_offset=hour_offset,
            day_offset=day_offset,
            timezone=timezone,
            fmt=fmt or DEFAULT_DATE_FORMAT,
            end_offset=end_offset,
            cron_schedule=cron_schedule,
            exclusions=exclusions,
        )


class MonthlyPartitionsDefinition(TimeWindowPartitionsDefinition):
    """One partition per month, starting on day `day_offset` of the month (default 1).

    Example:
        ```python
        dg.MonthlyPartitionsDefinition(start_date="2024-01-01")  # keys "2024-01-01", "2024-02-01", ...
        ```
    """

    def __init__(
        self,
        start_date: datetime | str,
        end_date: datetime | str | None = None,
        minute_offset: int = 0,
        hour_offset: int = 0,
        day_offset: int = 1,
        timezone: str | None = None,
        fmt: str | None = None,
        end_offset: int = 0,
        exclusions: Sequence[str | datetime] | None = None,
        **kwargs,
    ):
        cron_schedule = kwargs.get("cron_schedule")
        if cron_schedule:
            if day_offset != 1:
                raise DagsterInvariantViolationError(
                    f"Reconstruction by cron_schedule got unexpected day_offset {day_offset}, expected 1."
                )
            day_offset = 0
        super().__init__(
            schedule_type=None if cron_schedule else ScheduleType.MONTHLY,
            start=start_date,
            end=end_date,
            minute_offset=minute_offset,
            hour_offset=hour_offset,
            day_offset=day_offset,
            timezone=timezone,
            fmt=fmt or DEFAULT_DATE_FORMAT,
            end_offset=end_offset,
            cron_schedule=cron_schedule,
            exclusions=exclusions,
        )
