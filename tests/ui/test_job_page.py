"""The job page: sub-graphs opened at their own URL (Dagster's explorer path), the config schema from the
stored snapshot as a collapsible tree, and a constant number of queries whatever the number of runs."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from runs.models import Run, RunStatus
from tests.runs.locations import queued
from tests.workspace.stored import store_location
from workspace.config_types import config_field_count, config_schema_tree

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE = '<script>window.__xss=1</script>"><img src=x onerror=alert(1)>'

DEFS = f'''
from typing import Optional

import orchestra as dg


class Greeting(dg.Config):
    """Who to greet. {HOSTILE}"""

    name: str
    times: int = 1
    shout: Optional[bool] = None
    tags: list[str] = []


@dg.op
def a(config: Greeting) -> int:
    return 1


@dg.op
def b(x: int) -> int:
    return x


@dg.op
def c(x: int, y: int) -> int:
    return x + y


@dg.graph
def deeper(x: int):
    return b(x)


@dg.graph
def inner(x: int):
    return deeper(b(x))


@dg.job
def shaped():
    v = a()
    c(inner(v), b(v))


defs = dg.Definitions(jobs=[shaped])
'''


@pytest.fixture
def shapes(tmp_path, settings):
    queued(settings)
    return store_location(tmp_path, name="shapes", source=DEFS)


def _figure(html: str) -> str:
    """The graph's <figure>: graph.js draws what its data attributes ask /graphql for."""
    return re.search(r'<figure class="graph"[^>]*>', html).group(0)


def _drawn(client, path: str = "") -> dict[str, str]:
    """The nodes graph.js draws at `path` (a dotted handle): what solidHandles answers, by kind."""
    from tests.workspace.test_schema_graph import HANDLES

    selector = {"repositoryLocationName": "shapes", "repositoryName": "__repository__", "pipelineName": "shaped"}
    response = client.post("/graphql", {"query": HANDLES, "variables": {"selector": selector, "parent": path,
                                                                        "handle": path}},
                           content_type="application/json", HTTP_ACCEPT="application/json")
    handles = response.json()["data"]["pipelineOrError"]["solidHandles"]
    return {h["solid"]["name"]: h["solid"]["definition"]["__typename"] for h in handles}


def test_a_graph_node_links_to_its_sub_graph_page(shapes, client):
    figure = _figure(client.get("/locations/shapes/jobs/shaped/").content.decode())
    # graph.js links a graph node to data-href-base + its name: /locations/shapes/jobs/shaped/inner/
    assert 'data-href-base="/locations/shapes/jobs/shaped/"' in figure and 'data-path=""' in figure
    kinds = _drawn(client)
    assert kinds["inner"] == "CompositeSolidDefinition" and kinds["a"] == "SolidDefinition"
    assert client.get("/locations/shapes/jobs/shaped/inner/").status_code == 200


def test_a_sub_graph_page_shows_its_nodes_inputs_outputs_and_the_way_back(shapes, client):
    response = client.get("/locations/shapes/jobs/shaped/inner/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-path="inner"' in _figure(html)
    assert _drawn(client, "inner") == {"b": "SolidDefinition", "deeper": "CompositeSolidDefinition"}
    assert 'href="/locations/shapes/jobs/shaped/">shaped</a>' in html  # the trail back to the job
    deeper = client.get("/locations/shapes/jobs/shaped/inner/deeper/").content.decode()
    assert 'data-path="inner.deeper"' in _figure(deeper) and set(_drawn(client, "inner.deeper")) == {"b"}
    assert 'href="/locations/shapes/jobs/shaped/inner/">inner</a>' in deeper


def test_a_path_that_names_no_graph_or_op_is_not_found(shapes, client):
    for path in ("nothing/", "inner/c/", "inner/b/x/", "a/b/"):
        assert client.get(f"/locations/shapes/jobs/shaped/{path}").status_code == 404, path
    assert client.get("/locations/shapes/jobs/missing/inner/").status_code == 404


def test_a_path_ending_with_an_op_shows_the_graph_around_it_with_the_op_picked_out(shapes, client):
    html = client.get("/locations/shapes/jobs/shaped/inner/b/").content.decode()
    assert 'data-focus="b"' in html and 'data-path="inner"' in _figure(html)
    top = client.get("/locations/shapes/jobs/shaped/a/").content.decode()
    assert 'data-focus="a"' in top and 'data-path=""' in _figure(top)


def test_the_config_schema_tree_has_fields_types_required_and_defaults(shapes):
    job = next(j for j in shapes.snapshot["jobs"] if j["name"] == "shaped")
    tree = config_schema_tree(job["run_config_schema"])
    top = {field["name"]: field for field in tree}
    assert {"ops", "resources", "execution", "loggers"} <= set(top)
    ops = {field["name"]: field for field in top["ops"]["fields"]}
    assert ops["a"]["required"] and ops["a"]["open"]  # a path to a required field starts open
    assert not ops["b"]["required"] and not ops["b"]["open"]
    config = ops["a"]["fields"][0]
    assert config["name"] == "config" and config["description"].startswith("Who to greet.")
    fields = {field["name"]: field for field in config["fields"]}
    assert (fields["name"]["type"], fields["name"]["required"], fields["name"]["default"]) == (
        "String",
        True,
        None,
    )
    assert (fields["times"]["type"], fields["times"]["required"], fields["times"]["default"]) == (
        "Int | None",
        False,
        "1",
    )
    assert fields["shout"]["type"] == "Bool | None" and fields["shout"]["default"] == "null"
    assert fields["tags"]["type"].startswith("[") and fields["tags"]["default"] == "[]"
    inner_ops = {field["name"] for field in ops["inner"]["fields"][0]["fields"]}
    assert inner_ops == {"b", "deeper"}  # graphs nest their ops' config
    assert config_field_count(tree) > 20
    assert config_schema_tree(None) == [] and config_schema_tree({}) == []


def test_the_job_page_shows_the_config_schema_collapsible_and_escaped(shapes, client):
    html = client.get("/locations/shapes/jobs/shaped/").content.decode()
    section = html[html.index('id="config-schema"') : html.index('<h2 id="launchpad"')]
    assert '<details open><summary><code class="cfg-name">ops</code>' in section
    assert re.search(
        r'<code class="cfg-name">name</code>: <code class="cfg-type">String</code> '
        r'<span class="cfg-required">required</span>',
        section,
    )
    assert re.search(
        r'<code class="cfg-name">times</code>: <code class="cfg-type">Int \| None</code> '
        r'<span class="cfg-optional">optional</span> <span class="cfg-default">default <code>1</code>',
        section,
    )
    assert "<script>window.__xss" not in html and "&lt;script&gt;window.__xss=1&lt;/script&gt;" in section
    assert "<details><summary>" in section  # optional parts start closed


def _runs(count: int, job: str = "shaped") -> None:
    now = timezone.now()
    Run.objects.bulk_create(
        [
            Run(
                run_id=str(uuid.uuid4()),
                job_name=job,
                location_name="shapes",
                status=RunStatus.SUCCESS,
                created_at=now - timedelta(minutes=i),
                started_at=now - timedelta(minutes=i),
                ended_at=now - timedelta(minutes=i) + timedelta(seconds=5),
            )
            for i in range(count)
        ]
    )


def test_the_job_and_sub_graph_pages_make_a_constant_number_of_queries(shapes, client):
    counts: dict[str, list[int]] = {
        "/locations/shapes/jobs/shaped/": [],
        "/locations/shapes/jobs/shaped/inner/": [],
    }
    for batch in (1, 30):
        _runs(batch)
        for url, seen in counts.items():
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            seen.append(len(queries))
    for url, seen in counts.items():
        assert seen[0] == seen[1], url
