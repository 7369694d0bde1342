"""The REST API for runs and their events: filters, cursors, errors as JSON, deletion."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from runs import selectors, services
from runs.models import EventLogEntry, Run
from runs.services import EventInput

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert('x')</script> \"quoted\" \\ back\nslash \u202e rtl 💥 ' OR 1=1 --"


def run_ids(client, query: str = "") -> list[str]:
    response = client.get(f"/api/runs{query}")
    assert response.status_code == 200, response.content
    return [r["run_id"] for r in response.json()["results"]]


def test_list_runs_newest_first_with_tags_and_config(client):
    first = services.run_create(
        job_name="etl", tags={"team": "data"}, run_config={"ops": {"a": {"config": 1}}}
    )
    second = services.run_create(job_name="report")
    body = client.get("/api/runs").json()
    assert [r["run_id"] for r in body["results"]] == [second.run_id, first.run_id]
    assert body["next_cursor"] is None
    listed = body["results"][1]
    assert listed["job_name"] == "etl" and listed["status"] == "NOT_STARTED"
    assert listed["tags"] == {"team": "data"} and listed["run_config"] == {"ops": {"a": {"config": 1}}}


def test_list_runs_filters_by_status_job_tags_and_creation_time(client):
    ok = services.run_create(job_name="etl", tags={"team": "data", "env": "prod"})
    services.event_store(run_id=ok.run_id, events=[EventInput("RUN_START"), EventInput("RUN_SUCCESS")])
    failed = services.run_create(job_name="etl", tags={"team": "data", "env": "dev"})
    services.event_store(run_id=failed.run_id, events=[EventInput("RUN_START"), EventInput("RUN_FAILURE")])
    other = services.run_create(job_name="report", tags={"team": "web"})
    Run.objects.filter(pk=other.pk).update(created_at=timezone.now() - timedelta(days=2))
    day_ago = (timezone.now() - timedelta(days=1)).isoformat().replace("+00:00", "Z")

    assert run_ids(client, "?status=SUCCESS&status=FAILURE") == [failed.run_id, ok.run_id]
    assert run_ids(client, "?job=report") == [other.run_id]
    assert run_ids(client, "?tag=team:data") == [failed.run_id, ok.run_id]
    assert run_ids(client, "?tag=team:data&tag=env:prod") == [ok.run_id]
    assert run_ids(client, "?tag=env:prod&tag=env:dev") == [failed.run_id, ok.run_id]
    assert run_ids(client, f"?created_after={day_ago}") == [failed.run_id, ok.run_id]
    assert run_ids(client, f"?created_before={day_ago}") == [other.run_id]
    assert run_ids(client, "?job=etl&status=FAILURE&tag=team:data") == [failed.run_id]


def test_list_runs_pages_by_cursor_without_overlap(client):
    ids = [services.run_create(job_name="etl").run_id for _ in range(7)]
    seen, cursor = [], None
    while True:
        body = client.get("/api/runs", {"limit": 3, **({"cursor": cursor} if cursor else {})}).json()
        seen += [r["run_id"] for r in body["results"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ids[::-1]


def test_list_runs_runs_in_constant_queries(client, django_assert_num_queries):
    services.run_create(job_name="etl", tags={"a": "1"})
    with django_assert_num_queries(2):
        assert len(run_ids(client)) == 1
    for i in range(30):
        services.run_create(job_name=f"job_{i}", tags={"a": str(i), "b": "x"})
    with django_assert_num_queries(2):
        assert len(run_ids(client, "?limit=100")) == 31


@pytest.mark.parametrize(
    "query, status, parameter",
    [
        ("?limit=0", 422, "limit"),
        ("?limit=1001", 422, "limit"),
        ("?limit=many", 422, "limit"),
        ("?status=EXPLODED", 422, "status"),
        ("?created_before=yesterday", 422, "created_before"),
        ("?tag=no-colon", 400, "tag"),
        ("?cursor=no-such-run", 400, "cursor"),
    ],
)
def test_list_runs_bad_input_is_json_naming_the_parameter(client, query, status, parameter):
    response = client.get(f"/api/runs{query}")
    assert response.status_code == status
    detail = response.json()["detail"]
    if status == 422:
        assert any(parameter in error["loc"] for error in detail)
    else:
        assert detail.startswith(parameter)


def test_get_run_and_unknown_run_is_404_json(client):
    run = services.run_create(job_name="etl", tags={"a": "b"})
    body = client.get(f"/api/runs/{run.run_id}").json()
    assert body["run_id"] == run.run_id and body["tags"] == {"a": "b"}
    response = client.get("/api/runs/missing")
    assert response.status_code == 404
    assert response.json() == {"detail": "run 'missing' not found"}


def test_run_events_page_by_cursor_without_overlap(client):
    run = services.run_create(job_name="etl")
    services.event_store(run_id=run.run_id, events=[EventInput(None, message=str(i)) for i in range(10)])
    seen, after = [], ""
    while True:
        body = client.get(f"/api/runs/{run.run_id}/events", {"after": after, "limit": 4}).json()
        seen += [e["message"] for e in body["events"]]
        after = body["cursor"]
        if not body["has_more"]:
            break
    assert seen == [str(i) for i in range(10)]
    idle = client.get(f"/api/runs/{run.run_id}/events", {"after": after}).json()
    assert idle == {"events": [], "cursor": after, "has_more": False}


def test_run_events_carry_type_step_and_payload(client):
    run = services.run_create(job_name="etl")
    services.event_store(
        run_id=run.run_id,
        events=[
            EventInput("STEP_START", step_key="a", level=10),
            EventInput(
                "ASSET_MATERIALIZATION", step_key="a", asset_key="x/y", partition="p", payload={"k": [1]}
            ),
        ],
    )
    events = client.get(f"/api/runs/{run.run_id}/events").json()["events"]
    assert [(e["event_type"], e["step_key"], e["level"]) for e in events] == [
        ("STEP_START", "a", 10),
        ("ASSET_MATERIALIZATION", "a", 20),
    ]
    assert (
        events[1]["asset_key"] == "x/y"
        and events[1]["partition"] == "p"
        and events[1]["payload"] == {"k": [1]}
    )
    assert events[0]["storage_id"] < events[1]["storage_id"]


def test_run_events_of_unknown_run_or_bad_cursor(client):
    assert client.get("/api/runs/missing/events").status_code == 404
    run = services.run_create(job_name="etl")
    response = client.get(f"/api/runs/{run.run_id}/events", {"after": "abc"})
    assert response.status_code == 400 and response.json()["detail"].startswith("after")
    response = client.get(f"/api/runs/{run.run_id}/events", {"limit": 0})
    assert response.status_code == 422 and any("limit" in e["loc"] for e in response.json()["detail"])


def test_delete_run_removes_it_with_its_events(client):
    run = services.run_create(job_name="etl", tags={"a": "b"})
    services.event_store(run_id=run.run_id, events=[EventInput("RUN_START")])
    response = client.delete(f"/api/runs/{run.run_id}")
    assert response.status_code == 204
    assert not Run.objects.filter(run_id=run.run_id).exists()
    assert not EventLogEntry.objects.filter(run_id=run.run_id).exists()
    assert client.delete(f"/api/runs/{run.run_id}").status_code == 404


def test_delete_run_without_permission_is_403(client, login_as):
    login_as("launcher")  # launchers may not delete runs
    run = services.run_create(job_name="etl")
    response = client.delete(f"/api/runs/{run.run_id}")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden" and "delete pipeline run" in response.json()["message"]
    assert Run.objects.filter(run_id=run.run_id).exists()


def test_hostile_strings_come_back_verbatim(client):
    run = services.run_create(job_name="etl", tags={"note": HOSTILE})
    services.event_store(run_id=run.run_id, events=[EventInput(None, message=HOSTILE)])
    listed = client.get("/api/runs", {"tag": f"note:{HOSTILE}"}).json()["results"]
    assert [r["tags"]["note"] for r in listed] == [HOSTILE]
    assert client.get(f"/api/runs/{run.run_id}/events").json()["events"][0]["message"] == HOSTILE


def test_unexpected_exception_is_500_json(client, monkeypatch):
    monkeypatch.setattr(selectors, "run_get", lambda **kwargs: 1 / 0)
    response = client.get("/api/runs/x")
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error: ZeroDivisionError"}


def test_openapi_docs_describe_the_runs_endpoints(client):
    assert client.get("/api/docs").status_code == 200
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {"/api/runs", "/api/runs/{run_id}", "/api/runs/{run_id}/events"} <= set(paths)
    assert "delete" in paths["/api/runs/{run_id}"]
