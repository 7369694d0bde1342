"""REST code locations and jobs, read from stored snapshots; reload; errors as JSON."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.workspace.stored import store_broken_location, store_location
from workspace.models import CodeLocation, LocationStatus

pytestmark = pytest.mark.django_db


def test_list_and_get_locations_with_their_state(client, tmp_path):
    store_location(tmp_path)
    store_broken_location()
    listed = client.get("/api/locations").json()
    assert [(loc["name"], loc["status"]) for loc in listed] == [("broken", "ERROR"), ("data", "LOADED")]
    assert listed[0]["load_error"]["cls_name"] == "SyntaxError"
    one = client.get("/api/locations/data")
    assert one.status_code == 200 and one.json()["origin"]["python_file"].endswith("data_defs.py")
    assert client.get("/api/locations/nope").status_code == 404


def test_list_jobs_of_loaded_locations_in_one_query(client, tmp_path):
    store_location(tmp_path, name="data")
    store_location(tmp_path, name="more")
    store_broken_location()
    with CaptureQueriesContext(connection) as queries:
        jobs = client.get("/api/jobs").json()
    assert len(queries) == 1
    assert {(j["location_name"], j["name"]) for j in jobs} == {
        (loc, job) for loc in ("data", "more") for job in ("__ASSET_JOB", "etl", "plain")}
    etl = next(j for j in jobs if j["name"] == "etl")
    assert etl == {"name": "etl", "location_name": "data", "repository_name": "__repository__",
                   "description": "Emit a number and double it.", "is_asset_job": False, "tags": {"team": "data"}}
    assert {j["location_name"] for j in client.get("/api/jobs?location=more").json()} == {"more"}


def test_get_job_with_its_ops_and_run_config_json_schema(client, tmp_path):
    store_location(tmp_path)
    body = client.get("/api/locations/data/jobs/etl").json()
    assert body["ops"] == ["emit", "double"]
    emit = body["run_config_schema"]["properties"]["ops"]["properties"]["emit"]
    assert emit["properties"]["config"]["required"] == ["n"]
    assets = client.get("/api/locations/data/jobs/__ASSET_JOB").json()
    assert assets["is_asset_job"] and assets["asset_keys"] == ["clean", "raw"]
    assert client.get("/api/locations/data/jobs/nope").status_code == 404
    assert client.get("/api/locations/nope/jobs/etl").status_code == 404


def test_reload_records_the_request_and_answers_the_location_after_the_wait(client, tmp_path):
    store_location(tmp_path)
    response = client.post("/api/locations/data/reload?timeout=0.2")
    assert response.status_code == 200 and response.json()["status"] == "LOADING"  # nobody serves it here
    assert CodeLocation.objects.get(name="data").reload_requested_at is not None
    assert client.post("/api/locations/nope/reload?timeout=0").status_code == 404


def test_reload_without_permission_is_403(client, tmp_path, login_as):
    store_location(tmp_path)
    login_as("launcher")  # launchers may not reload code locations
    assert client.post("/api/locations/data/reload?timeout=0").status_code == 403
    location = CodeLocation.objects.get(name="data")
    assert location.status == LocationStatus.LOADED and location.reload_requested_at is None
