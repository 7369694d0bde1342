"""Cron tick times in a time zone. Expected values come from Dagster 1.13's scheduler iterator
(`dagster._utils.schedules.schedule_execution_time_iterator`) run on the same inputs."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from orchestra._core.automation.cron import (
    cron_ticks,
    has_out_of_range_step,
    is_valid_cron_schedule,
    is_valid_cron_string,
    latest_tick,
    next_tick,
    schedule_execution_times,
)

UTC = dt.UTC


def ticks(cron, tz, start, n, ascending=True):
    return [t.isoformat() for t in itertools.islice(cron_ticks(cron, tz, start, ascending=ascending), n)]


def test_daily_2am_in_new_york_fires_at_3am_on_the_spring_forward_day():
    assert ticks("0 2 * * *", "America/New_York", dt.datetime(2024, 3, 9, 12, tzinfo=UTC), 3) == [
        "2024-03-10T03:00:00-04:00",
        "2024-03-11T02:00:00-04:00",
        "2024-03-12T02:00:00-04:00",
    ]


def test_daily_2am_in_new_york_fires_once_on_the_fall_back_day():
    assert ticks("0 2 * * *", "America/New_York", dt.datetime(2024, 11, 2, 12, tzinfo=UTC), 3) == [
        "2024-11-03T02:00:00-05:00",
        "2024-11-04T02:00:00-05:00",
        "2024-11-05T02:00:00-05:00",
    ]


def test_a_repeated_wall_time_fires_once_at_its_later_occurrence():
    assert ticks("30 1 * * *", "America/New_York", dt.datetime(2024, 11, 2, 12, tzinfo=UTC), 2) == [
        "2024-11-03T01:30:00-05:00",
        "2024-11-04T01:30:00-05:00",
    ]


def test_a_skipped_wall_time_fires_at_the_end_of_the_gap():
    assert ticks("30 2 * * *", "America/New_York", dt.datetime(2024, 3, 9, 12, tzinfo=UTC), 2) == [
        "2024-03-10T03:00:00-04:00",
        "2024-03-11T02:30:00-04:00",
    ]
    assert ticks("30 2 * * *", "Europe/Berlin", dt.datetime(2024, 3, 30, 12, tzinfo=UTC), 2) == [
        "2024-03-31T03:00:00+02:00",
        "2024-04-01T02:30:00+02:00",
    ]


def test_every_15_minutes_skips_the_missing_hour_in_spring():
    assert ticks("*/15 * * * *", "America/New_York", dt.datetime(2024, 3, 10, 6, 30, tzinfo=UTC), 6) == [
        "2024-03-10T01:30:00-05:00",
        "2024-03-10T01:45:00-05:00",
        "2024-03-10T03:00:00-04:00",
        "2024-03-10T03:15:00-04:00",
        "2024-03-10T03:30:00-04:00",
        "2024-03-10T03:45:00-04:00",
    ]


def test_every_15_minutes_fires_in_both_occurrences_of_the_repeated_hour():
    assert ticks("*/15 * * * *", "America/New_York", dt.datetime(2024, 11, 3, 5, 30, tzinfo=UTC), 10) == [
        "2024-11-03T01:30:00-04:00",
        "2024-11-03T01:45:00-04:00",
        "2024-11-03T01:00:00-05:00",
        "2024-11-03T01:15:00-05:00",
        "2024-11-03T01:30:00-05:00",
        "2024-11-03T01:45:00-05:00",
        "2024-11-03T02:00:00-05:00",
        "2024-11-03T02:15:00-05:00",
        "2024-11-03T02:30:00-05:00",
        "2024-11-03T02:45:00-05:00",
    ]


def test_hourly_schedules_with_a_weekday_also_fire_twice_in_the_repeated_hour():
    assert ticks("0 * * * 0", "America/New_York", dt.datetime(2024, 11, 3, 4, 30, tzinfo=UTC), 4) == [
        "2024-11-03T01:00:00-04:00",
        "2024-11-03T01:00:00-05:00",
        "2024-11-03T02:00:00-05:00",
        "2024-11-03T03:00:00-05:00",
    ]


def test_weekly_and_monthly_schedules_move_a_skipped_time_to_the_end_of_the_gap():
    assert ticks("0 2 * * 0", "America/New_York", dt.datetime(2024, 3, 1, tzinfo=UTC), 3) == [
        "2024-03-03T02:00:00-05:00",
        "2024-03-10T03:00:00-04:00",
        "2024-03-17T02:00:00-04:00",
    ]
    assert ticks("0 2 10 * *", "America/New_York", dt.datetime(2024, 1, 1, tzinfo=UTC), 3) == [
        "2024-01-10T02:00:00-05:00",
        "2024-02-10T02:00:00-05:00",
        "2024-03-10T03:00:00-04:00",
    ]


def test_minute_fields_are_read_on_the_local_clock_in_half_hour_offset_zones():
    assert ticks("15 * * * *", "Asia/Kolkata", dt.datetime(2024, 1, 1, tzinfo=UTC), 2) == [
        "2024-01-01T06:15:00+05:30",
        "2024-01-01T07:15:00+05:30",
    ]


def test_a_list_of_cron_strings_fires_at_the_union_of_their_ticks_without_duplicates():
    assert ticks(["45 23 * * 6", "30 9 * * 0"], "UTC", dt.datetime(2024, 1, 1, tzinfo=UTC), 4) == [
        "2024-01-06T23:45:00+00:00",
        "2024-01-07T09:30:00+00:00",
        "2024-01-13T23:45:00+00:00",
        "2024-01-14T09:30:00+00:00",
    ]
    assert ticks(["0 0 * * *", "0 0 * * *", "0 12 * * *"], None, dt.datetime(2024, 1, 1, tzinfo=UTC), 3) == [
        "2024-01-01T00:00:00+00:00",
        "2024-01-01T12:00:00+00:00",
        "2024-01-02T00:00:00+00:00",
    ]


def test_a_tick_at_the_start_instant_is_included_and_feb_29_fires_only_in_leap_years():
    assert ticks("0 0 * * *", "UTC", dt.datetime(2024, 1, 1, tzinfo=UTC), 2) == [
        "2024-01-01T00:00:00+00:00",
        "2024-01-02T00:00:00+00:00",
    ]
    assert ticks("0 0 29 2 *", "UTC", dt.datetime(2023, 1, 1, tzinfo=UTC), 2) == [
        "2024-02-29T00:00:00+00:00",
        "2028-02-29T00:00:00+00:00",
    ]


def test_descending_iteration_walks_back_through_transitions():
    assert ticks("0 2 * * *", "America/New_York", dt.datetime(2024, 3, 11, 12, tzinfo=UTC), 3, ascending=False) == [
        "2024-03-11T02:00:00-04:00",
        "2024-03-10T03:00:00-04:00",
        "2024-03-09T02:00:00-05:00",
    ]
    assert ticks("0 * * * *", "America/New_York", dt.datetime(2024, 11, 3, 7, 30, tzinfo=UTC), 4, ascending=False) == [
        "2024-11-03T02:00:00-05:00",
        "2024-11-03T01:00:00-05:00",
        "2024-11-03T01:00:00-04:00",
        "2024-11-03T00:00:00-04:00",
    ]


def test_schedule_execution_times_includes_both_ends_and_accepts_timestamps():
    start = dt.datetime(2024, 3, 9, 7, tzinfo=UTC)  # 02:00 EST, itself a tick
    end = dt.datetime(2024, 3, 11, 6, tzinfo=UTC)  # 02:00 EDT, itself a tick
    times = schedule_execution_times("0 2 * * *", "America/New_York", start, end)
    assert [t.isoformat() for t in times] == [
        "2024-03-09T02:00:00-05:00",
        "2024-03-10T03:00:00-04:00",
        "2024-03-11T02:00:00-04:00",
    ]
    assert schedule_execution_times("0 2 * * *", "America/New_York", start.timestamp(), end.timestamp()) == times
    assert schedule_execution_times("0 2 * * *", "America/New_York", end, start) == []


def test_ticks_carry_the_execution_time_zone():
    (tick,) = schedule_execution_times("0 9 * * *", "Europe/Paris", dt.datetime(2024, 6, 1, tzinfo=UTC), dt.datetime(2024, 6, 1, 12, tzinfo=UTC))
    assert str(tick.tzinfo) == "Europe/Paris"
    assert tick.timestamp() == dt.datetime(2024, 6, 1, 7, tzinfo=UTC).timestamp()
    (utc_tick,) = schedule_execution_times("0 9 * * *", None, dt.datetime(2024, 6, 1, tzinfo=UTC), dt.datetime(2024, 6, 1, 12, tzinfo=UTC))
    assert utc_tick.tzinfo is UTC


def test_next_tick_is_strictly_after_and_latest_tick_is_at_or_before():
    at = dt.datetime(2024, 1, 1, tzinfo=UTC)
    assert next_tick("0 0 * * *", "UTC", at).isoformat() == "2024-01-02T00:00:00+00:00"
    assert latest_tick("0 0 * * *", "UTC", at).isoformat() == "2024-01-01T00:00:00+00:00"


def test_naive_datetimes_are_rejected_as_ambiguous():
    with pytest.raises(ValueError, match="naive"):
        schedule_execution_times("0 0 * * *", "UTC", dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 2))


@pytest.mark.parametrize(
    ("cron_string", "valid"),
    [
        ("0 2 * * *", True),
        ("* * * * * *", False),  # a seconds field
        ("0 0 30 2 *", False),  # never fires
        ("0 0 31 2 *", False),
        ("0 0 29 2 *", True),
        ("foo", False),
        ("", False),
        ("60 * * * *", False),
        ("0 24 * * *", False),
        ("@daily", True),
        ("@weekly", True),
        ("@reboot", False),
        ("0 0 * * 7", True),
        ("*/90 * * * *", True),
        ("0 0 L * *", True),
        ("0 0 1W * *", False),
        ("0 0 * * 1#2", True),
        ("0 0 * * MON-FRI", True),
        ("0 0 * JAN *", True),
        ("0 0 ? * *", True),
        ("1 2 3", False),
        ("H * * * *", False),
        ("0 0 * * 5L", False),
    ],
)
def test_cron_string_validity_matches_dagster(cron_string, valid):
    assert is_valid_cron_string(cron_string) is valid


def test_a_cron_schedule_is_a_string_or_a_non_empty_list_of_valid_strings():
    assert is_valid_cron_schedule(["0 0 * * *", "0 12 * * *"])
    assert not is_valid_cron_schedule([])
    assert not is_valid_cron_schedule(["0 0 * * *", "bad"])
    assert not is_valid_cron_schedule(None)


def test_steps_beyond_a_fields_range_are_detected():
    assert has_out_of_range_step("*/90 * * * *")
    assert has_out_of_range_step(["0 0 * * *", "0 */30 * * *"])
    assert not has_out_of_range_step("*/15 * * * *")


def test_importing_the_sdk_loads_neither_croniter_nor_the_automation_modules():
    import subprocess
    import sys

    code = (
        "import sys, orchestra; "
        "print('croniter' in sys.modules, any(m.startswith('orchestra._core.automation') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]
