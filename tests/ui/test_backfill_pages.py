"""Backfill pages: the backfills tab of the runs page, a backfill's partition status grid, cancel and
re-execute failed partitions — against a real code server, in a constant number of queries."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from runs.models import RunStatus
from runs.services import EventInput, event_store
from scheduling.backfills import backfill_create, backfill_progress
from scheduling.models import Backfill, BackfillStatus
from tests.runs.locations import queued
from tests.scheduling import test_asset_backfills
from tests.scheduling.test_asset_backfills import JANUARY, runs_of

pytestmark = pytest.mark.django_db(transaction=True)

# The asset backfill tests' code server (module-scoped) and its loaded location, reused here.
asset_code_server = test_asset_backfills.asset_code_server
assets = test_asset_backfills.assets


@pytest.fixture(autouse=True)
def queued_runs(settings):
    """Submitted runs wait in the queue: no run worker starts."""
    queued(settings)


def _finish(run, status: str) -> None:
    end = "RUN_SUCCESS" if status == RunStatus.SUCCESS else "RUN_FAILURE"
    event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_START"), EventInput(event_type=end)])


def _cells(html: str) -> dict[str, str]:
    return dict(re.findall(r'<span class="visually-hidden">(\S+) ([A-Z_]+)</span>', html))


def test_the_backfills_tab_lists_backfills_and_filters_by_status(assets, client):
    first = backfill_create(asset_selection=["raw"], partition_names=JANUARY[:2])
    second = backfill_create(asset_selection=["raw"], partition_names=JANUARY[2:3])
    Backfill.objects.filter(pk=first.pk).update(status=BackfillStatus.COMPLETED_SUCCESS)
    html = client.get("/runs/?view=backfills").content.decode()
    assert html.index(second.backfill_id) < html.index(first.backfill_id)  # newest first
    assert "0 / 1 submitted" in html and 'aria-current="page">Backfills' in html
    html = client.get("/runs/?view=backfills&status=completed_success").content.decode()
    assert first.backfill_id in html and second.backfill_id not in html
    response = client.get("/runs/?view=backfills&status=BOGUS")
    assert response.status_code == 400 and "unknown backfill status" in response.content.decode()
    assert 'aria-current="page">Runs' in client.get("/runs/").content.decode()  # the runs list is still there


def test_a_backfill_shows_each_partition_s_latest_run(assets, client):
    backfill = backfill_create(asset_selection=["raw"], partition_names=JANUARY[:4], max_runs_in_flight=3)
    backfill_progress(backfill_id=backfill.backfill_id)
    first, second, third = runs_of(backfill)
    _finish(first, RunStatus.SUCCESS)
    _finish(second, RunStatus.FAILURE)
    html = client.get(f"/runs/b/{backfill.backfill_id}/").content.decode()
    assert _cells(html) == {JANUARY[0]: "SUCCESS", JANUARY[1]: "FAILURE", JANUARY[2]: third.status,
                            JANUARY[3]: "NOT_SUBMITTED"}
    assert f'href="/runs/{second.run_id}/"' in html
    assert "Cancel backfill" in html and "Re-execute failed partitions" not in html  # still requested
    assert client.get("/runs/b/nope/").status_code == 404


def test_the_backfill_page_makes_a_constant_number_of_queries(assets, client):
    counts = []
    for partitions in (JANUARY[:2], JANUARY):
        backfill = backfill_create(asset_selection=["raw"], partition_names=partitions)
        backfill_progress(backfill_id=backfill.backfill_id)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/runs/b/{backfill.backfill_id}/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_cancel_then_reexecute_the_failed_partitions_from_the_page(assets, client):
    backfill = backfill_create(asset_selection=["raw"], partition_names=JANUARY[:2])
    backfill_progress(backfill_id=backfill.backfill_id)
    first, second = runs_of(backfill)
    _finish(first, RunStatus.SUCCESS)
    _finish(second, RunStatus.FAILURE)
    assert backfill_progress(backfill_id=backfill.backfill_id).status == BackfillStatus.COMPLETED_FAILED

    response = client.post(f"/runs/b/{backfill.backfill_id}/cancel", follow=True)
    assert "only a requested backfill can be canceled" in response.content.decode()
    html = client.get(f"/runs/b/{backfill.backfill_id}/").content.decode()
    assert "Re-execute failed partitions" in html and "Cancel backfill" not in html
    response = client.post(f"/runs/b/{backfill.backfill_id}/reexecute")
    again = Backfill.objects.get(from_failure_of=backfill.backfill_id)
    assert response.status_code == 302 and response.url == f"/runs/b/{again.backfill_id}/"
    assert again.partition_names == [JANUARY[1]]

    response = client.post(f"/runs/b/{again.backfill_id}/cancel")
    assert response.status_code == 302
    assert Backfill.objects.get(pk=again.pk).status in (BackfillStatus.CANCELING, BackfillStatus.CANCELED)


def test_a_viewer_cannot_cancel_or_reexecute(assets, client, login_as):
    backfill = backfill_create(asset_selection=["raw"], partition_names=JANUARY[:1])
    login_as("viewer")
    html = client.get(f"/runs/b/{backfill.backfill_id}/").content.decode()
    assert "Cancel backfill" not in html
    assert client.post(f"/runs/b/{backfill.backfill_id}/cancel").status_code == 403
    assert client.post(f"/runs/b/{backfill.backfill_id}/reexecute").status_code == 403
    assert Backfill.objects.get(pk=backfill.pk).status == BackfillStatus.REQUESTED
