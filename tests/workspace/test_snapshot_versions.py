"""A location stored by an earlier Orchestra (snapshot version 1: whole job graphs, JSON Schemas stored)
reads as the same location stored now (version 2): the same answers from REST, GraphQL, the job, graph
and launchpad pages, run submission checks and re-execution step lists, and no page fails."""

from __future__ import annotations

import re

import pytest

from runs import reexecution, submission
from runs.models import Run
from tests.runs.test_schema import gql
from tests.sdk.test_snapshot_format import version_1_document
from tests.workspace.stored import store_location
from workspace import selectors
from workspace.models import CodeLocation

pytestmark = pytest.mark.django_db

DEFS = '''
import orchestra as dg


@dg.op(config_schema={"n": dg.Field(int, default_value=2), "label": str})
def emit(context):
    return context.op_config["n"]


@dg.op
def double(value):
    return 2 * value


@dg.graph
def twice(value):
    return double(double(value))


@dg.job(description="Emit a number and double it.")
def etl():
    twice(double(emit()))


@dg.asset(group_name="warehouse")
def raw():
    return 1


@dg.asset(group_name="warehouse", description="Cleaned rows.")
def clean(raw):
    return raw


@dg.asset(deps=[clean])
def report():
    return None


defs = dg.Definitions(assets=[raw, clean, report], jobs=[etl, dg.define_asset_job("wh", selection="group:warehouse")])
'''

GRAPHQL = """query($p: PipelineSelector!) { pipelineOrError(params: $p) { __typename
    ... on Pipeline { name graphName isAssetJob solidHandles { handleID } } } }"""


def _without_tokens(html: str) -> str:
    return re.sub(r'("X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[^"]*', r"\1", html)


def _answers(client) -> dict:
    answers: dict = {}
    for job in ("etl", "wh", "__ASSET_JOB"):
        answers[f"rest {job}"] = client.get(f"/api/locations/data/jobs/{job}").json()
        selector = {"repositoryLocationName": "data", "repositoryName": "__repository__", "pipelineName": job}
        answers[f"graphql {job}"] = gql(client, GRAPHQL, {"p": selector})["data"]
        page = client.get(f"/locations/data/jobs/{job}/")
        assert page.status_code == 200, job
        answers[f"page {job}"] = _without_tokens(page.content.decode())
        index = submission.resolve_target(job_name=job, location_name="data", repository_name=None).job
        answers[f"submission {job}"] = (index.node_names, sorted(index.handles), sorted(index.asset_keys),
                                        {n: sorted(v) for n, v in index.upstream.items()})
        run = Run(run_id=f"r-{job}", job_name=job, location_name="data", repository_name="__repository__")
        answers[f"steps {job}"] = reexecution.planned_steps(run)
    sub_graph = client.get("/locations/data/jobs/etl/twice/")
    assert sub_graph.status_code == 200
    answers["sub-graph page"] = _without_tokens(sub_graph.content.decode())
    index = submission.resolve_target(job_name="etl", location_name="data", repository_name=None).job
    answers["valid config"] = submission.validate_run_config(index, {"ops": {"emit": {"config": {"label": "x"}}}})
    with pytest.raises(submission.RunConfigInvalid) as invalid:
        submission.validate_run_config(index, {"ops": {"emit": {"config": {"n": "two"}}}})
    answers["invalid config"] = str(invalid.value)
    return answers


def test_a_version_1_document_reads_as_the_version_2_one(client, tmp_path):
    store_location(tmp_path, source=DEFS)
    stored = CodeLocation.objects.get(name="data")
    new = stored.snapshot
    assert new["version"] == 2 and "node_definitions" in new
    now = _answers(client)
    assert now["rest etl"]["ops"] == ["emit", "double", "twice"]
    assert now["rest etl"]["run_config_schema"]["properties"]["ops"]["properties"]["emit"]["properties"]["config"][
        "required"] == ["label"]
    assert now["steps etl"] == ["emit", "double", "twice.double", "twice.double_2"]
    assert now["submission etl"][1] == ["double", "emit", "twice", "twice.double", "twice.double_2"]
    assert "label" in now["page etl"] and "Cleaned rows." not in now["page etl"]

    old = version_1_document(new)
    assert old["version"] == 1 and old["snapshot_id"] != new["snapshot_id"]
    CodeLocation.objects.filter(name="data").update(snapshot=old, snapshot_id=old["snapshot_id"])
    submission.clear_cache()
    before = _answers(client)
    assert before == now


def test_the_whole_job_is_built_once_per_location_snapshot(tmp_path):
    store_location(tmp_path, source=DEFS)
    first = selectors.job_snapshot(location_name="data", job_name="__ASSET_JOB")
    assert first is selectors.job_snapshot(location_name="data", job_name="__ASSET_JOB")
    assert [node["name"] for node in first["graph"]["nodes"]] == ["raw", "clean", "report"]
    assert first["graph"]["nodes"][1]["inputs"][0]["depends_on"] == [{"node": "raw", "output": "result"}]
    assert first["run_config_schema"]["json_schema"]["type"] == "object"
