"""The launchpad: run config checked as you type through /graphql (errors at their paths), op selection and
partitions."""

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


CHECK = """query($pipeline: PipelineSelector!, $config: RunConfigData) {
  isPipelineConfigValid(pipeline: $pipeline, runConfigData: $config, mode: "default") { __typename
    ... on RunConfigValidationInvalid { errors { message path } }
    ... on InvalidSubsetError { message } } }"""


def check(client, config: str, job: str = "etl", **selection) -> dict:
    """What the launchpad asks /graphql as you type (static/ui/launchpad.js): the YAML text as it stands."""
    pipeline = {"repositoryLocationName": "data", "repositoryName": "__repository__", "pipelineName": job,
                **selection}
    response = client.post("/graphql", {"query": CHECK, "variables": {"pipeline": pipeline, "config": config}},
                           content_type="application/json", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return response.json()["data"]["isPipelineConfigValid"]


def test_config_is_checked_as_you_type_with_each_error_at_its_path(data, client):
    result = check(client, "ops:\n  emit:\n    config:\n      n: nope\n")
    assert result["__typename"] == "RunConfigValidationInvalid"
    assert [error["path"] for error in result["errors"]] == [["ops", "emit", "config", "n"]]
    assert check(client, "ops:\n  emit:\n    config:\n      n: 3\n")["__typename"] == "PipelineConfigValidationValid"
    assert "not valid YAML" in check(client, "ops: [\n")["errors"][0]["message"]
    assert check(client, "- 1\n")["errors"][0]["path"] == []  # not a mapping: wrong at the root
    assert Run.objects.count() == 0  # checking creates nothing


def test_op_selection_is_checked_and_launched(data, client):
    result = check(client, "", solidSelection=["nope"])
    assert result["__typename"] == "InvalidSubsetError" and "nope" in result["message"]
    # emit's config is not needed without emit
    assert check(client, "", solidSelection=["double"])["__typename"] == "PipelineConfigValidationValid"
    response = client.post("/locations/data/jobs/etl/", {"run_config": "", "op_selection": "double", "tags": ""})
    run = Run.objects.get()
    assert response.status_code == 302 and run.op_selection == ["double"]


def test_the_page_wires_the_check_to_graphql_and_refuses_bad_input_on_launch(data, client):
    html = client.get("/locations/data/jobs/etl/").content.decode()
    assert 'data-graphql="/graphql"' in html and 'data-job="etl"' in html and 'data-location="data"' in html
    assert 'data-repository="__repository__"' in html and "ui/launchpad.js" in html and 'id="op_selection"' in html
    assert "hx-post" not in html  # no HTML fragment endpoint of its own any more
    response = client.post("/locations/data/jobs/etl/", {"run_config": "ops: {emit: {config: {n: x}}}"})
    assert response.status_code == 400 and "<code>ops.emit.config.n</code>" in response.content.decode()
    response = client.post("/locations/data/jobs/etl/", {"run_config": "- 1\n"})
    assert response.status_code == 400 and "must be a YAML mapping" in response.content.decode()
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
