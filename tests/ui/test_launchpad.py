"""The launchpad: run config checked as you type (errors at their paths), op selection and partitions."""

from __future__ import annotations

import pytest

from runs.models import Run
from tests.runs.locations import queued
from tests.workspace.stored import store_location

pytestmark = pytest.mark.django_db(transaction=True)

PARTITIONED = '''
import orchestra as dg


@dg.asset(partitions_def=dg.StaticPartitionsDefinition(["north", "south"]))
def regional():
    return 1


@dg.asset(partitions_def=dg.DailyPartitionsDefinition(start_date="2024-01-01"))
def daily():
    return 1


defs = dg.Definitions(assets=[regional, daily], jobs=[
    dg.define_asset_job("regions", selection=[regional]), dg.define_asset_job("days", selection=[daily])])
'''


@pytest.fixture
def data(tmp_path, settings):
    queued(settings)
    return store_location(tmp_path)


def check(client, body: dict) -> str:
    response = client.post("/locations/data/jobs/etl/check", body, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


def test_config_is_checked_as_you_type_with_each_error_at_its_path(data, client):
    html = check(client, {"run_config": "ops:\n  emit:\n    config:\n      n: nope\n"})
    assert "run config is invalid" in html and "<code>ops.emit.config.n</code>" in html
    assert "Run config is valid" in check(client, {"run_config": "ops:\n  emit:\n    config:\n      n: 3\n"})
    assert "not valid YAML" in check(client, {"run_config": "ops: [\n"})
    assert "must be a YAML mapping" in check(client, {"run_config": "- 1\n"})
    assert Run.objects.count() == 0  # checking creates nothing


def test_op_selection_is_checked_and_launched(data, client):
    html = check(client, {"run_config": "", "op_selection": "nope"})
    assert "nope" in html and "Run config is valid" not in html
    html = check(client, {"run_config": "", "op_selection": "double"})
    assert "Run config is valid for ops double" in html  # emit's config is not needed without emit
    response = client.post("/locations/data/jobs/etl/", {"run_config": "", "op_selection": "double", "tags": ""})
    run = Run.objects.get()
    assert response.status_code == 302 and run.op_selection == ["double"]


def test_the_page_wires_the_check_and_refuses_bad_input_on_launch(data, client):
    html = client.get("/locations/data/jobs/etl/").content.decode()
    assert 'hx-post="/locations/data/jobs/etl/check"' in html and 'id="op_selection"' in html
    response = client.post("/locations/data/jobs/etl/", {"run_config": "ops: {emit: {config: {n: x}}}"})
    assert response.status_code == 400 and "<code>ops.emit.config.n</code>" in response.content.decode()
    assert Run.objects.count() == 0


def test_a_partitioned_job_offers_its_partitions_and_tags_the_run(tmp_path, settings, client):
    queued(settings)
    store_location(tmp_path, name="parts", source=PARTITIONED)
    html = client.get("/locations/parts/jobs/regions/").content.decode()
    assert '<select id="partition" name="partition">' in html and "<option>south</option>" in html
    html = client.get("/locations/parts/jobs/days/").content.decode()
    assert '<input id="partition" name="partition" value="" placeholder="%Y-%m-%d">' in html
    client.post("/locations/parts/jobs/regions/", {"run_config": "", "partition": "south"})
    assert Run.objects.get().tags.get(key="dagster/partition").value == "south"


def test_the_job_page_lists_the_schedules_and_sensors_that_launch_it(data, client):
    html = client.get("/locations/data/jobs/plain/").content.decode()
    assert 'href="/locations/data/schedules/hourly/"' in html and "<code>0 * * * *</code>" in html
    assert 'href="/locations/data/sensors/watcher/"' in html
    assert "No schedule or sensor launches this job." in client.get("/locations/data/jobs/etl/").content.decode()
