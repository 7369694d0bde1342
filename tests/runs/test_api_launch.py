"""REST launch, terminate and re-execute: validation against stored snapshots, errors as JSON, permissions."""

from __future__ import annotations

import dataclasses
import json

import pytest

from runs import services
from runs.models import Run, RunStatus
from runs.services import EventInput
from tests.workspace.stored import store_location

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(settings):
    """Runs are queued (the QueuedRunCoordinator), so launching them starts no process in these tests."""
    from core.instance_config import RunQueueConfig

    config = settings.INSTANCE.config.model_copy(update={"run_queue": RunQueueConfig()})
    settings.INSTANCE = dataclasses.replace(settings.INSTANCE, config=config)


@pytest.fixture
def location(tmp_path):
    return store_location(tmp_path)


def post(client, path: str, body: dict | None = None, **headers):
    return client.post(path, json.dumps(body) if body is not None else "", content_type="application/json",
                       headers=headers)


def launch_body(**overrides) -> dict:
    return {"job_name": "etl", "location_name": "data", "run_config": {"ops": {"emit": {"config": {"n": 3}}}},
            **overrides}


def test_launch_answers_201_with_the_queued_run(client, location, queued):
    response = post(client, "/api/runs", launch_body(tags={"owner": "ana"}, op_selection=["emit"]))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "QUEUED" and body["job_name"] == "etl" and body["op_selection"] == ["emit"]
    assert body["tags"]["owner"] == "ana" and body["location_name"] == "data"
    assert Run.objects.get(run_id=body["run_id"]).status == RunStatus.QUEUED


def test_the_idempotency_key_header_answers_the_first_run(client, location, queued):
    first = post(client, "/api/runs", launch_body(), **{"Idempotency-Key": "abc"}).json()
    second = post(client, "/api/runs", launch_body(), **{"Idempotency-Key": "abc"}).json()
    assert first["run_id"] == second["run_id"] and Run.objects.count() == 1
    assert first["tags"]["orchestra/idempotency_key"] == "abc"


def test_invalid_run_config_is_422_with_every_error_and_its_path(client, location, queued):
    response = post(client, "/api/runs", launch_body(run_config={"ops": {"emit": {"config": {"n": "x"}}}, "z": 1}))
    assert response.status_code == 422
    errors = {e["reason"]: e for e in response.json()["errors"]}
    assert errors["RUNTIME_TYPE_MISMATCH"]["path"] == ["ops", "emit", "config", "n"]
    assert errors["FIELD_NOT_DEFINED"]["path"] == []
    assert not Run.objects.exists()


@pytest.mark.parametrize(("body", "status"), [
    (launch_body(job_name="nope"), 404),
    (launch_body(location_name="elsewhere"), 404),
    (launch_body(op_selection=["no_such_op"]), 400),
    ({"location_name": "data"}, 422),  # no job_name: request validation
])
def test_unknown_jobs_and_selections_are_json_errors(client, location, queued, body, status):
    response = post(client, "/api/runs", body)
    assert response.status_code == status, response.content
    assert response.json()["detail"]
    assert not Run.objects.exists()


def test_terminate_cancels_a_queued_run_then_409_and_404(client, location, queued):
    run_id = post(client, "/api/runs", launch_body()).json()["run_id"]
    response = post(client, f"/api/runs/{run_id}/terminate")
    assert response.status_code == 200 and response.json()["status"] == "CANCELED"
    assert post(client, f"/api/runs/{run_id}/terminate").status_code == 409
    assert post(client, "/api/runs/missing/terminate").status_code == 404


def test_terminate_with_force_cancels_a_started_run_at_once(client):
    run = services.run_create(job_name="etl")
    services.event_store(run_id=run.run_id, events=[EventInput("RUN_STARTING"), EventInput("RUN_START")])
    response = post(client, f"/api/runs/{run.run_id}/terminate", {"force": True})
    assert response.status_code == 200 and response.json()["status"] == "CANCELED"


def test_reexecute_a_canceled_run_from_failure(client, location, queued):
    parent = post(client, "/api/runs", launch_body()).json()["run_id"]
    post(client, f"/api/runs/{parent}/terminate")
    response = post(client, f"/api/runs/{parent}/reexecute", {"strategy": "ALL_STEPS", "tags": {"why": "retry"}})
    assert response.status_code == 201, response.content
    child = response.json()
    assert child["parent_run_id"] == parent and child["root_run_id"] == parent and child["tags"]["why"] == "retry"
    assert post(client, "/api/runs/missing/reexecute").status_code == 404
    assert post(client, f"/api/runs/{parent}/reexecute", {"strategy": "SOMETIMES"}).status_code == 422


def test_each_action_without_permission_is_403_and_changes_nothing(client, location, queued, login_as):
    login_as("launcher")
    run_id = post(client, "/api/runs", launch_body()).json()["run_id"]
    login_as("viewer")
    assert post(client, "/api/runs", launch_body(tags={"x": "y"})).status_code == 403
    assert post(client, f"/api/runs/{run_id}/terminate").status_code == 403
    assert post(client, f"/api/runs/{run_id}/reexecute").status_code == 403
    assert Run.objects.count() == 1 and Run.objects.get(run_id=run_id).status == RunStatus.QUEUED


def test_the_openapi_document_describes_the_launch_endpoints(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {"get", "post"} <= set(paths["/api/runs"])
    assert "422" in paths["/api/runs"]["post"]["responses"]
    assert "post" in paths["/api/runs/{run_id}/terminate"] and "post" in paths["/api/runs/{run_id}/reexecute"]
