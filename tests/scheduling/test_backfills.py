"""Backfills of a partitioned job: runs submitted in batches, the cap on runs in flight, cancel, re-execute."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from core.exceptions import Conflict, InvalidInput, NotFound
from runs.models import Run, RunStatus
from runs.services import EventInput, event_store, run_terminate
from scheduling.backfills import (
    backfill_cancel,
    backfill_create,
    backfill_progress,
    backfill_reexecute_failed,
)
from scheduling.models import Backfill, BackfillStatus
from tests.scheduling.conftest import LOCATION

pytestmark = pytest.mark.django_db(transaction=True)

JANUARY = [f"2024-01-{day:02d}" for day in range(1, 32)]


def partitions_of_runs(backfill: Backfill) -> list[str]:
    runs = Run.objects.filter(tags__key="dagster/backfill", tags__value=backfill.backfill_id).order_by("id")
    return [dict(run.tags.values_list("key", "value"))["dagster/partition"] for run in runs]


def finish(backfill: Backfill, status: str) -> None:
    event = "RUN_SUCCESS" if status == RunStatus.SUCCESS else "RUN_FAILURE"
    for run in Run.objects.filter(tags__key="dagster/backfill", tags__value=backfill.backfill_id):
        event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_START"), EventInput(event_type=event)])


def test_a_range_becomes_one_run_per_partition_submitted_in_batches(location):
    backfill = backfill_create(location_name=LOCATION, job_name="daily_job", partition_range=("2024-01-01", "2024-01-05"),
                               tags={"team": "data"})
    assert backfill.partition_names == JANUARY[:5]
    backfill = backfill_progress(backfill_id=backfill.backfill_id, batch_size=2, max_batches=1)
    assert (backfill.status, backfill.submitted) == (BackfillStatus.REQUESTED, 2)
    backfill = backfill_progress(backfill_id=backfill.backfill_id, batch_size=2)
    assert backfill.submitted == 5
    assert partitions_of_runs(backfill) == JANUARY[:5]
    run = Run.objects.filter(job_name="daily_job").first()
    tags = dict(run.tags.values_list("key", "value"))
    assert tags["team"] == "data" and tags["dagster/backfill"] == backfill.backfill_id
    assert run.status == RunStatus.QUEUED

    finish(backfill, RunStatus.SUCCESS)
    assert backfill_progress(backfill_id=backfill.backfill_id).status == BackfillStatus.COMPLETED_SUCCESS


def test_the_cap_on_runs_in_flight_holds_back_submission_until_runs_finish(location):
    backfill = backfill_create(location_name=LOCATION, job_name="daily_job", partition_names=JANUARY[:5],
                               max_runs_in_flight=2)
    assert backfill_progress(backfill_id=backfill.backfill_id).submitted == 2
    assert backfill_progress(backfill_id=backfill.backfill_id).submitted == 2  # still two in flight
    finish(backfill, RunStatus.SUCCESS)
    assert backfill_progress(backfill_id=backfill.backfill_id).submitted == 4


def test_two_workers_progressing_the_same_backfill_submit_each_partition_once(location):
    backfill = backfill_create(location_name=LOCATION, job_name="daily_job", partition_names=JANUARY)
    barrier = threading.Barrier(2)
    errors: list = []

    def worker() -> None:
        try:
            barrier.wait()
            backfill_progress(backfill_id=backfill.backfill_id, batch_size=4)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert partitions_of_runs(backfill) == JANUARY


def test_cancel_stops_submission_and_cancels_queued_runs_then_failed_partitions_reexecute(location):
    backfill = backfill_create(location_name=LOCATION, job_name="daily_job", partition_names=JANUARY[:6])
    backfill_progress(backfill_id=backfill.backfill_id, batch_size=2, max_batches=2)
    canceled = backfill_cancel(backfill_id=backfill.backfill_id)
    assert canceled.status == BackfillStatus.CANCELED
    assert set(Run.objects.values_list("status", flat=True)) == {RunStatus.CANCELED}
    assert backfill_progress(backfill_id=backfill.backfill_id).submitted == 4  # nothing more after a cancel
    with pytest.raises(Conflict):
        backfill_cancel(backfill_id=backfill.backfill_id)

    again = backfill_reexecute_failed(backfill_id=backfill.backfill_id)
    assert (again.partition_names, again.from_failure_of) == (JANUARY[:6], backfill.backfill_id)


def test_a_failed_run_completes_the_backfill_as_failed_and_only_it_is_reexecuted(location):
    backfill = backfill_create(location_name=LOCATION, job_name="daily_job", partition_names=JANUARY[:3])
    backfill_progress(backfill_id=backfill.backfill_id)
    runs = list(Run.objects.order_by("id"))
    for run in runs[:2]:
        event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_START"), EventInput(event_type="RUN_SUCCESS")])
    run_terminate(run_id=runs[2].run_id)
    assert backfill_progress(backfill_id=backfill.backfill_id).status == BackfillStatus.COMPLETED_FAILED
    assert backfill_reexecute_failed(backfill_id=backfill.backfill_id).partition_names == [JANUARY[2]]


def test_bad_backfills_are_refused_with_the_reason(location):
    with pytest.raises(InvalidInput, match="no partitions named '1999-01-01'"):
        backfill_create(location_name=LOCATION, job_name="daily_job", partition_names=["1999-01-01"])
    with pytest.raises(InvalidInput, match="has no partitions"):
        backfill_create(location_name=LOCATION, job_name="my_job", all_partitions=True)
    with pytest.raises(InvalidInput, match="exactly one"):
        backfill_create(location_name=LOCATION, job_name="daily_job")
    with pytest.raises(InvalidInput, match="start comes after the end"):
        backfill_create(location_name=LOCATION, job_name="daily_job", partition_range=("2024-01-05", "2024-01-01"))
    with pytest.raises(NotFound):
        backfill_create(location_name=LOCATION, job_name="nope", all_partitions=True)
    assert not Backfill.objects.exists()
