"""Op graphs and asset lineage: graph data from stored snapshots, the lineage page by group, and
"materialize selected" launching one run of the selected assets."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from runs.models import Run
from tests.runs.locations import queued
from tests.workspace.stored import store_location
from workspace import graphs, selectors

pytestmark = pytest.mark.django_db(transaction=True)

GRAPH_DEFS = '''
import orchestra as dg


@dg.op
def a() -> int:
    return 1


@dg.op
def b(x: int) -> int:
    return x


@dg.op
def c(x: int, y: int) -> int:
    return x + y


@dg.graph
def inner(x: int):
    return b(x)


@dg.job
def shaped():
    v = a()
    c(inner(v), b(v))


@dg.asset(group_name="raw")
def source():
    return 1


@dg.asset(group_name="raw")
def cleaned(source):
    return source


@dg.asset(group_name="marts")
def report(cleaned):
    return cleaned


@dg.asset(group_name="marts", deps=["elsewhere"])
def summary(report):
    return report


defs = dg.Definitions(jobs=[shaped], assets=[source, cleaned, report, summary])
'''


@pytest.fixture
def shaped(tmp_path, settings):
    queued(settings)  # submitted runs stay QUEUED: the test looks at what was submitted
    return store_location(tmp_path, name="shapes", source=GRAPH_DEFS)


LINEAGE = """query($group: String) { assetLineage(group: $group) { mode assetCount groups
  nodes { id label kind detail href location selectable } edges { fromId toId } } }"""


def _lineage(client, group: str | None = None) -> dict:
    """The lineage as the page's script reads it from /graphql (static/ui/graph.js)."""
    response = client.post("/graphql", {"query": LINEAGE, "variables": {"group": group}},
                           content_type="application/json", HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content
    graph = response.json()["data"]["assetLineage"]
    graph["edges"] = [[edge["fromId"], edge["toId"]] for edge in graph["edges"]]
    return graph


def test_a_sub_graph_path_names_graph_nodes_only(shaped):
    """What a sub-graph page checks its path with (the browser draws the graph from `solidHandles`)."""
    job = selectors.full_job(shaped.snapshot, next(j for j in shaped.snapshot["jobs"] if j["name"] == "shaped"))
    assert sorted(node["name"] for node in graphs.subgraph_at(job)["nodes"]) == ["a", "b", "c", "inner"]
    assert [node["name"] for node in graphs.subgraph_at(job, ["inner"])["nodes"]] == ["b"]
    for path in (["a"], ["nothing"], ["inner", "b"]):
        with pytest.raises(KeyError):
            graphs.subgraph_at(job, path)


def test_the_job_page_points_its_graph_at_graphql_and_loads_the_layout_scripts(shaped, client):
    html = client.get("/locations/shapes/jobs/shaped/").content.decode()
    assert 'type="application/json"' not in html  # no graph embedded: graph.js reads solidHandles
    figure = re.search(r'<figure class="graph"[^>]*>', html).group(0)
    for attribute in ('data-source="job"', 'data-graphql="/graphql"', 'data-location="shapes"', 'data-job="shaped"',
                      'data-repository="__repository__"', 'data-path=""',
                      'data-href-base="/locations/shapes/jobs/shaped/"'):
        assert attribute in figure, attribute
    assert "/static/vendor/dagre-1.1.8/dagre.min.js" in html and "/static/ui/graph.js" in html
    assert "/static/ui/gql.js" in html
    assert client.get("/static/vendor/dagre-1.1.8/dagre.min.js").status_code == 200


def test_lineage_shows_every_asset_with_edges_and_an_undefined_dependency(shaped, client):
    response = client.get("/asset-groups/")
    assert response.status_code == 200
    figure = re.search(r'<figure class="graph"[^>]*>', response.content.decode()).group(0)
    assert 'data-source="lineage"' in figure and 'data-group=""' in figure
    graph = _lineage(client)
    assert graph["mode"] == "assets"
    nodes = {node["id"]: node for node in graph["nodes"]}
    assert set(nodes) == {"source", "cleaned", "report", "summary", "elsewhere"}
    assert nodes["elsewhere"]["kind"] == "missing" and nodes["elsewhere"]["href"] is None
    assert nodes["report"]["href"] == "/assets/report/" and nodes["report"]["selectable"]
    assert sorted(map(tuple, graph["edges"])) == [
        ("cleaned", "report"), ("elsewhere", "summary"), ("report", "summary"), ("source", "cleaned")]


def test_one_group_shows_its_assets_and_their_neighbours_in_other_groups(shaped, client):
    page = client.get("/asset-groups/?group=marts@shapes").content.decode()
    assert 'data-group="marts@shapes"' in page
    graph = _lineage(client, "marts@shapes")
    kinds = {node["id"]: node["kind"] for node in graph["nodes"]}
    assert kinds == {"report": "asset", "summary": "asset", "cleaned": "neighbour", "elsewhere": "missing"}
    assert client.get("/asset-groups/?group=nope@shapes").status_code == 404


def test_a_big_lineage_opens_on_the_graph_of_groups(tmp_path, settings, client, monkeypatch):
    queued(settings)
    def asset(i: int) -> str:
        deps = f", deps=['a{i - 1}']" if i else ""
        return f"@dg.asset(group_name='g{i % 4}'{deps})\ndef a{i}():\n    return {i}\n\n\n"

    source = ("import orchestra as dg\n\n" + "".join(asset(i) for i in range(40))
              + "defs = dg.Definitions(assets=[" + ", ".join(f"a{i}" for i in range(40)) + "])\n")
    store_location(tmp_path, name="many", source=source)
    monkeypatch.setattr(graphs, "LINEAGE_ASSETS_AT_ONCE", 10)
    assert "40 assets in 4 groups" in client.get("/asset-groups/").content.decode()
    graph = _lineage(client)
    assert graph["mode"] == "groups" and graph["assetCount"] == 40
    assert [node["id"] for node in graph["nodes"]] == ["g0@many", "g1@many", "g2@many", "g3@many"]
    assert all(node["detail"] == "10 assets · many" for node in graph["nodes"])
    # a0 -> a1 -> ... crosses from each group to the next, and from g3 back to g0
    assert sorted(map(tuple, graph["edges"])) == [
        ("g0@many", "g1@many"), ("g1@many", "g2@many"), ("g2@many", "g3@many"), ("g3@many", "g0@many")]


def test_the_lineage_page_makes_a_constant_number_of_queries(tmp_path, settings, client):
    queued(settings)
    counts = []
    for n in (5, 60):
        source = "import orchestra as dg\n\n" + "".join(
            f"@dg.asset\ndef a{i}():\n    return {i}\n\n\n" for i in range(n)
        ) + "defs = dg.Definitions(assets=[" + ", ".join(f"a{i}" for i in range(n)) + "])\n"
        store_location(tmp_path, name=f"n{n}", source=source)
        client.get("/asset-groups/")
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/asset-groups/").status_code == 200
            assert len(_lineage(client)["nodes"]) >= n  # and the graph the page's script reads
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_materialize_selected_launches_one_run_of_the_selected_assets(shaped, client):
    response = client.post("/asset-groups/materialize", {"key": ["cleaned", "report"], "group": "marts@shapes"})
    run = Run.objects.get()
    assert response.status_code == 302 and response.url == f"/runs/{run.run_id}/"
    assert sorted(run.asset_selection) == [["cleaned"], ["report"]]  # stored as key paths


def test_materialize_selected_refuses_unknown_keys_and_an_empty_selection(shaped, client):
    response = client.post("/asset-groups/materialize", {"key": ["nope"]}, follow=True)
    assert "No loaded code location defines asset &#x27;nope&#x27;." in response.content.decode()
    response = client.post("/asset-groups/materialize", {}, follow=True)
    assert "Select at least one asset to materialize." in response.content.decode()
    assert Run.objects.count() == 0


def test_a_viewer_sees_no_materialize_button_and_is_refused(shaped, client, login_as):
    login_as("viewer")
    html = client.get("/asset-groups/").content.decode()
    assert "Materialize selected" not in html and "Selected:" in html
    assert client.post("/asset-groups/materialize", {"key": ["cleaned"]}).status_code == 403
    assert Run.objects.count() == 0
