"""What importing the SDK and decorating a location's assets skip gives the answers the general paths give.

Selections and `RunRequest` are written-out value classes (no dataclass methods generated at import),
the partitions package loads its modules on first use, a few readers take a shortcut (zero-padded
partition keys, one-line docstrings, UTC), and a location that needs none of the other time zones,
partition kinds or sensors imports none of them. Nothing here measures time (that is bench/).
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
import random
import subprocess
import sys
import typing
from dataclasses import FrozenInstanceError
from datetime import datetime

import pytest

import orchestra as dg
from orchestra._core.selection import asset_selection, combinators
from orchestra._records import Record

# --- Record: a frozen dataclass's value semantics ----------------------------------------------------


class _Point(Record):
    x: int
    y: int = 0
    scale: typing.ClassVar[int] = 10


class _Point3(_Point):
    z: int = 0


def test_a_record_has_the_fields_and_value_semantics_of_a_frozen_dataclass():
    @dataclasses.dataclass(frozen=True)
    class Point:
        x: int
        y: int = 0

    for record, dataclass_value in ((_Point(1), Point(1)), (_Point(1, 2), Point(1, 2)), (_Point(y=2, x=1), Point(y=2, x=1))):
        assert repr(record).replace("_Point", "Point") == repr(dataclass_value).split(".")[-1]
        assert hash(record) == hash(dataclass_value)
        for clone in (copy.copy(record), copy.deepcopy(record), pickle.loads(pickle.dumps(record))):
            assert clone == record and hash(clone) == hash(record)
    assert _Point.__match_args__ == ("x", "y") and _Point3.__match_args__ == ("x", "y", "z")
    assert _Point3(1, 2, 3) == _Point3(x=1, y=2, z=3) and _Point3(1) != _Point(1)  # another class: never equal
    with pytest.raises(FrozenInstanceError, match="cannot assign to field 'x'"):
        _Point(1).x = 2
    with pytest.raises(FrozenInstanceError, match="cannot delete field 'x'"):
        del _Point(1).x
    for args, kwargs in (((), {}), ((1, 2, 3), {}), ((1,), {"x": 2}), ((1,), {"nope": 2})):
        with pytest.raises(TypeError):
            _Point(*args, **kwargs)


# --- selections: values with fields -----------------------------------------------------------------


_SELECTIONS = [
    dg.AssetSelection.all(),
    dg.AssetSelection.all(include_sources=True),
    dg.AssetSelection.all_asset_checks(),
    dg.AssetSelection.keys("a", "b/c"),
    dg.AssetSelection.key_prefixes("p", ["q", "r"]),
    dg.AssetSelection.key_substring("x"),
    asset_selection.KeyWildcardAssetSelection(selected_key_wildcard="a*"),
    dg.AssetSelection.groups("g1", "g2"),
    dg.AssetSelection.tag("k", "v"),
    dg.AssetSelection.kind(None),
    dg.AssetSelection.owner("team:x"),
    dg.AssetSelection.checks_for_assets(dg.AssetKey("a")),
    dg.AssetSelection.checks(dg.AssetCheckKey(dg.AssetKey("a"), "c")),
    dg.AssetSelection.groups("g").upstream(2),
    dg.AssetSelection.keys("a").downstream().sinks(),
    dg.AssetSelection.keys("a") | dg.AssetSelection.groups("g"),
    dg.AssetSelection.keys("a") & dg.AssetSelection.groups("g"),
    dg.AssetSelection.keys("a") - dg.AssetSelection.groups("g"),
    dg.AssetSelection.from_string('+key:"raw/orders" or (group:sales and not kind:dbt)'),
]


@pytest.mark.parametrize("selection", _SELECTIONS, ids=repr)
def test_a_selection_is_equal_to_its_copies_and_immutable(selection):
    for clone in (copy.copy(selection), copy.deepcopy(selection), pickle.loads(pickle.dumps(selection))):
        assert clone == selection and hash(clone) == hash(selection) and repr(clone) == repr(selection)
    assert selection != dg.AssetSelection.keys("zzz")
    with pytest.raises(FrozenInstanceError, match="cannot assign to field 'include_sources'"):
        selection.include_sources = True
    with pytest.raises(FrozenInstanceError):
        del selection.include_sources


def test_selection_fields_are_set_by_position_or_keyword_with_their_defaults():
    tag = asset_selection.TagAssetSelection("k", "v", True)
    assert tag == asset_selection.TagAssetSelection(key="k", value="v", include_sources=True)
    assert repr(tag) == "TagAssetSelection(key='k', value='v', include_sources=True)"
    assert asset_selection.TagAssetSelection.__match_args__ == ("key", "value", "include_sources")
    assert repr(asset_selection.KindAssetSelection(kind_str="dbt")) == "KindAssetSelection(include_sources=False, kind_str='dbt')"
    assert combinators.UpstreamAssetSelection().child == dg.AssetSelection.all()
    assert dg.AssetSelection.all() != asset_selection.AllAssetCheckSelection()  # another class: never equal
    for bad in ({"args": ("k", "v", True, 1)}, {"kwargs": {"nope": 1}}, {"args": ("k",), "kwargs": {"key": "j"}}):
        with pytest.raises(TypeError):
            asset_selection.TagAssetSelection(*bad.get("args", ()), **bad.get("kwargs", {}))


# --- RunRequest: a value with fields -----------------------------------------------------------------


def test_run_request_compares_shows_and_copies_every_field():
    request = dg.RunRequest(run_key="k", run_config={"ops": {"a": {"config": 1}}}, tags={"n": 1}, job_name="j",
                            asset_selection=[dg.AssetKey("a")], stale_assets_only=1, partition_key="p")
    assert repr(request) == (
        "RunRequest(run_key='k', run_config={'ops': {'a': {'config': 1}}}, tags={'n': '1'}, job_name='j', "
        "asset_selection=[AssetKey(['a'])], stale_assets_only=True, partition_key='p', asset_check_keys=None, "
        "asset_graph_subset=None)"
    )
    assert request == copy.copy(request) == pickle.loads(pickle.dumps(request))
    assert request != dg.RunRequest(run_key="k") and dg.RunRequest() == dg.RunRequest()
    assert list(request._asdict()) == list(dg.RunRequest.__match_args__)
    with pytest.raises(TypeError, match="unhashable"):
        hash(request)
    with pytest.raises(FrozenInstanceError, match="cannot assign to field 'run_key'"):
        request.run_key = "other"


def test_run_request_with_replaced_attrs_normalizes_as_the_constructor():
    request = dg.RunRequest(run_key="k", tags={"a": "b"})
    replaced = request.with_replaced_attrs(tags={"n": 2}, run_key="z")
    assert (replaced.run_key, replaced.tags, replaced.run_config) == ("z", {"n": "2"}, {})
    assert request.run_key == "k"
    with pytest.raises(TypeError, match="unexpected keyword arguments"):
        request.with_replaced_attrs(bogus=1)


# --- the partitions package: names loaded on first use -------------------------------------------------


def test_the_partitions_package_exports_the_names_of_its_modules():
    import importlib

    import orchestra._core.partitions as partitions

    for name in partitions.__all__:
        module = importlib.import_module(f"orchestra._core.partitions.{partitions._EXPORTS[name]}")
        assert getattr(partitions, name) is getattr(module, name), name
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        partitions.nope  # noqa: B018


def test_a_daily_partitioned_location_imports_only_what_it_uses():
    code = (
        "import sys, orchestra as dg\n"
        "daily = dg.DailyPartitionsDefinition(start_date='2024-01-01')\n"
        "@dg.asset(partitions_def=daily)\n"
        "def a() -> None: ...\n"
        "job = dg.define_asset_job('j', selection=[a], partitions_def=daily)\n"
        "defs = dg.Definitions(assets=[a], jobs=[job], schedules=[dg.build_schedule_from_partitioned_job(job),\n"
        "                      dg.ScheduleDefinition(name='s', job=job, cron_schedule='0 * * * *', execution_timezone='UTC')])\n"
        "defs.resolve_all_job_defs()\n"
        "print(sorted(m for m in sys.modules if m in ('zoneinfo', '_strptime') or m.startswith((\n"
        "    'orchestra._core.automation.sensor', 'orchestra._core.partitions.static', 'orchestra._core.partitions.dynamic',\n"
        "    'orchestra._core.partitions.multi', 'orchestra._core.partitions.mapping', 'orchestra._core.partitions.config'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_other_time_zones_are_still_checked_when_defined():
    @dg.job
    def nothing():
        pass

    schedule = dg.ScheduleDefinition(name="s", cron_schedule="0 0 * * *", job=nothing, execution_timezone="Europe/Paris")
    assert schedule.execution_timezone == "Europe/Paris"
    with pytest.raises(dg.DagsterInvalidDefinitionError):
        dg.ScheduleDefinition(name="t", cron_schedule="0 0 * * *", job=nothing, execution_timezone="Mars/Base")
    paris = dg.DailyPartitionsDefinition(start_date="2024-01-01", timezone="Europe/Paris")
    assert paris.get_partition_keys(datetime(2024, 1, 3, 12))[:2] == ["2024-01-01", "2024-01-02"]


def test_a_partitioned_schedule_of_static_partitions_still_needs_a_cron_schedule():
    static = dg.StaticPartitionsDefinition(["a", "b"])

    @dg.job(partitions_def=static)
    def by_letter():
        pass

    with pytest.raises(dg.DagsterInvariantViolationError, match="requires a cron schedule"):
        dg.build_schedule_from_partitioned_job(by_letter)
    assert dg.build_schedule_from_partitioned_job(by_letter, cron_schedule="0 0 * * *").cron_schedule == "0 0 * * *"


# --- an asset's deps: ordering-only inputs resolved once ------------------------------------------------


def _inputs(assets_def):
    return [(d.name, d.dagster_type.display_name, d.asset_key.to_user_string()) for d in assets_def.node_def.input_defs]


def test_deps_come_after_the_data_inputs_as_nothing_inputs():
    @dg.asset(deps=["b"], ins={"y": dg.AssetIn(key="yy")})
    def a(x, **kwargs): ...

    assert _inputs(a) == [("x", "Any", "x"), ("y", "Any", "yy"), ("b", "Nothing", "b")]
    assert a.node_def.compute_fn.arg_input_names == ("x", "y")
    assert a.keys_by_input_name == {"x": dg.AssetKey("x"), "y": dg.AssetKey("yy"), "b": dg.AssetKey("b")}

    @dg.multi_asset(outs={"o1": dg.AssetOut(), "o2": dg.AssetOut()}, deps=["d1"])
    def m(u): ...

    assert _inputs(m) == [("u", "Any", "u"), ("d1", "Nothing", "d1")]

    @dg.multi_asset_check(specs=[dg.AssetCheckSpec("c1", asset="a", additional_deps=["w"]), dg.AssetCheckSpec("c2", asset="b")])
    def checks(): ...

    assert _inputs(checks) == [("a", "Nothing", "a"), ("w", "Nothing", "w"), ("b", "Nothing", "b")]


def test_deps_named_as_another_input_take_its_place_as_before():
    @dg.asset(deps=[dg.AssetKey(["p", "q"]), "p_q"])  # one input name for two keys: the last one stays
    def a(): ...

    assert _inputs(a) == [("p_q", "Nothing", "p_q")] and a.keys_by_input_name == {"p_q": dg.AssetKey("p_q")}
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="parameter 'x' that is one of the input_defs of type 'Nothing'"):

        @dg.asset(ins={"x": dg.AssetIn(key="other")}, deps=["x"])
        def b(x): ...


# --- readers with a shortcut ---------------------------------------------------------------------------


def _random_key(rng: random.Random, fmt: str) -> str:
    key, index = "", 0
    while index < len(fmt):
        if fmt[index] != "%":
            key += fmt[index] if rng.random() < 0.97 else rng.choice("-x/ ")
            index += 1
            continue
        directive, index = fmt[index + 1], index + 2
        if directive == "%":
            key += "%"
            continue
        width = 4 if directive == "Y" else 2
        number = rng.randint(0, 10**width - 1) if rng.random() < 0.5 else rng.randint(0, 70)
        key += str(number).zfill(width if rng.random() < 0.8 else 1)
    return key


@pytest.mark.parametrize("fmt", ["%Y-%m-%d", "%Y-%m-%d-%H:%M", "%Y-%m", "%Y%m%d", "%H:%M", "%Y-%m-%d %H:%M:%S",
                                 "%d.%m.%Y", "%Y-%m-%d%%", "%Y-%m-%d%z", "%Y-%m-%dT%H%Y"])
def test_zero_padded_partition_keys_are_read_as_strptime_reads_them(fmt):
    from orchestra._core.partitions.time_keys import _parse_padded

    rng = random.Random(fmt)
    for key in [_random_key(rng, fmt) for _ in range(3000)] + ["2024-02-29", "2023-02-29", "0000-01-01"]:
        try:
            expected = datetime.strptime(key, fmt)
        except Exception:  # a key strptime refuses (or, for a repeated directive, the format itself)
            expected = None
        parsed = _parse_padded(key, fmt)
        assert parsed is None or parsed == expected, (key, fmt)  # None: strptime reads it (or says why not)


def test_partition_keys_with_offsets_and_bad_keys_still_go_to_strptime():
    from orchestra._core.partitions.time_keys import parse_key

    hourly = "%Y-%m-%d-%H:%M"
    assert parse_key("2024-11-03-01:00-0500", "America/Chicago", hourly).timestamp() == 1730613600
    for bad_key in ("2024-13-01", "2023-02-29"):  # strptime's own error, after the retry with an offset
        with pytest.raises(ValueError, match="does not match format '%Y-%m-%d%z'"):
            parse_key(bad_key, "UTC", "%Y-%m-%d")


def _one_line():
    """  Leading spaces go, trailing stay.  """


def _blank():
    """   """


def _many_lines():
    """First line.

        Indented body.
    """


def _tabbed():
    """a\tb"""


def _none():
    pass


@pytest.mark.parametrize("fn", [_one_line, _blank, _many_lines, _tabbed, _none, dg.asset, len])
def test_docstring_of_is_what_inspect_getdoc_says(fn):
    from orchestra._core.signatures import docstring_of

    assert docstring_of(fn) == inspect.getdoc(fn)


def test_first_use_imports_leave_the_collector_as_they_found_it():
    code = (
        "import gc, orchestra as dg\n"
        "dg.asset\n"
        "enabled = gc.isenabled()\n"
        "gc.disable()\n"
        "dg.Definitions\n"
        "print(enabled, gc.isenabled())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "False"]
