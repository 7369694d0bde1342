"""Snapshot version 2 (#4): job graphs by reference to the location's definition tables, run-config
schemas without their JSON Schema copy. Whatever a reader gets through `full_job` must be what version 1
stored: each job's graph as `_whole_graph` (version 1's writer, kept here as the reference) builds it
from the job itself, and the JSON Schema `to_json_schema` gives for its run-config schema."""

from __future__ import annotations

import enum
import json
import runpy
import sys
from pathlib import Path

import pytest

import orchestra as dg
from orchestra._config.snapshot import to_json_schema
from orchestra._core.snapshot import SNAPSHOT_VERSION
from orchestra._core.snapshot.location import snapshot_and_json_from_definitions
from orchestra._core.snapshot.plain import canonical_json, snapshot_hash, to_plain
from orchestra._core.snapshot.read import full_config_schema, full_job

ROOT = Path(__file__).resolve().parents[2]


def _type(dagster_type):
    return {"key": to_plain(dagster_type.key), "name": to_plain(dagster_type.display_name),
            "description": to_plain(getattr(dagster_type, "description", None)),
            "is_nothing": bool(getattr(dagster_type, "is_nothing", False))}


def _whole_graph(graph_def):
    """Version 1's graph: every node whole, nested graphs too."""
    from orchestra._core.definitions.graph import GraphDefinition

    mapped = {}
    for m in graph_def.input_mappings:
        mapped.setdefault((m.mapped_node_name, m.mapped_node_input_name), []).append(m.graph_input_name)
    nodes = []
    for node in graph_def.nodes:
        definition = node.definition
        is_graph = isinstance(definition, GraphDefinition)
        deps = graph_def.dependency_map.get(node.name, {})
        inputs = []
        for d in definition.input_defs:
            dep = deps.get(d.name)
            depends = []
            if dep is not None:
                collect = type(dep).__name__ == "DynamicCollectingDependencyDefinition"
                depends = [{"node": x.node, "output": x.output, **({"collect": True} if collect else {})}
                           for x in dep.get_node_dependencies()]
            inputs.append({"name": d.name, "type": _type(d.dagster_type), "description": to_plain(d.description),
                           "has_default_value": to_plain(d.has_default_value), "depends_on": depends,
                           "from_graph_inputs": mapped.get((node.name, d.name), [])})
        snap = {
            "name": node.name, "definition_name": definition.name, "kind": "graph" if is_graph else "op",
            "description": to_plain(definition.description), "tags": to_plain(dict(node.tags)),
            "required_resource_keys": sorted(getattr(definition, "required_resource_keys", ()) or ()),
            "inputs": inputs,
            "outputs": [{"name": d.name, "type": _type(d.dagster_type), "description": to_plain(d.description),
                         "is_required": d.is_required, "is_dynamic": d.is_dynamic,
                         "io_manager_key": to_plain(d.io_manager_key)} for d in definition.output_defs],
        }
        if is_graph:
            snap["graph"] = _whole_graph(definition)
        else:
            snap["pool"] = to_plain(getattr(definition, "pool", None))
            snap["code_version"] = to_plain(getattr(definition, "version", None))
        nodes.append(snap)
    return {"name": graph_def.name, "nodes": nodes,
            "inputs": [{"name": d.name, "type": _type(d.dagster_type)} for d in graph_def.input_defs],
            "outputs": [{"name": m.graph_output_name, "node": m.mapped_node_name, "output": m.mapped_node_output_name}
                        for m in graph_def.output_mappings]}


def _assert_readers_get_version_1(defs, snapshot):
    jobs = {job.name: job for job in defs.resolve_all_job_defs()}
    assert sorted(jobs) == [job["name"] for job in snapshot["jobs"]]
    for stored in snapshot["jobs"]:
        job = jobs[stored["name"]]
        whole = full_job(snapshot, stored)
        assert json.loads(json.dumps(whole["graph"])) == json.loads(json.dumps(_whole_graph(job.graph))), job.name
        schema = whole["run_config_schema"]
        assert schema["json_schema"] == json.loads(json.dumps(to_json_schema(job.run_config_schema))), job.name
        assert schema["config_types"] == stored["run_config_schema"]["config_types"]
        assert {k: v for k, v in whole.items() if k not in ("graph", "run_config_schema")} == {
            k: v for k, v in stored.items() if k not in ("graph", "run_config_schema")}
    resources = defs.get_repository_def().get_top_level_resources()
    for stored in snapshot["resources"]:
        derived = full_config_schema(stored["config_schema"])["json_schema"]
        assert derived == json.loads(json.dumps(to_json_schema(resources[stored["key"]].config_field)))


@pytest.fixture(scope="module")
def bench_location(tmp_path_factory):
    """The 2,000-asset module of `bench/definitions_load.py`: 20 asset jobs over groups, 20 schedules."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import definitions_load
    finally:
        sys.path.remove(str(ROOT / "bench"))
    path = tmp_path_factory.mktemp("bench") / "bench_defs.py"
    path.write_text(definitions_load.module_source("orchestra"))
    defs = runpy.run_path(str(path))["defs"]
    return defs, *snapshot_and_json_from_definitions(defs, "bench")


def test_bench_location_asset_jobs_read_back_as_version_1(bench_location):
    defs, snapshot, text = bench_location
    assert snapshot["version"] == SNAPSHOT_VERSION == 2
    _assert_readers_get_version_1(defs, snapshot)
    # each asset's op is described once, not once per job: 2,000 definitions, one type
    assert len(snapshot["node_definitions"]) == 2000 and list(snapshot["dagster_types"]) == ["Nothing"]
    implicit = next(job for job in snapshot["jobs"] if job["name"] == "__ASSET_JOB")
    assert len(implicit["graph"]["nodes"]) == 2000 and "inputs" not in implicit["graph"]["nodes"][0]
    assert all("json_schema" not in job["run_config_schema"] for job in snapshot["jobs"])
    assert len(text) < 4_600_000  # version 1: 6.76 MB


def test_bench_location_document_is_deterministic_json(bench_location):
    _, snapshot, text = bench_location
    assert text == canonical_json(snapshot)
    assert json.loads(text) == snapshot


class Color(enum.Enum):
    RED = 1
    BLUE = 2


class Warehouse(dg.ConfigurableResource):
    url: str = "sqlite://"
    pool_size: int = 4


@dg.op(config_schema={
    "color": dg.Field(dg.Enum.from_python_enum(Color), default_value="RED", description="a colour"),
    "where": dg.Selector({"path": str, "table": dg.Field(str, description="a table")}),
    "limits": dg.Field(dg.Map(str, int), is_required=False),
    "maybe": dg.Field(dg.Noneable(int), default_value=None),
    "extra": dg.Field(dg.Permissive({"a": int}), is_required=False),
    "secret": dg.Field(dg.StringSource, is_required=False),
    "many": [float],
})
def configured(context) -> int:
    return 1


@dg.op(out={"a": dg.Out(int), "b": dg.Out(str, description="the b", is_required=False)})
def two(context, x: int):
    yield dg.Output(x, "a")


@dg.op(out=dg.DynamicOut(int))
def fan():
    yield dg.DynamicOutput(1, mapping_key="one")


@dg.op
def add(x: int, y: int = 3) -> int:
    return x + y


@dg.op
def total(values: list) -> int:
    return sum(values)


@dg.graph
def inner(x):
    return add(add(x))


@dg.job(tags={"team": "ops"})
def op_job():
    a, _ = two(configured())
    inner(a)
    add.alias("renamed").tag({"t": "1"})(inner(a))
    total(fan().map(add).collect())


@dg.op(name="add")
def other_add(x: str) -> str:  # same name as `add`, a different definition
    return x


@dg.job
def other_job():
    other_add()


@dg.asset(group_name="g")
def up() -> int:
    return 1


@dg.multi_asset(outs={"m1": dg.AssetOut(), "m2": dg.AssetOut(io_manager_key="other_io")}, can_subset=True)
def multi(context, up: int):
    for name in context.selected_output_names:
        yield dg.Output(up, name)


@dg.asset(deps=["m1"], group_name="g")
def down(context) -> None:
    return None


@dg.asset_check(asset=up, blocking=True)
def up_ok():
    return dg.AssetCheckResult(passed=True)


@dg.graph_asset(group_name="g")
def from_graph(up):  # downstream of a blocking check: its inner nodes get the check's ordering input
    return add(add(up))


def _varied_defs():
    return dg.Definitions(
        assets=[up, multi, down, from_graph], asset_checks=[up_ok], jobs=[
            op_job, other_job, dg.define_asset_job("some", selection=["up", "m1", "down"]),
            dg.define_asset_job("graphs", selection=["from_graph"]),
        ],
        resources={"warehouse": Warehouse(), "other_io": dg.FilesystemIOManager()},
    )


def test_varied_jobs_read_back_as_version_1():
    defs = _varied_defs()
    snapshot, text = snapshot_and_json_from_definitions(defs, "varied")
    assert text == canonical_json(snapshot)
    _assert_readers_get_version_1(defs, snapshot)
    # three definitions named "add" (the op, the op given `up_ok`'s ordering input inside `from_graph`, and
    # another op): each keeps its own entry
    adds = {ref: d for ref, d in snapshot["node_definitions"].items() if d["name"] == "add"}
    assert sorted(adds) == ["add", "add~2", "add~3"]
    graph = next(job for job in snapshot["jobs"] if job["name"] == "op_job")["graph"]
    renamed = next(node for node in graph["nodes"] if node["name"] == "renamed")
    assert [i["name"] for i in adds[renamed["definition"]]["inputs"]] == ["x", "y"] and renamed["tags"] == {"t": "1"}
    assert sum("__blocking_check_up_up_ok" in [i["name"] for i in d["inputs"]] for d in adds.values()) == 1


def test_a_job_id_changes_with_the_definitions_its_graph_refers_to():
    @dg.op(description="first")
    def step():
        return 1

    @dg.job
    def job_a():
        step()

    @dg.op(name="step", description="second")
    def step_again():
        return 1

    @dg.job(name="job_a")
    def job_b():
        step_again()

    first, _ = snapshot_and_json_from_definitions(dg.Definitions(jobs=[job_a]), "x")
    second, _ = snapshot_and_json_from_definitions(dg.Definitions(jobs=[job_b]), "x")
    assert first["jobs"][0]["graph"] == second["jobs"][0]["graph"]  # the same references
    assert first["jobs"][0]["snapshot_id"] != second["jobs"][0]["snapshot_id"]


def test_version_1_jobs_are_read_as_they_are():
    defs = _varied_defs()
    snapshot, _ = snapshot_and_json_from_definitions(defs, "varied")
    old = version_1_document(snapshot)
    for job in old["jobs"]:
        assert full_job(old, job) is job
        assert full_job(old, job) == full_job(snapshot, next(j for j in snapshot["jobs"] if j["name"] == job["name"]))


def version_1_document(snapshot):
    """`snapshot` as version 1 stored it: whole graphs and JSON Schemas, no definition tables."""
    old = {k: v for k, v in snapshot.items() if k not in ("node_definitions", "dagster_types")}
    old["version"] = 1
    old["jobs"] = [full_job(snapshot, job) for job in snapshot["jobs"]]
    old["resources"] = [{**r, "config_schema": full_config_schema(r["config_schema"])} for r in snapshot["resources"]]
    old = json.loads(json.dumps(old))
    old["snapshot_id"] = snapshot_hash({k: v for k, v in old.items() if k != "snapshot_id"})
    return old
