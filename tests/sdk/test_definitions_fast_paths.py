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
