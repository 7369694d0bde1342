"""The location snapshot's fast paths (#4) give exactly what the general paths give: canonical JSON
through orjson against the standard library's encoder, and asset nodes read from the selection graph's
nodes against the asset graph's lookups by key."""

from __future__ import annotations

import json

import pytest

import orchestra as dg
from orchestra._core.snapshot.assets import asset_node_snapshots
from orchestra._core.snapshot.jobs import _metadata
from orchestra._core.snapshot.plain import (
    canonical_json,
    canonical_json_bytes,
    json_hash,
    snapshot_hash,
    to_plain,
)

# --- canonical JSON -------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [
    {"b": [1, 2.5, None, True, False], "a": {"z": "", "é": "ü \u2028 \U0001f600"}, "": -0.0},
    [1e16, 1e-7, 123456789.123, 5e-324, 2**63 - 1, -(2**63)],
    {"nested": [[{"k": [{}]}]], "text": 'quote " backslash \\ tab \t nul \x00'},
])
def test_canonical_json_is_sorted_compact_utf8_json(value):
    text = canonical_json(value)
    assert json.loads(text) == value
    assert text == json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).replace(
        "1e-07", "1e-7")  # the one spelling the encoders differ on here: shortest exponent
    assert canonical_json_bytes(value) == text.encode("utf-8")
    assert canonical_json(json.loads(text)) == text  # a decoded document encodes to the same text
    assert snapshot_hash(value) == json_hash(text) == json_hash(text.encode("utf-8"))


@pytest.mark.parametrize("value", [{"big": 2**70, "x": "é"}, {"lone surrogate": "\ud800", "x": 1}])
def test_values_orjson_refuses_take_the_standard_encoders_ascii_form(value):
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"))
    assert canonical_json(value) == canonical_json(value) == expected
    assert canonical_json_bytes(value) == expected.encode("ascii")


def test_nesting_deeper_than_orjson_allows_still_encodes():
    value: list = []
    for _ in range(300):
        value = [value]
    assert canonical_json(value) == "[" * 301 + "]" * 301


# --- asset nodes ----------------------------------------------------------------------------------------


daily = dg.DailyPartitionsDefinition(start_date="2024-01-01")


@dg.asset(io_manager_key="other_io", metadata={"n": 1, "url": dg.MetadataValue.url("http://x")},
          description="mine", code_version="v2")
def custom_io() -> int:
    return 1


@dg.asset(partitions_def=daily, backfill_policy=dg.BackfillPolicy.single_run())
def partitioned(custom_io: int) -> int:
    return custom_io


@dg.multi_asset(outs={"m_a": dg.AssetOut(io_manager_key="other_io"), "m_b": dg.AssetOut()}, can_subset=True)
def pair(context):
    yield dg.Output(1, "m_a")
    yield dg.Output(2, "m_b")


@dg.op
def double(x: int) -> int:
    return 2 * x


@dg.graph_asset
def from_graph(custom_io: int) -> int:
    return double(custom_io)


@dg.observable_source_asset
def watched():
    return dg.DataVersion("1")


source = dg.SourceAsset("src", io_manager_key="src_io")
external = dg.AssetSpec("ext", metadata={"dagster/io_manager_key": "ext_io"}, group_name="outside")


def _defs():
    return dg.Definitions(
        assets=[custom_io, partitioned, pair, from_graph, watched, source, external],
        jobs=[dg.define_asset_job("some", selection=["custom_io", "m_a"])],
        resources={"other_io": dg.InMemoryIOManager(), "src_io": dg.InMemoryIOManager(),
                   "ext_io": dg.InMemoryIOManager()},
    )


def test_asset_nodes_read_from_the_selection_graph_are_the_asset_graphs_answers():
    repository = _defs().get_repository_def()
    asset_graph = repository.asset_graph
    nodes = {tuple(snap["key"]): snap for snap in asset_node_snapshots(repository, {})}
    assert set(nodes) == {tuple(key.path) for key in repository.selection_graph.nodes}
    for key in repository.selection_graph.nodes:
        snap = nodes[tuple(key.path)]
        spec = asset_graph.spec(key)
        partitions_def = asset_graph.partitions_def(key)
        assert snap["io_manager_key"] == asset_graph.io_manager_key(key), key
        assert snap["partitions"] == (to_plain(partitions_def.to_snapshot()) if partitions_def else None), key
        assert snap["description"] == spec.description and snap["code_version"] == spec.code_version, key
        assert snap["metadata"] == to_plain(_metadata(spec.metadata)), key
        assert snap["deps"] == sorted(list(p.path) for p in asset_graph.upstream.get(key, ())), key
    # the fast path covers the op assets; the others took the general one and still agree
    assert nodes[("custom_io",)]["io_manager_key"] == nodes[("m_a",)]["io_manager_key"] == "other_io"
    assert nodes[("m_b",)]["io_manager_key"] == "io_manager"
    assert nodes[("src",)]["io_manager_key"] == "src_io" and nodes[("ext",)]["io_manager_key"] == "ext_io"


# --- run-config schemas ---------------------------------------------------------------------------------


def test_a_locations_jobs_share_the_run_config_entries_of_the_definitions_they_share():
    jobs = {job.name: job for job in _defs().resolve_all_job_defs()}
    some, implicit = jobs["some"].run_config_schema.fields, jobs["__ASSET_JOB"].run_config_schema.fields
    assert some["execution"] is implicit["execution"] and some["loggers"] is implicit["loggers"]
    shared = set(some["resources"].config_type.fields) & set(implicit["resources"].config_type.fields)
    assert "other_io" in shared
    for key in shared:  # the same resource definition in both jobs, needed by both or by neither: one entry
        assert jobs["some"].resource_defs[key] is jobs["__ASSET_JOB"].resource_defs[key]
        entries = some["resources"].config_type.fields[key], implicit["resources"].config_type.fields[key]
        if entries[0].default_provided == entries[1].default_provided:  # io_manager: only __ASSET_JOB needs it
            assert entries[0] is entries[1], key
    assert some["resources"].config_type.fields["other_io"] is implicit["resources"].config_type.fields["other_io"]
    # what was shared still validates as it did: defaults filled, unknown entries refused
    processed = dg.validate_run_config(jobs["some"], {"execution": {"config": {"in_process": {}}}})
    assert processed["loggers"] == {} and "other_io" in processed["resources"]
    with pytest.raises(dg.DagsterInvalidConfigError):
        dg.validate_run_config(jobs["some"], {"loggers": {"console": {"config": {"nope": 1}}}})


def test_shared_plain_defaults_are_used_as_they_are_and_the_others_made_plain():
    from orchestra._config.snapshot import config_type_snapshot

    plain = {"rows": 3, "nested": {"x": "y"}, "empty": {}}
    schema = {"plain": dg.Field(dg.Permissive(), default_value=plain),
              "tuples": dg.Field(dg.Permissive(), default_value={"t": (1, 2), "n": {"x": [1]}}),
              "implicit": {"n": dg.Field(int, default_value=3)}}
    snap = config_type_snapshot(schema)
    assert json.loads(json.dumps(snap)) == snap  # plain JSON all through
    defaults = snap["field"]["default_value"]
    assert defaults == {"plain": plain, "tuples": {"t": [1, 2], "n": {"x": [1]}}, "implicit": {"n": 3}}


# --- jobs sharing nodes -----------------------------------------------------------------------------------


@dg.asset
def first() -> int:
    return 1


@dg.asset
def second(first: int) -> int:
    return first + 1


@dg.asset(deps=[second])
def third() -> None:
    return None


def test_a_node_in_several_jobs_has_its_dependencies_in_each():
    """Asset jobs share their nodes with `__ASSET_JOB` (the same op); a node's snap is shared only where
    its dependencies are the same: `third` waits for `second` only in the jobs that run `second`."""
    from orchestra._core.snapshot.jobs import job_snapshot
    from orchestra._core.snapshot.location import (
        snapshot_and_json_from_definitions,
        snapshot_from_definitions,
    )
    from orchestra._core.snapshot.read import full_job

    defs = dg.Definitions(assets=[first, second, third], jobs=[
        dg.define_asset_job("all_three", selection=["first", "second", "third"]),
        dg.define_asset_job("last_two", selection=["second", "third"]),
        dg.define_asset_job("only_third", selection=["third"]),
    ])
    snapshot, text = snapshot_and_json_from_definitions(defs, "x")
    assert snapshot_from_definitions(defs, "x") == snapshot == json.loads(text)  # with or without the text
    graphs = {job["name"]: {n["name"]: n for n in job["graph"]["nodes"]} for job in snapshot["jobs"]}
    assert graphs["__ASSET_JOB"]["second"]["depends_on"] == {"first": [{"node": "first", "output": "result"}]}
    assert "depends_on" not in graphs["last_two"]["second"]
    assert graphs["last_two"]["third"] == graphs["all_three"]["third"] == graphs["__ASSET_JOB"]["third"]
    assert graphs["only_third"]["third"] == {"name": "third"}
    assert graphs["__ASSET_JOB"]["third"]["depends_on"] == {"second": [{"node": "second", "output": "result"}]}
    for job in defs.resolve_all_job_defs():  # each as a snapshot of that job alone describes it
        alone = json.loads(json.dumps(job_snapshot(job)))
        in_location = full_job(snapshot, next(j for j in snapshot["jobs"] if j["name"] == job.name))
        assert {**in_location, "snapshot_id": None} == {**alone, "snapshot_id": None}, job.name
