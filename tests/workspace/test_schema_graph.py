"""A job's op graph over GraphQL with Dagster's types (`solidHandles`, `solidHandle`, `Solid`, the op and graph
definitions with their mappings), read from the stored snapshot: what the UI's graph pages draw."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.runs.test_schema import gql
from tests.workspace.stored import store_location

pytestmark = pytest.mark.django_db

DEFS = '''
import orchestra as dg


@dg.op
def a() -> int:
    return 1


@dg.op
def b(x: int) -> int:
    return x


@dg.graph
def deeper(x: int):
    return b(x)


@dg.graph
def inner(x: int):
    return deeper(b(x))


@dg.op
def c(x: int, y: int) -> int:
    return x + y


@dg.job
def shaped():
    v = a()
    c(inner(v), b(v))


defs = dg.Definitions(jobs=[shaped])
'''

HANDLES = """
query($selector: PipelineSelector!, $parent: String, $handle: String!) {
  pipelineOrError(params: $selector) { __typename
    ... on Pipeline {
      solidHandles(parentHandleID: $parent) { handleID parent { handleID } solid { name
          definition { __typename name ... on CompositeSolidDefinition { solids { name } } }
          inputs { definition { name } dependsOn { solid { name } definition { name } } }
          outputs { definition { name } dependedBy { solid { name } } } } }
      solidHandle(handleID: $handle) { handleID solid { definition { ... on CompositeSolidDefinition {
          inputDefinitions { name } outputDefinitions { name }
          inputMappings { definition { name } mappedInput { solid { name } definition { name } } }
          outputMappings { definition { name } mappedOutput { solid { name } definition { name } } } } } } }
    }
  }
}
"""


@pytest.fixture
def shapes(tmp_path):
    return store_location(tmp_path, name="shapes", source=DEFS)


def ask(client, parent, handle=""):
    selector = {"repositoryLocationName": "shapes", "repositoryName": "__repository__", "pipelineName": "shaped"}
    return gql(client, HANDLES, {"selector": selector, "parent": parent, "handle": handle})["data"]["pipelineOrError"]


def test_top_level_handles_carry_their_definitions_and_dependencies(shapes, client):
    handles = {h["handleID"]: h for h in ask(client, "")["solidHandles"]}
    assert sorted(handles) == ["a", "b", "c", "inner"]
    inner = handles["inner"]["solid"]["definition"]
    assert inner["__typename"] == "CompositeSolidDefinition" and [s["name"] for s in inner["solids"]] == ["b", "deeper"]
    assert handles["a"]["solid"]["definition"]["__typename"] == "SolidDefinition"
    c_inputs = {i["definition"]["name"]: i["dependsOn"] for i in handles["c"]["solid"]["inputs"]}
    assert c_inputs == {"x": [{"solid": {"name": "inner"}, "definition": {"name": "result"}}],
                        "y": [{"solid": {"name": "b"}, "definition": {"name": "result"}}]}
    [a_out] = handles["a"]["solid"]["outputs"]
    assert sorted(d["solid"]["name"] for d in a_out["dependedBy"]) == ["b", "inner"]


def test_a_sub_graph_lists_its_children_and_maps_its_inputs_and_outputs(shapes, client):
    answer = ask(client, "inner", handle="inner")
    children = {h["handleID"]: h for h in answer["solidHandles"]}
    assert sorted(children) == ["inner.b", "inner.deeper"]
    assert children["inner.b"]["parent"] == {"handleID": "inner"}
    definition = answer["solidHandle"]["solid"]["definition"]
    assert [d["name"] for d in definition["inputDefinitions"]] == ["x"]
    assert definition["inputMappings"] == [{"definition": {"name": "x"},
                                            "mappedInput": {"solid": {"name": "b"}, "definition": {"name": "x"}}}]
    assert definition["outputMappings"] == [{"definition": {"name": "result"},
                                             "mappedOutput": {"solid": {"name": "deeper"},
                                                              "definition": {"name": "result"}}}]
    deepest = ask(client, "inner.deeper")["solidHandles"]
    assert [h["handleID"] for h in deepest] == ["inner.deeper.b"]


def test_without_a_parent_every_handle_at_any_depth_is_listed_and_unknown_handles_are_null(shapes, client):
    ids = [h["handleID"] for h in ask(client, None)["solidHandles"]]
    assert ids == sorted(["a", "b", "c", "inner", "inner.b", "inner.deeper", "inner.deeper.b"])
    assert ask(client, "nope", handle="inner.nope")["solidHandle"] is None
    assert ask(client, "nope")["solidHandles"] == []


def test_a_graph_of_any_size_costs_the_same_queries(shapes, client):
    ask(client, "")  # the snapshot is decoded and cached once per process
    with CaptureQueriesContext(connection) as top:
        ask(client, "")
    with CaptureQueriesContext(connection) as everything:
        ask(client, None, handle="inner")
    assert len(everything) == len(top) <= 3


def test_a_reloaded_location_replaces_its_cached_snapshot(tmp_path, client):
    """The per-process snapshot cache behind `pipelineOrError` keeps one snapshot per location: a reload
    (a new snapshot id) serves the new graph, and the old decoded document is let go."""
    from workspace import selectors

    store_location(tmp_path, name="shapes", source=DEFS)
    old_id = selectors.location_get_cached(name="shapes").snapshot_id
    assert old_id in selectors._SNAPSHOTS
    store_location(tmp_path, name="shapes", source=DEFS.replace("c(inner(v), b(v))", "c(a(), b(v))"))
    assert [h["handleID"] for h in ask(client, "")["solidHandles"]] == ["a", "a_2", "b", "c"]
    new_id = selectors.location_get_cached(name="shapes").snapshot_id
    assert new_id != old_id and new_id in selectors._SNAPSHOTS and old_id not in selectors._SNAPSHOTS
