"""Bulk terminate and delete from the runs list: all or nothing on permissions, per-run outcomes reported,
back to the filtered list."""

from __future__ import annotations

import pytest

from runs import services
from runs.models import Run, RunStatus
from tests.runs.locations import queued
from tests.workspace.stored import store_location

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def data(tmp_path, settings):
    queued(settings)
    return store_location(tmp_path)


def test_the_list_offers_checkboxes_and_bulk_actions(data, client):
    run = services.run_submit(job_name="plain", location_name="data")
    html = client.get("/runs/").content.decode()
    assert f'name="run_id" value="{run.run_id}" form="runs-bulk"' in html
    assert 'name="action" value="terminate"' in html and 'name="action" value="delete"' in html


def test_bulk_terminate_cancels_queued_runs_and_reports_the_rest(data, client):
    first = services.run_submit(job_name="plain", location_name="data")
    second = services.run_submit(job_name="plain", location_name="data")
    done = services.run_submit(job_name="plain", location_name="data")
    Run.objects.filter(pk=done.pk).update(status=RunStatus.SUCCESS)
    response = client.post("/runs/bulk", {"action": "terminate", "run_id": [first.run_id, second.run_id, done.run_id,
                                                                           "nope"], "next": "/runs/?job=plain"},
                           follow=True)
    assert response.redirect_chain[-1][0] == "/runs/?job=plain"
    html = response.content.decode()
    assert "Termination requested for 2 runs." in html and "2 not terminated" in html
    assert {Run.objects.get(pk=r.pk).status for r in (first, second)} == {RunStatus.CANCELED}
    assert Run.objects.get(pk=done.pk).status == RunStatus.SUCCESS


def test_bulk_delete_removes_the_runs(data, client):
    runs = [services.run_submit(job_name="plain", location_name="data") for _ in range(3)]
    client.post("/runs/bulk", {"action": "delete", "run_id": [r.run_id for r in runs[:2]]})
    assert list(Run.objects.values_list("run_id", flat=True)) == [runs[2].run_id]


def test_bad_bulk_requests_change_nothing(data, client):
    run = services.run_submit(job_name="plain", location_name="data")
    assert "unknown bulk action" in client.post("/runs/bulk", {"action": "explode", "run_id": [run.run_id]},
                                                follow=True).content.decode()
    assert "Select the runs to delete first." in client.post("/runs/bulk", {"action": "delete"},
                                                            follow=True).content.decode()
    assert Run.objects.count() == 1


def test_a_launcher_in_another_location_cannot_bulk_delete(data, client, login_as):
    run = services.run_submit(job_name="plain", location_name="data")
    login_as("editor", "elsewhere")
    assert client.post("/runs/bulk", {"action": "delete", "run_id": [run.run_id]}).status_code == 403
    assert Run.objects.count() == 1
    assert 'name="action" value="delete"' not in client.get("/runs/").content.decode()
