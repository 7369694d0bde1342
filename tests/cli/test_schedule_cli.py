"""`orchestra schedule|sensor|backfill ...` in real `orchestra` processes against the test database, with the
schedules and sensors of a real code server's stored location."""

from __future__ import annotations

import pytest
from django.utils import timezone

from scheduling.models import Backfill, InstigatorState, Tick, TickStatus
from tests.cli.test_job_cli import orchestra
from tests.scheduling import conftest as scheduling_fixtures
from tests.scheduling.conftest import LOCATION

# The scheduling tests' fixtures: a real code server, its stored (and reconciled) location, runs left queued.
code_server = scheduling_fixtures.code_server
location = scheduling_fixtures.location
queued_runs = scheduling_fixtures.queued_runs

pytestmark = pytest.mark.django_db(transaction=True)


def state(kind: str, name: str) -> InstigatorState:
    return InstigatorState.objects.get(kind=kind, location_name=LOCATION, name=name)


def test_schedule_list_start_stop_restart_and_logs(child_home, location):
    listed = orchestra(child_home, "schedule", "list")
    assert listed.returncode == 0, listed.stderr
    assert f"Repository __repository__@{LOCATION}" in listed.stdout
    assert "Schedule: hourly [RUNNING]\nCron Schedule: 0 * * * *" in listed.stdout
    assert "Schedule: two_crons [STOPPED]" in listed.stdout
    running = orchestra(child_home, "schedule", "list", "--running", "--name")
    assert running.stdout.split() == ["hourly"]

    started = orchestra(child_home, "schedule", "start", "two_crons")
    assert (started.returncode, started.stdout) == (0, "Started schedule two_crons\n"), started.stderr
    assert state("SCHEDULE", "two_crons").status == "RUNNING"
    first_start = state("SCHEDULE", "two_crons").started_at
    restarted = orchestra(child_home, "schedule", "restart", "two_crons")
    assert restarted.stdout == "Restarted schedule two_crons\n"
    assert state("SCHEDULE", "two_crons").started_at > first_start
    stopped = orchestra(child_home, "schedule", "stop", "two_crons")
    assert stopped.stdout == "Stopped schedule two_crons\n"
    assert state("SCHEDULE", "two_crons").status == "STOPPED"
    not_running = orchestra(child_home, "schedule", "restart", "two_crons")
    assert not_running.returncode == 1 and "is not running" in not_running.stderr

    unknown = orchestra(child_home, "schedule", "start", "nope")
    assert unknown.returncode == 1 and "No schedule named 'nope'" in unknown.stderr and "hourly" in unknown.stderr

    skipping = state("SCHEDULE", "skipping_schedule")
    Tick.objects.create(state=skipping, kind="SCHEDULE", status=TickStatus.SKIPPED, skip_reason="nothing to do today",
                        scheduled_time=timezone.now().replace(microsecond=0))
    logs = orchestra(child_home, "schedule", "logs", "skipping_schedule")
    assert logs.returncode == 0 and "SKIPPED  skipped: nothing to do today" in logs.stdout
    assert orchestra(child_home, "schedule", "logs", "two_crons").stdout == "Schedule two_crons has no ticks yet.\n"


def test_schedule_preview_evaluates_in_the_code_server_and_records_nothing(child_home, location):
    preview = orchestra(child_home, "schedule", "preview", "hourly", "--at", "2026-01-01T09:00:00+00:00")
    assert preview.returncode == 0, preview.stderr
    assert "Tick at 2026-01-01T09:00:00+00:00" in preview.stdout and '"team": "data"' in preview.stdout
    skipped = orchestra(child_home, "schedule", "preview", "skipping_schedule")
    assert "Skipped: nothing to do today" in skipped.stdout
    failed = orchestra(child_home, "schedule", "preview", "failing_schedule")
    assert failed.returncode == 1 and "The evaluation failed" in failed.stderr
    assert not Tick.objects.exists()


def test_schedule_wipe_turns_schedules_off_and_deletes_their_ticks(child_home, location):
    Tick.objects.create(state=state("SCHEDULE", "hourly"), kind="SCHEDULE", status=TickStatus.SUCCESS,
                        scheduled_time=timezone.now())
    declined = orchestra(child_home, "schedule", "wipe", stdin="no\n")
    assert "Exiting without" in declined.stdout and Tick.objects.count() == 1
    wiped = orchestra(child_home, "schedule", "wipe", stdin="DELETE\n")
    assert "Turned off all schedules and deleted all schedule history" in wiped.stdout
    assert not Tick.objects.exists() and state("SCHEDULE", "hourly").status == "STOPPED"


def test_sensor_list_start_stop_cursor_and_preview(child_home, location):
    listed = orchestra(child_home, "sensor", "list")
    assert "Sensor: counting_sensor [RUNNING]\nMinimum interval: 45 s" in listed.stdout, listed.stderr
    assert orchestra(child_home, "sensor", "start", "result_sensor").stdout == "Started sensor result_sensor\n"
    assert state("SENSOR", "result_sensor").status == "RUNNING"
    assert orchestra(child_home, "sensor", "stop", "result_sensor").stdout == "Stopped sensor result_sensor\n"
    assert state("SENSOR", "result_sensor").status == "STOPPED"

    set_cursor = orchestra(child_home, "sensor", "cursor", "counting_sensor", "--set", "7")
    assert set_cursor.stdout == 'Set cursor state for sensor counting_sensor to "7"\n'
    assert state("SENSOR", "counting_sensor").cursor == "7"
    preview = orchestra(child_home, "sensor", "preview", "counting_sensor")
    assert preview.returncode == 0, preview.stderr
    assert '"run_key": "run-8"' in preview.stdout and "New cursor: 8" in preview.stdout
    assert state("SENSOR", "counting_sensor").cursor == "7"  # a preview stores nothing
    deleted = orchestra(child_home, "sensor", "cursor", "counting_sensor", "--delete")
    assert deleted.stdout == "Cleared cursor state for sensor counting_sensor\n"
    assert state("SENSOR", "counting_sensor").cursor is None
    both = orchestra(child_home, "sensor", "cursor", "counting_sensor")
    assert both.returncode == 2 and "exactly one of --set VALUE or --delete" in both.stderr


def test_backfill_launch_list_show_and_cancel(child_home, location):
    launched = orchestra(child_home, "backfill", "launch", "-j", "daily_job", "--from", "2024-01-01", "--to",
                         "2024-01-03", "--tags", '{"team": "data"}', "--noprompt")
    assert launched.returncode == 0, launched.stderr
    backfill = Backfill.objects.get()
    assert launched.stdout == f"Launched backfill {backfill.backfill_id} of job daily_job: 3 partitions\n"
    assert backfill.partition_names == ["2024-01-01", "2024-01-02", "2024-01-03"]
    assert backfill.tags == {"team": "data"}

    listed = orchestra(child_home, "backfill", "list", "--status", "requested")
    assert f"Backfill: {backfill.backfill_id}\n     Job: daily_job ({LOCATION})\n  Status: REQUESTED" in listed.stdout
    shown = orchestra(child_home, "backfill", "show", backfill.backfill_id)
    assert "Partitions: 3 (0 submitted)" in shown.stdout
    canceled = orchestra(child_home, "backfill", "cancel", backfill.backfill_id)
    assert canceled.stdout == f"Backfill {backfill.backfill_id} is CANCELED\n", canceled.stderr
    again = orchestra(child_home, "backfill", "cancel", backfill.backfill_id)
    assert again.returncode == 1 and "only a requested backfill can be canceled" in again.stderr

    bad = orchestra(child_home, "backfill", "launch", "-j", "daily_job", "--partitions", "1999-01-01", "--noprompt")
    assert bad.returncode == 1 and "'1999-01-01'" in bad.stderr
    none = orchestra(child_home, "backfill", "launch", "-j", "daily_job", "--noprompt")
    assert none.returncode == 2 and "exactly one of" in none.stderr
    unknown = orchestra(child_home, "backfill", "launch", "-j", "nope", "--all", "--noprompt")
    assert unknown.returncode == 1 and "No job named 'nope'" in unknown.stderr
    assert Backfill.objects.count() == 1
