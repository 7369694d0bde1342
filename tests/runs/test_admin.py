"""The operator's admin: runs with tags and events inline, read-only; lists in constant queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from runs import services
from runs.services import EventInput

pytestmark = pytest.mark.django_db


def test_run_changelist_lists_runs_in_constant_queries(admin_client):
    def page_queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = admin_client.get("/admin/runs/run/")
        assert response.status_code == 200
        return len(ctx.captured_queries)

    services.run_create(job_name="first_job")
    few = page_queries()
    for i in range(20):
        services.run_create(job_name=f"job_{i}", tags={"i": str(i)})
    assert page_queries() == few
    assert b"job_19" in admin_client.get("/admin/runs/run/").content


def test_run_detail_shows_tags_and_events_and_cannot_be_edited(admin_client):
    run = services.run_create(job_name="etl", tags={"owner": "<b>team</b>"})
    services.event_store(run_id=run.run_id, events=[EventInput("RUN_START"), EventInput(None, message="<script>x</script>")])
    response = admin_client.get(f"/admin/runs/run/{run.pk}/change/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "RUN_START" in body and "&lt;script&gt;x&lt;/script&gt;" in body and "<script>x</script>" not in body
    assert "&lt;b&gt;team&lt;/b&gt;" in body
    assert admin_client.post(f"/admin/runs/run/{run.pk}/change/", {"job_name": "hacked"}).status_code == 403
    run.refresh_from_db()
    assert run.job_name == "etl"


def test_admin_requires_login(client):
    response = client.get("/admin/runs/run/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_health_endpoint_is_open_and_reports_database(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_deleting_runs_in_the_admin_goes_through_the_service_and_is_audited(admin_client, admin_user):
    from core.models import AuditEntry
    from runs.models import EventLogEntry, Run, RunTag

    runs = [services.run_create(job_name="etl", tags={"k": "v"}) for _ in range(3)]
    for run in runs:
        services.event_store(run_id=run.run_id, events=[EventInput("RUN_START")])
    response = admin_client.post(f"/admin/runs/run/{runs[0].pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    response = admin_client.post("/admin/runs/run/", {"action": "delete_selected", "_selected_action":
                                                      [runs[1].pk, runs[2].pk], "post": "yes"})
    assert response.status_code == 302
    assert not Run.objects.exists() and not RunTag.objects.exists() and not EventLogEntry.objects.exists()
    entries = AuditEntry.objects.filter(action="run.delete")
    assert sorted(entries.values_list("target_id", flat=True)) == sorted(run.run_id for run in runs)
    assert set(entries.values_list("actor_name", flat=True)) == {admin_user.get_username()}
