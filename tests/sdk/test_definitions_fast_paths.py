"""The shortcuts that make loading a large code location cheap give the same answers as the general paths.

Each test compares a fast path with the slower one it stands for (or with Dagster's documented
behaviour), on ordinary and on awkward inputs; none of them measures time (that is bench/).
"""

from __future__ import annotations

import copy
import inspect
import json
import math
import pickle
import typing

import pytest

import orchestra as dg
from orchestra._config.snapshot import config_type_snapshot
from orchestra._core.assets.keys import AssetKey
from orchestra._core.metadata import metadata_to_json
from orchestra._core.signatures import function_kind
from orchestra._core.snapshot.plain import plain_metadata_json

# --- AssetKey: tuple hashing, equality and ordering -------------------------------------------------


def test_asset_key_equality_hash_and_order_follow_the_path():
    a, same, other = dg.AssetKey(["x", "y"]), dg.AssetKey(("x", "y")), dg.AssetKey(["x", "z"])
    assert a == same and hash(a) == hash(same) and a != other
    assert {a: 1}[same] == 1 and len({a, same, other}) == 2
    assert sorted([other, dg.AssetKey("b"), a]) == [dg.AssetKey("b"), a, other]
    assert sorted([dg.AssetKey(["a", "b"]), dg.AssetKey(["a"])]) == [
        dg.AssetKey(["a"]),
        dg.AssetKey(["a", "b"]),
    ]
    assert dg.AssetKey("x") != "x" and dg.AssetKey("x") != ["x"]
    assert a.path == ["x", "y"] and isinstance(a.path, list) and a.to_user_string() == "x/y"
    assert dg.AssetKey(a) == a and dg.AssetKey(a).path == ["x", "y"]


def test_asset_key_survives_pickle_copy_and_json_as_before():
    key = dg.AssetKey(["warehouse", "orders"])
    for clone in (pickle.loads(pickle.dumps(key)), copy.copy(key), copy.deepcopy(key)):
        assert clone == key and hash(clone) == hash(key) and clone.path == key.path
    assert json.dumps(key) == '[["warehouse", "orders"]]'
    assert repr(key) == "AssetKey(['warehouse', 'orders'])"


def test_asset_key_made_by_the_tuple_helpers_keeps_its_path():
    key = dg.AssetKey(["warehouse", "orders"])
    assert dg.AssetKey._make((("a", "b"),)).path == ["a", "b"]
    replaced = key._replace(parts=("sales",))
    assert replaced == dg.AssetKey("sales") and replaced.path == ["sales"] and replaced.to_user_string() == "sales"


def test_asset_key_rejects_non_string_parts():
    with pytest.raises(dg.DagsterInvalidDefinitionError):
        dg.AssetKey(["a", 1])


# --- metadata without the metadata types ---------------------------------------------------------


@pytest.mark.parametrize(
    "metadata",
    [
        {"team": "data", "rows": 3, "ok": True, "ratio": 0.5, "big": 10**30},
        {"": "", "unicode \u2028 \U0001f600": "\u00e9"},
        {},
    ],
)
def test_plain_metadata_json_is_metadata_to_json(metadata):
    assert plain_metadata_json(metadata) == metadata_to_json(metadata)


@pytest.mark.parametrize(
    "metadata",
    [
        {"nan": math.nan},
        {"inf": -math.inf},  # tagged floats
        {"nul": "a\x00b"},
        {"surrogate": "\ud800"},  # tagged strings
        {"label\x00": "x"},  # tagged label
        {"url": dg.MetadataValue.url("http://x")},  # a metadata value
        {"list": [1, 2]},
        {"none": None},
        {1: "int label"},  # normalized by the general path
    ],
)
def test_plain_metadata_json_leaves_everything_else_to_the_general_path(metadata):
    assert plain_metadata_json(metadata) is None


def test_snapshot_metadata_is_the_same_either_way():
    from orchestra._core.snapshot.jobs import _metadata

    values = {"team": "data", "rows": 3, "nan": math.nan, "url": dg.MetadataValue.url("http://x")}
    assert _metadata(values) == metadata_to_json(values)


# --- config type snapshots walk each type once -----------------------------------------------------


def _walked(schema):
    """What `config_type_snapshot` returned when it walked `type_iterator()` (the reference)."""
    from orchestra._config.snapshot import _as_field, _field_snap, _type_snap

    field = _as_field(schema)
    types = {}
    for config_type in field.config_type.type_iterator():
        types.setdefault(config_type.key, _type_snap(config_type))
    return {"root": field.config_type.key, "field": _field_snap("", field), "types": types}


@pytest.mark.parametrize(
    "schema",
    [
        {"a": int, "b": dg.Field(str, default_value="x"), "c": [{"d": dg.Noneable(int)}]},
        dg.Selector({"one": {"x": int}, "two": dg.Permissive({"y": dg.Map(str, float)})}),
        {"same": {"k": int}, "again": {"k": int}, "list": [[bool]], "union": dg.IntSource},
        dg.Shape({"e": dg.Enum("E", [dg.EnumValue("A"), dg.EnumValue("B")])}),
    ],
)
def test_config_type_snapshot_matches_a_full_walk(schema):
    snap = config_type_snapshot(schema)
    reference = _walked(schema)
    assert snap == reference
    assert list(snap["types"]) == list(reference["types"])  # inner types first, in the same order


# --- function kinds from code flags ----------------------------------------------------------------


def _plain():
    return 1


def _gen():
    yield 1


async def _coro():
    return 1


async def _agen():
    yield 1


class _Callable:
    def __call__(self):
        return 1


@pytest.mark.parametrize("fn", [_plain, _gen, _coro, _agen, _Callable(), print, lambda: None])
def test_function_kind_is_what_inspect_says(fn):
    assert function_kind(fn) == (
        inspect.isgeneratorfunction(fn),
        inspect.iscoroutinefunction(fn),
        inspect.isasyncgenfunction(fn),
    )


# --- asset definitions: kept views stay right for derived definitions ---------------------------------


def test_views_of_a_definition_are_not_shared_with_its_subsets_or_copies():
    @dg.multi_asset(outs={"a": dg.AssetOut(), "b": dg.AssetOut(io_manager_key="other")}, can_subset=True)
    def both():
        yield dg.Output(1, "a")
        yield dg.Output(2, "b")

    assert both.keys == {AssetKey("a"), AssetKey("b")}
    assert both.get_io_manager_key_for_asset_key(AssetKey("b")) == "other"
    assert both.required_resource_keys == {"io_manager", "other"}
    subset = both.subset_for({AssetKey("a")}, None)
    assert subset.keys == {AssetKey("a")} and both.keys == {AssetKey("a"), AssetKey("b")}
    assert subset.keys_by_output_name == {"a": AssetKey("a")}
    renamed = both.with_attributes(asset_key_replacements={AssetKey("a"): AssetKey("renamed")})
    assert renamed.keys == {AssetKey("renamed"), AssetKey("b")}
    keys = both.keys
    keys.add(AssetKey("mine"))  # a caller's copy: the definition is unchanged
    assert both.keys == {AssetKey("a"), AssetKey("b")}


def test_jobs_sharing_definitions_keep_their_own_asset_layers():
    @dg.asset
    def up() -> int:
        return 1

    @dg.asset
    def down(up: int) -> int:
        return up + 1

    defs = dg.Definitions(assets=[up, down], jobs=[dg.define_asset_job("just_down", selection=["down"])])
    whole = defs.resolve_implicit_global_asset_job_def()
    only_down = defs.resolve_job_def("just_down")
    assert whole._asset_layer.input_asset_key("down", "up") == AssetKey("up")
    assert only_down._asset_layer.input_asset_key("down", "up") == AssetKey("up")
    assert only_down._asset_layer.selected_asset_keys == {AssetKey("down")}
    assert whole._asset_layer.selected_asset_keys == {AssetKey("up"), AssetKey("down")}
    result = only_down.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        resources={"io_manager": dg.mem_io_manager},
        raise_on_error=False,
    )
    assert not result.success  # `up` was never stored: loading it fails, as in Dagster
    result = whole.execute_in_process(resources={"io_manager": dg.mem_io_manager})
    assert result.success and result.output_for_node("down") == 2


# --- cron strings checked without croniter ---------------------------------------------------------


def test_plain_cron_strings_are_valid_exactly_when_croniter_says_so():
    import random

    from orchestra._core.automation import cron

    def croniter_says(text):
        fields = cron._fields(text)
        return (
            fields is not None
            and len(fields) == 5
            and not (fields[3] == [2] and len(fields[2]) == 1 and fields[2][0] in (30, 31))
        )

    rng = random.Random(4)

    def item(low, high):
        first = rng.randint(low, high)
        last = rng.randint(first, high)
        return rng.choice(
            [
                "*",
                f"*/{rng.randint(1, high)}",
                str(first),
                f"{first}-{last}",
                f"{first}-{last}/{rng.randint(1, high)}",
            ]
        )

    checked = 0
    for _ in range(3000):
        text = " ".join(
            ",".join(item(low, high) for _ in range(rng.choice([1, 1, 2, 3])))
            for low, high in cron._PLAIN_BOUNDS
        )
        if cron._plainly_valid(text):
            checked += 1
            assert croniter_says(text), text
    assert checked > 1000
    # left to croniter: whatever is not plainly valid, valid or not
    for text in [
        "0 0 30 2 *",
        "0 0 29 2 *",
        "60 * * * *",
        "* * * * 7",
        "5-3 * * * *",
        "*/0 * * * *",
        "05 * * * *",
        "0  * * * *",
        "@daily",
        "0 0 15W * *",
        "0 0 * * MON",
        "0 0 L * *",
    ]:
        assert not cron._plainly_valid(text)
    assert not cron.is_valid_cron_string("0 0 30 2 *") and cron.is_valid_cron_string("0 0 29 2 *")
    assert not cron.is_valid_cron_string("0 0 15W * *") and cron.is_valid_cron_string("@daily")


def test_defining_plain_schedules_does_not_import_croniter():
    import subprocess
    import sys

    code = (
        "import sys, orchestra as dg\n"
        "@dg.op\ndef noop(): pass\n"
        "@dg.job\ndef j(): noop()\n"
        "s = dg.ScheduleDefinition(name='s', job=j, cron_schedule=['0 * * * *', '*/15 9-17 * * 1-5'])\n"
        "dg.Definitions(jobs=[j], schedules=[s]).get_repository_def()\n"
        "assert 'croniter' not in sys.modules, 'croniter imported'\n"
        "from orchestra._core.automation.cron import next_tick\n"
        "assert next_tick(s.cron_schedule, None, 0).minute == 0\n"
        "assert 'croniter' in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# --- decorating an asset: signatures, hints and deps without the general machinery ----------------


# This module's own annotations are strings (`from __future__ import annotations`); user modules
# mostly have evaluated ones, which is what the shortcuts are for: these are compiled without it.
_CASES_SOURCE = '''
import functools, inspect, typing

def no_params() -> None:
    """Docstring."""

def no_params_no_annotation():
    pass

def no_params_returns_class() -> int:
    return 1

def no_params_returns_text() -> "list[int]":
    return [1]

def with_params(context, upstream: int, *, flag: bool = False) -> str:
    return ""

def star_args(*args, **kwargs) -> None:
    pass

@functools.wraps(with_params)
def wrapped() -> None:
    pass

def with_signature_attribute() -> None:
    pass

with_signature_attribute.__signature__ = inspect.Signature(
    [inspect.Parameter("x", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
)

def generic_hints(values: list[int], maybe: int | None, text: "str") -> dict[str, int]:
    return {}

def annotated_hints(value: typing.Annotated[int, "meta"], other: "typing.Annotated[str, 'x']") -> None:
    pass

def returns_none_type() -> type(None):
    pass
'''
_CASES: dict[str, typing.Any] = {}
exec(compile(_CASES_SOURCE, "<fast path cases>", "exec"), _CASES)  # noqa: S102 - fixed test source


def _future_annotations(context, upstream: int) -> None:
    pass


_SIGNATURE_CASES = [
    *(_CASES[name] for name in (
        "no_params", "no_params_no_annotation", "no_params_returns_class", "no_params_returns_text", "with_params",
        "star_args", "wrapped", "with_signature_attribute", "generic_hints", "annotated_hints", "returns_none_type",
    )),
    lambda: None,
    _future_annotations,
]


@pytest.mark.parametrize("fn", _SIGNATURE_CASES)
def test_signature_of_is_what_inspect_says(fn):
    from orchestra._core.signatures import signature_of

    assert signature_of(fn) == inspect.signature(fn)
    assert signature_of(fn).return_annotation == inspect.signature(fn).return_annotation
    assert list(signature_of(fn).parameters) == list(inspect.signature(fn).parameters)


@pytest.mark.parametrize("fn", _SIGNATURE_CASES)
@pytest.mark.parametrize("include_extras", [False, True])
def test_type_hints_of_is_what_get_type_hints_says(fn, include_extras):
    import typing

    from orchestra._core.signatures import type_hints_of

    expected = typing.get_type_hints(fn, include_extras=include_extras)
    hints = type_hints_of(fn, include_extras=include_extras)
    assert hints == expected
    hints["mine"] = int  # a fresh dict each call: the caller's changes stay the caller's
    assert type_hints_of(fn, include_extras=include_extras) == expected


def test_group_names_checked_once_are_still_checked_for_every_other_name():
    from orchestra._core.assets.specs import check_group_name

    assert check_group_name("marketing/foo") == "marketing/foo"
    assert check_group_name("marketing/foo") == "marketing/foo"
    assert check_group_name(None) is None
    for bad in ("", "marketing/", "has space", "marketing//foo"):
        with pytest.raises(dg.DagsterInvalidDefinitionError):
            check_group_name(bad)
    with pytest.raises(dg.DagsterInvalidDefinitionError):
        dg.AssetSpec("x", group_name="no-dashes")


def test_asset_spec_deps_are_one_per_input_with_its_partition_mapping():
    mapping = dg.LastPartitionMapping()
    given_with_metadata = dg.AssetDep("meta", metadata={"why": "lineage"})
    given_with_mapping = dg.AssetDep("mapped", partition_mapping=mapping)

    @dg.asset(
        deps=["plain", dg.AssetKey(["pre", "fixed"]), given_with_metadata, given_with_mapping],
        ins={"loaded": dg.AssetIn(partition_mapping=mapping)},
    )
    def target(loaded):
        return loaded

    spec = target.get_asset_spec()
    expected = [
        dg.AssetDep("loaded", partition_mapping=mapping), dg.AssetDep("plain"), dg.AssetDep(["pre", "fixed"]),
        dg.AssetDep("meta"), dg.AssetDep("mapped", partition_mapping=mapping),
    ]
    assert spec.deps == expected
    assert [d.metadata for d in spec.deps] == [{}] * 5  # as before: a dep's metadata is not the spec's
    assert all(d is not given_with_metadata and d is not given_with_mapping for d in spec.deps)
    assert target.keys_by_input_name == {
        "loaded": AssetKey("loaded"), "plain": AssetKey("plain"), "pre_fixed": AssetKey(["pre", "fixed"]),
        "meta": AssetKey("meta"), "mapped": AssetKey("mapped"),
    }
    assert target.op.input_dict["plain"].dagster_type.is_nothing
    assert not target.op.input_dict["loaded"].dagster_type.is_nothing


# --- decorating: the collector is held off and what was built goes to the oldest generation --------


def test_decorating_moves_what_it_built_to_the_oldest_generation():
    import gc

    assert gc.isenabled()

    @dg.asset(deps=["up"])
    def built() -> None:
        pass

    @dg.multi_asset(outs={"left": dg.AssetOut(), "right": dg.AssetOut()})
    def built_together():
        return 1, 2

    assert gc.isenabled()
    oldest = gc.get_objects(generation=2)
    assert any(obj is built for obj in oldest) and any(obj is built_together for obj in oldest)

    gc.disable()
    try:
        @dg.asset
        def while_disabled() -> None:
            pass

        assert not gc.isenabled()  # the caller's choice is kept
    finally:
        gc.enable()


def test_decorating_keeps_what_someone_froze_frozen():
    import gc

    from orchestra._core import gc_pause

    gc.freeze()
    try:
        frozen = gc.get_freeze_count()

        @dg.asset
        def first() -> None:
            pass

        @dg.asset
        def second() -> None:
            pass

        assert gc.get_freeze_count() == frozen and gc.isenabled()
    finally:
        gc.unfreeze()
    with gc_pause.collection_paused():  # a batch-sized pause looks again: nothing is frozen now
        pass
    assert not gc_pause._frozen_elsewhere


# --- asset jobs: what a job reads of a definition is kept once per definition -----------------------


def _job_shape(job):
    graph = job.graph
    from orchestra._core.plan import node_inputs

    return (
        [(n.name, n.definition.name, sorted(n.hook_defs, key=lambda h: h.name)) for n in graph.nodes],
        {node: dict(deps) for node, deps in graph.dependency_map.items()},
        [(str(handle), [(i.name, i.source.kind, i.source.step_key, i.source.output_name) for i in inputs])
         for handle, inputs in node_inputs(job)],
        sorted(job._asset_layer.selected_asset_keys),
        {k: v for k, v in job._asset_layer.inputs.items()},
    )


def test_asset_jobs_built_from_kept_views_are_built_as_from_fresh_definitions():
    @dg.multi_asset(outs={"a": dg.AssetOut(), "b": dg.AssetOut(io_manager_key="other")}, can_subset=True)
    def both(context):
        for key in context.selected_output_names:
            yield dg.Output(1, key)

    @dg.asset(deps=["a"])
    def after_a() -> None:
        pass

    @dg.asset
    def reads_b(b: int) -> int:
        return b

    @dg.asset_check(asset=after_a, blocking=True)
    def after_a_ok() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    @dg.asset(deps=[after_a])
    def last() -> None:
        pass

    def build():
        return dg.Definitions(
            assets=[both, after_a, reads_b, last], asset_checks=[after_a_ok],
            jobs=[dg.define_asset_job("only_a", selection=["a", "after_a", "last"]),
                  dg.define_asset_job("reads_b", selection=["reads_b"])],
            resources={"other": dg.mem_io_manager},
        )

    first = {job.name: _job_shape(job) for job in build().resolve_all_job_defs()}  # builds the views
    again = {job.name: _job_shape(job) for job in build().resolve_all_job_defs()}  # reuses them
    assert first == again
    only_a = first["only_a"]
    from orchestra._core.plan import FROM_ASSET, FROM_STEP

    assert [name for name, *_ in only_a[0]] == ["both", "after_a", "last", "after_a_after_a_ok"]
    assert "__blocking_check_after_a_after_a_ok" in only_a[1]["last"]
    assert first["reads_b"][2] == [("reads_b", [("b", FROM_ASSET, None, None)])]  # `b` is not in the job
    assert ("reads_b", [("b", FROM_STEP, "both", "b")]) in first["__ASSET_JOB"][2]


def _reference_toposort(upstream):
    # the general Kahn's algorithm, with no assumption about which keys `upstream` lists
    known = upstream.keys()
    in_degree = {k: len(set(v) & known) for k, v in upstream.items()}
    dependents = {}
    for key, deps in upstream.items():
        for dep in set(deps) & known:
            dependents.setdefault(dep, []).append(key)
    level, ordered = sorted(k for k, n in in_degree.items() if n == 0), []
    while level:
        ordered.extend(level)
        following = []
        for key in level:
            for child in dependents.get(key, ()):
                in_degree[child] -= 1
                if in_degree[child] == 0:
                    following.append(child)
        level = sorted(following)
    return ordered


def test_asset_graph_order_is_the_general_topological_sort():
    from orchestra._core.assets.graph import build_asset_graph

    @dg.multi_asset(outs={"m1": dg.AssetOut(), "m2": dg.AssetOut()}, deps=["external"])
    def pair():
        return 1, 2

    @dg.asset(deps=["m2", "z_first"])
    def after_pair() -> None:
        pass

    @dg.asset
    def z_first() -> None:
        pass

    @dg.asset(deps=[after_pair, "m1", "z_first"])
    def last() -> None:
        pass

    graph = build_asset_graph([last, pair, after_pair, z_first, dg.AssetSpec("lonely")])
    assert graph.toposorted_asset_keys() == _reference_toposort(graph.upstream)
    assert graph.toposorted_asset_keys()[-1] == AssetKey("last")
    assert {k: graph.downstream[k] for k in graph.upstream} == {
        k: {d for d, ups in graph.upstream.items() if k in ups} for k in graph.upstream
    }


def test_an_asset_cycle_is_still_refused():
    from orchestra._core.assets.graph import build_asset_graph

    @dg.asset(deps=["b"])
    def a() -> None:
        pass

    @dg.asset(deps=["a"])
    def b() -> None:
        pass

    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Cycle in asset graph"):
        build_asset_graph([a, b]).toposorted_asset_keys()


def test_graphs_listed_out_of_dependency_order_are_still_checked_for_cycles():
    @dg.op
    def first() -> int:
        return 1

    @dg.op
    def second(x: int) -> int:
        return x

    out_of_order = dg.GraphDefinition(
        name="g", node_defs=[second, first], dependencies={"second": {"x": dg.DependencyDefinition("first")}},
    )
    assert out_of_order.to_job().execute_in_process().success
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Circular dependencies"):
        dg.GraphDefinition(
            name="loop", node_defs=[first, second], dependencies={"second": {"x": dg.DependencyDefinition("second")}},
        )


# --- plan wiring: one source per wired output, dynamic steps noted while flattening -----------------


def _general_sources(job):
    """Every op input's source as `_Builder.input_source` answers it (the general path), by step key."""
    from orchestra._core.definitions.dependency import NodeHandle
    from orchestra._core.definitions.graph import GraphDefinition
    from orchestra._core.plan import _Builder

    builder = _Builder(job)
    found = {}

    def walk(graph_def, prefix, resolver):
        for node in graph_def.nodes:
            handle = NodeHandle(node.name, prefix)
            if isinstance(node.definition, GraphDefinition):
                def inner(name, _n=node, _g=graph_def, _p=prefix, _r=resolver):
                    return builder.input_source(_g, _p, _n, _n.definition.input_def_named(name), _r, unconnected_ok=True)

                walk(node.definition, handle, inner)
                continue
            found[str(handle)] = [
                (d.name, *_source(builder.input_source(graph_def, prefix, node, d, resolver)))
                for d in node.definition.input_defs
            ]

    walk(job.graph, None, None)
    return found


def _source(source):
    inner = [_source(s) for s in source.sources] if source.sources is not None else None
    return source.kind, source.step_key, source.output_name, source.name, inner


def _wired_jobs():
    @dg.op(out=dg.DynamicOut())
    def fan_out():
        for i in range(2):
            yield dg.DynamicOutput(i, mapping_key=str(i))

    @dg.op
    def double(x: int) -> int:
        return 2 * x

    @dg.op
    def total(values: list) -> int:
        return sum(values)

    @dg.op
    def one() -> int:
        return 1

    @dg.op
    def add(a: int, b: int) -> int:
        return a + b

    @dg.graph
    def inner(x: int) -> int:
        return add(x, one())

    @dg.job
    def dynamic():
        total(fan_out().map(double).collect())

    @dg.job
    def nested():
        value = one()
        add(inner(value), inner.alias("again")(value))

    @dg.asset
    def up() -> int:
        return 1

    @dg.asset
    def left(up: int) -> int:
        return up

    @dg.asset
    def right(up: int) -> int:
        return up

    @dg.asset(deps=[left, right])
    def end() -> None:
        pass

    defs = dg.Definitions(assets=[up, left, right, end], jobs=[dynamic, nested,
                                                                dg.define_asset_job("part", selection=["left", "end"])])
    return defs.resolve_all_job_defs()


def test_plan_wiring_gives_every_input_the_source_the_general_path_gives():
    from orchestra._core.plan import _wiring

    for job in _wired_jobs():
        builder, raw_by_key, _roots = _wiring(job)
        wired = {key: [(i.name, *_source(i.source)) for i in inputs] for key, (_h, _n, inputs, _t, _r) in raw_by_key.items()}
        assert wired == _general_sources(job), job.name
        assert list(raw_by_key) == [str(item[0]) for item in builder.raw]


def test_plan_wiring_notes_dynamic_outputs_and_collecting_inputs_as_a_full_walk_would():
    from orchestra._core.plan import FROM_COLLECT, _wiring

    for job in _wired_jobs():
        builder, _raw, roots = _wiring(job)
        walked = any(o.is_dynamic for _, node, *_ in builder.raw for o in node.definition.output_defs) or any(
            i.source is not None and i.source.kind == FROM_COLLECT for _, _, inputs, *_ in builder.raw for i in inputs)
        assert builder.dynamic == walked, job.name
        assert builder.dynamic == (job.name == "dynamic")
    dynamic = next(job for job in _wired_jobs() if job.name == "dynamic")
    assert dynamic.execute_in_process().output_for_node("total") == 2


# --- the assets package: names loaded on first use -------------------------------------------------


def test_the_assets_package_exports_the_names_of_its_modules():
    import importlib

    import orchestra._core.assets as assets

    for name in assets.__all__:
        module = importlib.import_module(f"orchestra._core.assets.{assets._EXPORTS[name]}")
        if name == assets._EXPORTS[name]:  # `materialize`: once imported, the package attribute is the submodule
            continue
        assert getattr(assets, name) is getattr(module, name), name
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        assets.nope  # noqa: B018


def test_defining_assets_imports_no_job_building_or_event_types():
    import subprocess
    import sys

    code = (
        "import sys, orchestra as dg\n"
        "@dg.asset\n"
        "def a() -> None: ...\n"
        "defs = dg.Definitions(assets=[a], jobs=[dg.define_asset_job('j', selection=[a])])\n"
        "print(sorted(m for m in ('orchestra._core.assets.job', 'orchestra._core.assets.layer',\n"
        "                         'orchestra._core.events', 'orchestra._core.plan') if m in sys.modules))\n"
        "defs.resolve_all_job_defs()\n"
        "print('orchestra._core.events' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "[]"
    assert out[1] == "False"  # a job is built without the event types; a run imports them


# --- the asset layer: entries read from the definition's own maps ----------------------------------


def test_asset_layer_entries_are_what_the_public_properties_say():
    from orchestra._core.assets.layer import OutputAsset, _op_items

    @dg.multi_asset(outs={"a": dg.AssetOut(code_version="1"), "b": dg.AssetOut(), "c": dg.AssetOut()},
                    can_subset=True, check_specs=[dg.AssetCheckSpec("ok", asset="a", blocking=True)],
                    partitions_def=dg.StaticPartitionsDefinition(["x"]))
    def three(context, up):
        yield dg.Output(1, "a")

    @dg.asset
    def up() -> int:
        return 1

    @dg.asset
    def plain(up: int) -> None:
        pass

    for definition in (three, three.subset_for({dg.AssetKey("b"), dg.AssetKey("c")}, set()), plain, up):
        general_outputs = [
            (name, OutputAsset(key, None, definition.partitions_def, definition.get_asset_spec(key).code_version,
                               definition.is_observable, False))
            for name, key in definition.keys_by_output_name.items()
        ]
        general_checks = [
            (name, OutputAsset(check.asset_key, check.key, None, None, False, check.blocking))
            for name, check in definition.check_specs_by_output_name.items()
        ]
        assert _op_items(definition, "node") == (
            [(("node", name), info) for name, info in [*general_outputs, *general_checks]],
            [(info.asset_key, ("node", name)) for name, info in general_outputs],
            [(info.check_key, ("node", name)) for name, info in general_checks],
            [(("node", name), key) for name, key in definition.node_keys_by_input_name.items()],
        )


# --- similar dependency keys: the (group, name) index is built only when a dependency names no asset ---


def test_a_one_part_dependency_still_finds_the_only_asset_of_its_group_with_that_name():
    from orchestra._core.assets.graph import build_asset_graph

    @dg.asset(key_prefix="warehouse", group_name="g")
    def table() -> int:
        return 1

    @dg.asset(key_prefix="lake", group_name="other")
    def other_table() -> int:
        return 1

    @dg.asset(group_name="g")
    def report(table: int) -> int:
        return table

    @dg.asset(group_name="g", deps=["other_table", "nowhere"])
    def loose() -> None:
        pass

    graph = build_asset_graph([table, other_table, report, loose])
    assert graph.upstream[dg.AssetKey("report")] == {dg.AssetKey(["warehouse", "table"])}
    # another group's asset and an unknown name are left as written
    assert graph.upstream[dg.AssetKey("loose")] == {dg.AssetKey("other_table"), dg.AssetKey("nowhere")}
    # every key known: nothing replaced, the same definitions
    assert build_asset_graph([table, other_table]).assets_defs == [table, other_table]


def _graph_answer(graph):
    return (
        {k: sorted(v) for k, v in graph.upstream.items()},
        [(sorted(d.keys), d.keys_by_input_name, [sorted(x.asset_key for x in s.deps) for s in d.specs])
         for d in graph.assets_defs],
        sorted(graph.source_asset_by_key),
    )


def test_the_asset_graph_is_built_as_with_every_similar_dependency_resolved_first():
    from orchestra._core.assets.graph import (
        AssetGraph,
        build_asset_graph,
        coerce_assets,
        resolve_similar_deps,
    )

    @dg.asset(key_prefix="warehouse", group_name="g")
    def table() -> int:
        return 1

    @dg.asset(group_name="g")
    def report(table: int) -> int:
        return table

    @dg.asset(group_name="g", deps=["upstream_elsewhere"])
    def loose() -> None:
        pass

    @dg.asset(deps=[table])
    def plain() -> None:
        pass

    source = dg.SourceAsset("raw", group_name="g")
    # an external spec shadowed by the executable asset of the same key, with a similar dep of its own
    shadowed = dg.AssetSpec("plain", group_name="g", deps=["table"])
    cases = [[table, plain], [table, report], [table, loose, source], [shadowed, table, plain], [table, plain, shadowed],
             [source, dg.AssetSpec("needs_raw", deps=["raw"]), table]]
    for assets in cases:
        defs, sources = coerce_assets(assets)
        general = AssetGraph(resolve_similar_deps(defs, sources), sources)
        assert _graph_answer(build_asset_graph(assets)) == _graph_answer(general), assets


# --- selection graph: an AssetsDefinition's nodes made directly --------------------------------------


def test_selection_nodes_of_an_assets_definition_are_the_general_ones():
    import copy

    from orchestra._core.assets.definition import AssetsDefinition
    from orchestra._core.selection.graph import AssetNodeInfo, _nodes_of

    class Other(AssetsDefinition):  # another type name: `_nodes_of` takes its general path
        pass

    @dg.asset(group_name="g", kinds={"python", "s3"}, tags={"dagster/kind/snowflake": "", "tier": "gold"},
              owners=["team:a", "me@x.com"], deps=["up", dg.AssetKey(["lake", "raw"])])
    def one() -> None:
        pass

    @dg.multi_asset(specs=[dg.AssetSpec("m1", deps=["one"]), dg.AssetSpec("m2", group_name="h")])
    def together():
        pass

    @dg.multi_asset(specs=[dg.AssetSpec("s1"), dg.AssetSpec("s2", deps=["s1"])], can_subset=True)
    def apart(context):
        pass

    @dg.asset
    def plain() -> None:
        pass

    external = dg.Definitions(assets=[dg.AssetSpec("ext", deps=["one"], owners=["team:b"])]).resolve_asset_graph()
    external_def = external.assets_def_by_key[dg.AssetKey("ext")]
    definitions = [one, together, apart, apart.subset_for({dg.AssetKey("s2")}, set()), plain, external_def]

    def fields(node):
        return tuple((slot, getattr(node, slot)) for slot in AssetNodeInfo.__slots__ if slot != "assets_def")

    for definition in definitions:
        assert type(definition) is AssetsDefinition
        general = copy.copy(definition)
        general.__class__ = Other
        fast, slow = _nodes_of(definition), _nodes_of(general)
        assert [fields(n) for n in fast] == [fields(n) for n in slow]
        assert all(n.assets_def is definition for n in fast)
    assert _nodes_of(together)[0].execution_set == {dg.AssetKey("m1"), dg.AssetKey("m2")}
    assert _nodes_of(apart)[0].execution_set == {dg.AssetKey("s1")}


# --- asset jobs built as restrictions of the largest job on their asset graph -----------------------


def _restriction_location():
    @dg.multi_asset(outs={"a": dg.AssetOut(group_name="g1"), "b": dg.AssetOut(group_name="g1")}, can_subset=True)
    def both(context):
        for key in context.selected_output_names:
            yield dg.Output(1, key)

    @dg.asset(group_name="g1")
    def a_next(a: int) -> int:  # wired to `both` in g1's job and in the implicit one
        return a + 1

    @dg.asset(group_name="g2", deps=["a_next"])
    def reads_across(b: int) -> int:  # `b` loaded from storage in g2's job; `a_next` only orders there
        return b

    @dg.asset(group_name="g2")
    def loads_across(a_next: int) -> int:  # loaded from storage in g2's job: its op gets other inputs
        return a_next

    @dg.asset_check(asset=a_next, blocking=True)
    def a_next_ok() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    @dg.asset(group_name="g1", deps=[a_next])
    def after_check() -> None:
        pass

    @dg.op
    def inner(x: int) -> int:
        return x

    @dg.graph_asset(group_name="g1")
    def graph_backed(a: int) -> int:
        return inner(a)

    return dg.Definitions(
        assets=[both, a_next, reads_across, loads_across, after_check, graph_backed], asset_checks=[a_next_ok],
        jobs=[dg.define_asset_job("g1", selection=dg.AssetSelection.groups("g1")),
              dg.define_asset_job("g2", selection=dg.AssetSelection.groups("g2")),
              dg.define_asset_job("just_a", selection=["a"]),
              dg.define_asset_job("pair", selection=["a", "b", "a_next", "loads_across"])],
    )


def test_asset_jobs_built_as_restrictions_are_the_jobs_built_from_scratch():
    from orchestra._core.assets import job as asset_job
    from orchestra._core.definitions import graph as graph_module
    from orchestra._core.plan import node_inputs

    validated = []
    general = graph_module._validate_dependencies

    def counting(name, nodes, deps):
        validated.append(name)
        return general(name, nodes, deps)

    names = ["g1", "g2", "just_a", "pair"]
    graph_module._validate_dependencies = counting
    try:
        defs = _restriction_location()
        validated.clear()  # (the graph asset's own graph)
        implicit = defs.get_implicit_global_asset_job_def()
        restricted = {name: defs.resolve_job_def(name) for name in names}
        # every named job restricts the implicit one, but `just_a` runs a subset of `both`: another op
        assert validated == [implicit.name, "just_a"]
        scratch = {}
        for name in names:  # each built on a fresh asset graph with nothing to restrict
            asset_job._RESTRICTION_BASE.clear()
            fresh = _restriction_location()
            scratch[name] = fresh.resolve_job_def(name)
    finally:
        graph_module._validate_dependencies = general
    # from scratch, a job is checked unless it is valid as built (`g2`: no blocking check, and every op has
    # the inputs and outputs its definition names; `just_a` runs a subset of `both`, the others a blocking check)
    assert validated[2:] == ["graph_backed", "g1", "graph_backed", "graph_backed", "just_a", "graph_backed", "pair"]
    for name in names:
        job = restricted[name]
        assert _job_shape(job) == _job_shape(scratch[name]), name
        assert sorted(job.resource_defs) == sorted(scratch[name].resource_defs)
        # the shared wiring is what the general path gives
        wired = {str(handle): [(i.name, *_source(i.source)) for i in inputs] for handle, inputs in node_inputs(job)}
        assert wired == _general_sources(job), name
    full = {node.name: node for node in implicit.graph.nodes}
    g2 = restricted["g2"].graph
    assert restricted["pair"].graph.node_named("a_next") is full["a_next"]  # same op and dependencies
    assert g2.node_named("loads_across") is not full["loads_across"]  # its input is loaded here
    assert g2.node_named("loads_across").definition.input_dict["a_next"].input_manager_key == "io_manager"
    assert full["loads_across"].definition.input_dict["a_next"].input_manager_key is None
    assert restricted["g1"].graph.node_named("graph_backed") is full["graph_backed"]
    assert restricted["g1"].graph.__dict__.get("_shared_steps", {}).get("a_next") is not None
    assert restricted["g1"].execute_in_process().success


def test_a_job_that_is_no_restriction_is_still_checked():
    from orchestra._core.assets import job as asset_job
    from orchestra._core.definitions import graph as graph_module

    validated = []
    general = graph_module._validate_dependencies

    def counting(name, nodes, deps):
        validated.append(name)
        return general(name, nodes, deps)

    graph_module._validate_dependencies = counting
    try:
        defs = _restriction_location()
        validated.clear()  # (the graph asset's own graph)
        defs.resolve_job_def("just_a")  # the first (and largest) job on this asset graph
        defs.resolve_job_def("pair")  # has nodes `just_a` lacks, and `both` whole
        defs.get_implicit_global_asset_job_def()  # larger: becomes what later jobs restrict
        asset_graph = defs.resolve_asset_graph()
        assert len(asset_job._RESTRICTION_BASE[asset_graph]) == len(defs.get_implicit_global_asset_job_def().graph.nodes)
        defs.resolve_job_def("g2")
    finally:
        graph_module._validate_dependencies = general
    assert validated == ["just_a", "pair", "__ASSET_JOB"]  # not g2, a restriction of the implicit job


# --- resolving a location: what is built once, shared, or left until a run asks -----------------------


def _resolve_location():
    @dg.multi_asset(outs={"m1": dg.AssetOut(code_version="1"), "m2": dg.AssetOut()}, can_subset=True,
                    check_specs=[dg.AssetCheckSpec("m1_ok", asset="m1")], partitions_def=dg.StaticPartitionsDefinition(["x"]))
    def pair(context):
        for name in context.selected_output_names:
            yield dg.Output(1, name)

    @dg.asset(deps=["m2", "nowhere"], group_name="g", owners=["team:a"], tags={"tier": "gold"}, kinds={"python"})
    def after() -> None:
        pass

    @dg.asset(group_name="g")
    def reads(m1: int, raw: int) -> int:
        return m1 + raw

    @dg.asset_check(asset=after)
    def after_ok() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    @dg.op
    def inner(x: int) -> int:
        return x

    @dg.graph_asset(group_name="g")
    def graph_backed(reads: int) -> int:
        return inner(reads)

    raw = dg.SourceAsset("raw")
    observed = dg.AssetSpec("external", deps=["after"])
    return dg.Definitions(assets=[pair, after, reads, graph_backed, raw, observed], asset_checks=[after_ok],
                          jobs=[dg.define_asset_job("g", selection=dg.AssetSelection.groups("g")),
                                dg.define_asset_job("m2_only", selection=["m2"])])


def test_asset_layer_maps_wait_for_their_first_use_and_the_given_keys_are_theirs():
    for job in _resolve_location().resolve_all_job_defs():
        layer = job._asset_layer
        assert "outputs" not in layer.__dict__ and "node_by_key" not in layer.__dict__, job.name
        keys, checks = layer.selected_asset_keys, layer.selected_check_keys
        assert keys == set(layer.node_by_key) and checks == set(layer.node_by_check), job.name  # now built
        assert {"outputs", "inputs", "node_by_check"} <= set(layer.__dict__)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        layer.nope  # noqa: B018


def _linked(graph):
    return {key: (set(node.parents), set(node.children)) for key, node in graph.nodes.items()}


def test_selection_graph_shares_the_asset_graphs_edges_and_they_are_the_ones_it_would_work_out():
    from orchestra._core.assets.graph import build_asset_graph
    from orchestra._core.selection.graph import SelectionGraph

    defs = _resolve_location()
    asset_graph = defs.resolve_asset_graph()
    shared = defs.get_repository_def().selection_graph
    assert not asset_graph.keys_taken_over
    assert shared.nodes[dg.AssetKey("after")].parents is asset_graph.upstream[dg.AssetKey("after")]
    definitions = {id(d): d for d in [*asset_graph.assets_def_by_key.values(), asset_graph.source_asset_by_key[
        dg.AssetKey("raw")], *asset_graph.assets_def_by_check_key.values()]}
    worked_out = SelectionGraph.from_assets(definitions.values())
    assert list(shared.nodes) == list(worked_out.nodes) and _linked(shared) == _linked(worked_out)
    assert shared.check_keys == worked_out.check_keys

    # an external spec whose key an asset takes over: the edges are worked out, not shared
    taken = build_asset_graph([dg.AssetSpec("reads", deps=["m2"]), *asset_graph.assets_defs])
    assert taken.keys_taken_over
    graph = SelectionGraph.from_asset_graph(taken)
    assert graph.nodes[dg.AssetKey("after")].parents is not taken.upstream[dg.AssetKey("after")]
    assert graph.nodes[dg.AssetKey("after")].parents == taken.upstream[dg.AssetKey("after")]


def test_asset_graph_edges_are_every_spec_dependency_both_ways():
    asset_graph = _resolve_location().resolve_asset_graph()
    upstream = {key: {dep.asset_key for dep in d.get_asset_spec(key).deps} for key, d in asset_graph.assets_def_by_key.items()}
    for key in asset_graph.source_asset_by_key:
        upstream.setdefault(key, set())
    for deps in list(upstream.values()):
        for dep in deps:
            upstream.setdefault(dep, set())  # a key no definition has (`nowhere`)
    downstream = {key: {k for k, deps in upstream.items() if key in deps} for key in upstream}
    assert asset_graph.upstream == upstream and asset_graph.downstream == downstream
    assert dg.AssetKey("nowhere") in asset_graph.upstream


def test_selections_resolved_with_their_checks_once_give_what_resolving_each_gives():
    graph = _resolve_location().get_repository_def().selection_graph
    selections = [dg.AssetSelection.all(), dg.AssetSelection.groups("g"), dg.AssetSelection.assets("m1", "after"),
                  dg.AssetSelection.checks_for_assets("after"), dg.AssetSelection.all() - dg.AssetSelection.groups("g"),
                  dg.AssetSelection.all_asset_checks(), dg.AssetSelection.assets("m1").without_checks()]
    for selection in selections:
        assert selection.resolve_with_checks(graph) == (selection.resolve(graph), selection.resolve_checks(graph))


def _malformed(make):
    @dg.asset
    def up() -> int:
        return 1

    @dg.asset
    def after(down: int) -> int:
        return down

    return dg.Definitions(assets=[up, after, make()]).resolve_all_job_defs()


def test_asset_jobs_valid_as_built_still_refuse_what_the_dependency_check_refuses():
    from orchestra._core.assets.definition import AssetsDefinition

    @dg.op
    def compute(x: int) -> int:
        return x

    up, down = dg.AssetKey("up"), dg.AssetKey("down")
    with pytest.raises(dg.DagsterInvalidDefinitionError, match='node "compute" does not have input "y"'):
        _malformed(lambda: AssetsDefinition(keys_by_input_name={"x": up, "y": up}, keys_by_output_name={"result": down},
                                            node_def=compute))
    with pytest.raises(dg.DagsterInvalidDefinitionError, match='node "compute" does not have output "nope"'):
        _malformed(lambda: AssetsDefinition(keys_by_input_name={"x": up}, keys_by_output_name={"nope": down},
                                            node_def=compute))

    @dg.multi_asset(specs=[dg.AssetSpec("a1"), dg.AssetSpec("a3", deps=["a2"])])
    def ends():  # listed before `a2`, which it depends on: a dependency on a later node
        pass

    @dg.asset(deps=["a1"])
    def a2() -> None:
        pass

    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Circular dependencies exist"):
        dg.Definitions(assets=[ends, a2]).resolve_all_job_defs()
