"""AssetSelection: every case below was resolved by Dagster 1.13 on the same graph; Orchestra must agree."""

import pytest

import orchestra as dg


@dg.asset(group_name="g1", tags={"tier": "gold"}, kinds={"python"}, owners=["team:x"])
def a():
    return 1


@dg.asset(group_name="g1", owners=["alice@example.com"])
def b(a):
    return a


@dg.asset(group_name="g2", kinds={"sql"})
def c(b):
    return b


@dg.asset(group_name="g2", tags={"tier": "silver", "flag": ""})
def d(a):
    return a


@dg.multi_asset(outs={"m1": dg.AssetOut(group_name="g3"), "m2": dg.AssetOut(group_name="g3")}, deps=["c"])
def m():
    return 1, 2


ext = dg.AssetSpec("ext", group_name="g1", kinds={"s3"})


@dg.asset(deps=[ext], group_name="g3")
def e():
    return 1


@dg.asset(key_prefix=["pre"], group_name="g2")
def x(d):
    return d


@dg.asset(key=["pre", "sub", "y"], deps=[x, "m2"])
def y():
    return 1


@dg.multi_asset(specs=[dg.AssetSpec("s1"), dg.AssetSpec("s2", deps=["s1"])], can_subset=True)
def sub(context):
    pass


@dg.asset_check(asset=b)
def b_check():
    return dg.AssetCheckResult(passed=True)


ASSETS = [a, b, c, d, m, ext, e, x, y, sub]


@pytest.fixture(scope="module")
def graph():
    return dg.Definitions(assets=ASSETS, asset_checks=[b_check]).get_repository_def().asset_graph


# (case, selection expression, keys Dagster 1.13 resolves it to on the graph above)
RESOLVED_BY_DAGSTER = [
    ('all', 'dg.AssetSelection.all()', ['a', 'b', 'c', 'd', 'e', 'm1', 'm2', 'pre/sub/y', 'pre/x', 's1', 's2']),
    ('all_sources', 'dg.AssetSelection.all(include_sources=True)', ['a', 'b', 'c', 'd', 'e', 'ext', 'm1', 'm2', 'pre/sub/y', 'pre/x', 's1', 's2']),
    ('keys_a', 'dg.AssetSelection.keys("a")', ['a']),
    ('keys_ext', 'dg.AssetSelection.keys("ext")', ['ext']),
    ('keys_list', 'dg.AssetSelection.keys(["pre", "x"], "b")', ['b', 'pre/x']),
    ('keys_slash', 'dg.AssetSelection.keys("pre/x")', ['pre/x']),
    ('assets_defs', 'dg.AssetSelection.assets(m)', ['m1', 'm2']),
    ('groups_g1', 'dg.AssetSelection.groups("g1")', ['a', 'b']),
    ('groups_g1_src', 'dg.AssetSelection.groups("g1", include_sources=True)', ['a', 'b', 'ext']),
    ('groups_multi', 'dg.AssetSelection.groups("g1", "g3")', ['a', 'b', 'e', 'm1', 'm2']),
    ('prefix_pre', 'dg.AssetSelection.key_prefixes("pre")', ['pre/sub/y', 'pre/x']),
    ('prefix_list', 'dg.AssetSelection.key_prefixes(["pre", "sub"])', ['pre/sub/y']),
    ('substring', 'dg.AssetSelection.key_substring("e")', ['e', 'pre/sub/y', 'pre/x']),
    ('tag', 'dg.AssetSelection.tag("tier", "gold")', ['a']),
    ('tag_empty', 'dg.AssetSelection.tag("flag", "")', ['d']),
    ('kind_sql', 'dg.AssetSelection.kind("sql")', ['c']),
    ('kind_s3', 'dg.AssetSelection.kind("s3")', []),
    ('kind_s3_src', 'dg.AssetSelection.kind("s3", include_sources=True)', ['ext']),
    ('owner_team', 'dg.AssetSelection.owner("team:x")', ['a']),
    ('owner_email', 'dg.AssetSelection.owner("alice@example.com")', ['b']),
    ('up_c', 'dg.AssetSelection.keys("c").upstream()', ['a', 'b', 'c']),
    ('up_c_1', 'dg.AssetSelection.keys("c").upstream(depth=1)', ['b', 'c']),
    ('up_c_noself', 'dg.AssetSelection.keys("c").upstream(include_self=False)', ['a', 'b']),
    ('up_e', 'dg.AssetSelection.keys("e").upstream()', ['e']),
    ('up_y_2', 'dg.AssetSelection.keys(["pre","sub","y"]).upstream(depth=2)', ['c', 'd', 'm2', 'pre/sub/y', 'pre/x']),
    ('down_a', 'dg.AssetSelection.keys("a").downstream()', ['a', 'b', 'c', 'd', 'm1', 'm2', 'pre/sub/y', 'pre/x']),
    ('down_a_1_noself', 'dg.AssetSelection.keys("a").downstream(depth=1, include_self=False)', ['b', 'd']),
    ('down_ext', 'dg.AssetSelection.keys("ext").downstream()', ['e', 'ext']),
    ('down_ext_noself', 'dg.AssetSelection.keys("ext").downstream(include_self=False)', ['e']),
    ('roots', 'dg.AssetSelection.all().roots()', ['a', 'e', 's1']),
    ('sinks', 'dg.AssetSelection.all().sinks()', ['e', 'm1', 'pre/sub/y', 's2']),
    ('roots_g2', 'dg.AssetSelection.groups("g2").roots()', ['c', 'd']),
    ('sinks_g2', 'dg.AssetSelection.groups("g2").sinks()', ['c', 'pre/x']),
    ('sources', 'dg.AssetSelection.groups("g2").sources()', ['c', 'd']),
    ('neighbors_m1', 'dg.AssetSelection.keys("m1").required_multi_asset_neighbors()', ['m1', 'm2']),
    ('neighbors_s1', 'dg.AssetSelection.keys("s1").required_multi_asset_neighbors()', ['s1']),
    ('materializable', 'dg.AssetSelection.keys("e").upstream().materializable()', ['e']),
    ('or', 'dg.AssetSelection.groups("g1") | dg.AssetSelection.groups("g3")', ['a', 'b', 'e', 'm1', 'm2']),
    ('and', 'dg.AssetSelection.groups("g2") & dg.AssetSelection.keys("a").downstream()', ['c', 'd', 'pre/x']),
    ('sub', 'dg.AssetSelection.all() - dg.AssetSelection.groups("g2")', ['a', 'b', 'e', 'm1', 'm2', 'pre/sub/y', 's1', 's2']),
    ('sub_sources', 'dg.AssetSelection.all(include_sources=True) - dg.AssetSelection.keys("a")', ['b', 'c', 'd', 'e', 'ext', 'm1', 'm2', 'pre/sub/y', 'pre/x', 's1', 's2']),
    ('upstream_sources', 'dg.AssetSelection.keys("e").upstream_source_assets()', ['ext']),
    ('fs_key', 'dg.AssetSelection.from_string("key:a")', ['a']),
    ('fs_key_quoted', 'dg.AssetSelection.from_string(\'key:"pre/x"\')', ['pre/x']),
    ('fs_key_wild', 'dg.AssetSelection.from_string("key:pre/*")', ['pre/sub/y', 'pre/x']),
    ('fs_key_wild2', 'dg.AssetSelection.from_string("key:*s*")', ['pre/sub/y', 's1', 's2']),
    ('fs_bare', 'dg.AssetSelection.from_string("a")', ['a']),
    ('fs_group', 'dg.AssetSelection.from_string("group:g1")', ['a', 'b']),
    ('fs_tag', 'dg.AssetSelection.from_string("tag:tier=gold")', ['a']),
    ('fs_tag_nokey', 'dg.AssetSelection.from_string("tag:tier")', []),
    ('fs_kind', 'dg.AssetSelection.from_string("kind:sql")', ['c']),
    ('fs_up', 'dg.AssetSelection.from_string("+key:c")', ['a', 'b', 'c']),
    ('fs_up2', 'dg.AssetSelection.from_string("2+key:c")', ['a', 'b', 'c']),
    ('fs_down', 'dg.AssetSelection.from_string("key:a+")', ['a', 'b', 'c', 'd', 'm1', 'm2', 'pre/sub/y', 'pre/x']),
    ('fs_downstar', 'dg.AssetSelection.from_string("key:a*")', ['a']),
    ('fs_both', 'dg.AssetSelection.from_string("+key:b+")', ['a', 'b', 'c', 'm1', 'm2', 'pre/sub/y']),
    ('fs_or', 'dg.AssetSelection.from_string("key:a or group:g3")', ['a', 'e', 'm1', 'm2']),
    ('fs_and', 'dg.AssetSelection.from_string("group:g2 and kind:sql")', ['c']),
    ('fs_not', 'dg.AssetSelection.from_string("not group:g2")', ['a', 'b', 'e', 'm1', 'm2', 'pre/sub/y', 's1', 's2']),
    ('fs_paren', 'dg.AssetSelection.from_string("(group:g1 or group:g2) and not key:a")', ['b', 'c', 'd', 'pre/x']),
    ('fs_star', 'dg.AssetSelection.from_string("*")', ['a', 'b', 'c', 'd', 'e', 'm1', 'm2', 'pre/sub/y', 'pre/x', 's1', 's2']),
    ('fs_roots', 'dg.AssetSelection.from_string("roots(group:g2)")', ['c', 'd']),
    ('fs_sinks', 'dg.AssetSelection.from_string("sinks(*)")', ['e', 'm1', 'pre/sub/y', 's2']),
    ('fs_status', 'dg.AssetSelection.from_string("group:g1+ and not key:b")', ['a', 'c', 'd', 'm1', 'm2', 'pre/sub/y', 'pre/x']),
    ('fs_upgroup', 'dg.AssetSelection.from_string("+group:g3")', ['a', 'b', 'c', 'e', 'm1', 'm2']),
    ('fs_src_key', 'dg.AssetSelection.from_string("key:ext")', ['ext']),
    ('fs_src_group', 'dg.AssetSelection.from_string("group:g1")', ['a', 'b']),
    ('fs_AND', 'dg.AssetSelection.from_string("group:g2 AND kind:sql")', ['c']),
    ('fs_tag_flag', 'dg.AssetSelection.from_string("tag:flag")', ['d']),
    ('fs_tag_eq_empty', 'dg.AssetSelection.from_string(\'tag:flag=""\')', ['d']),
    ('fs_owner_q', 'dg.AssetSelection.from_string(\'owner:"team:x"\')', ['a']),
    ('fs_owner_email', 'dg.AssetSelection.from_string(\'owner:"alice@example.com"\')', ['b']),
    ('fs_kind_s3', 'dg.AssetSelection.from_string("kind:s3")', []),
    ('fs_OR', 'dg.AssetSelection.from_string("key:a OR key:b")', ['a', 'b']),
    ('fs_NOT', 'dg.AssetSelection.from_string("NOT key:a")', ['b', 'c', 'd', 'e', 'm1', 'm2', 'pre/sub/y', 'pre/x', 's1', 's2']),
    ('fs_sinks_down', 'dg.AssetSelection.from_string("sinks(key:a+)")', ['m1', 'pre/sub/y']),
    ('fs_1plus', 'dg.AssetSelection.from_string("1+key:c")', ['b', 'c']),
    ('fs_plus1', 'dg.AssetSelection.from_string("key:a+1")', ['a', 'b', 'd']),
    ('fs_plus2', 'dg.AssetSelection.from_string("key:a+2")', ['a', 'b', 'c', 'd', 'pre/x']),
    ('fs_1plus1', 'dg.AssetSelection.from_string("1+key:b+1")', ['a', 'b', 'c']),
    ('fs_nested', "dg.AssetSelection.from_string('+(key:c or key:d)')", ['a', 'b', 'c', 'd']),
    ('fs_key_nomatch', "dg.AssetSelection.from_string('key:zzz')", []),
    ('groups_missing', 'dg.AssetSelection.groups("zzz")', []),
    ('up_depth0', 'dg.AssetSelection.keys("c").upstream(depth=0)', ['c']),
    ('sinks_a_down', 'dg.AssetSelection.keys("a").downstream().sinks()', ['m1', 'pre/sub/y']),
    ('checks_for', 'dg.AssetSelection.checks_for_assets(b)', []),
    ('without_checks', 'dg.AssetSelection.keys("b").without_checks()', ['b']),
    ('from_coercible_strs', 'dg.AssetSelection.from_coercible(["a", "b"])', ['a', 'b']),
    ('from_coercible_str', 'dg.AssetSelection.from_coercible("a")', ['a']),
    ('from_coercible_keys', 'dg.AssetSelection.from_coercible([dg.AssetKey(["pre", "x"])])', ['pre/x']),
    ('from_coercible_defs', 'dg.AssetSelection.from_coercible([a, m])', ['a', 'm1', 'm2']),
    ('from_coercible_selstr', 'dg.AssetSelection.from_coercible("group:g1")', ['a', 'b']),
    ('neighbors_s1_can_subset', 'dg.AssetSelection.keys("s1").required_multi_asset_neighbors()', ['s1']),
    ('up_s2', 'dg.AssetSelection.keys("s2").upstream()', ['s1', 's2']),
    ('assets_spec_key', 'dg.AssetSelection.assets("ext")', ['ext']),
    ('kind_none', 'dg.AssetSelection.kind(None)', ['b', 'd', 'e', 'm1', 'm2', 'pre/sub/y', 'pre/x', 's1', 's2']),
    ('owner_none', 'dg.AssetSelection.owner(None)', []),
    ('tag_string', 'dg.AssetSelection.tag_string("tier=gold")', ['a']),
    ('keys_listkey', 'dg.AssetSelection.keys(["pre","x"])', ['pre/x']),
    ('keys_assetkey', 'dg.AssetSelection.keys(dg.AssetKey("a"), "b")', ['a', 'b']),
    ('default_group', 'dg.AssetSelection.groups("default")', ['pre/sub/y', 's1', 's2']),
    ('kind_tag', 'dg.AssetSelection.tag("dagster/kind/sql", "")', ['c']),
    ('fs_default', 'dg.AssetSelection.from_string("group:default")', ['pre/sub/y', 's1', 's2']),
    ('fs_kind_tag', 'dg.AssetSelection.from_string(\'tag:"dagster/kind/sql"\')', ['c']),
    ('up_ext_self', 'dg.AssetSelection.keys("ext").upstream()', []),
    ('roots_with_src', 'dg.AssetSelection.all(include_sources=True).roots()', ['a', 'ext', 's1']),
    ('sinks_src', 'dg.AssetSelection.all(include_sources=True).sinks()', ['e', 'm1', 'pre/sub/y', 's2']),
    ('materializable_all_src', 'dg.AssetSelection.all(include_sources=True).materializable()', ['a', 'b', 'c', 'd', 'e', 'm1', 'm2', 'pre/sub/y', 'pre/x', 's1', 's2']),
    ('fs_sources_star', 'dg.AssetSelection.from_string("*", include_sources=True)', ['a', 'b', 'c', 'd', 'e', 'ext', 'm1', 'm2', 'pre/sub/y', 'pre/x', 's1', 's2']),
    ('fs_group_src', 'dg.AssetSelection.from_string("group:g1", include_sources=True)', ['a', 'b', 'ext']),
    ('fs_kind_src', 'dg.AssetSelection.from_string("kind:s3", include_sources=True)', ['ext']),
    ('fs_not_src', 'dg.AssetSelection.from_string("not key:a", include_sources=True)', ['b', 'c', 'd', 'e', 'ext', 'm1', 'm2', 'pre/sub/y', 'pre/x', 's1', 's2']),
    ('fs_up_src', 'dg.AssetSelection.from_string("+key:e", include_sources=True)', ['e']),
    ('prefix_src', 'dg.AssetSelection.key_prefixes("ex", include_sources=True)', []),
    ('substr_src', 'dg.AssetSelection.key_substring("ex", include_sources=True)', ['ext']),
    ('neighbors_down', 'dg.AssetSelection.keys("c").downstream(depth=1).required_multi_asset_neighbors()', ['c', 'm1', 'm2']),
    ('keys_down_noself_1', 'dg.AssetSelection.keys("m1").downstream(depth=1, include_self=False)', []),
    ('sinks_of_sub', '(dg.AssetSelection.all() - dg.AssetSelection.keys("m1")).sinks()', ['e', 'pre/sub/y', 's2']),
    ('nested_and_or', 'dg.AssetSelection.from_string("(key:a or key:b) and (group:g1 or group:g2) and not key:b")', ['a']),
    ('fs_multi_traversal', 'dg.AssetSelection.from_string("+key:c and key:b+")', ['b', 'c']),
    ('fs_2plus_group', 'dg.AssetSelection.from_string("2+group:g3")', ['b', 'c', 'e', 'm1', 'm2']),
    ('fs_sinks_paren', 'dg.AssetSelection.from_string("sinks(key:a+)+1")', ['m1', 'pre/sub/y']),
    ('fs_roots_up', 'dg.AssetSelection.from_string("+roots(group:g2)")', ['a', 'b', 'c', 'd']),
]

# (case, selection expression, exception class name Dagster raises on resolve)
ERRORS_FROM_DAGSTER = [
    ('fs_empty', "dg.AssetSelection.from_string('')", 'DagsterInvalidAssetSelectionError'),
    ('fs_bad', "dg.AssetSelection.from_string('key:')", 'DagsterInvalidAssetSelectionError'),
    ('fs_bad2', "dg.AssetSelection.from_string('key:a and')", 'DagsterInvalidAssetSelectionError'),
    ('fs_unknown_attr', "dg.AssetSelection.from_string('foo:bar')", 'DagsterInvalidAssetSelectionError'),
    ('keys_missing', 'dg.AssetSelection.keys("zzz")', 'DagsterInvalidSubsetError'),
    ('keys_missing2', 'dg.AssetSelection.keys("zzz", "a")', 'DagsterInvalidSubsetError'),
    ('sub_missing', 'dg.AssetSelection.all() - dg.AssetSelection.keys("zzz")', 'DagsterInvalidSubsetError'),
    ('or_missing', 'dg.AssetSelection.all() | dg.AssetSelection.keys("zzz")', 'DagsterInvalidSubsetError'),
    ('and_missing', 'dg.AssetSelection.all() & dg.AssetSelection.keys("zzz")', 'DagsterInvalidSubsetError'),
]

def _resolve(expression, graph):
    selection = eval(expression, {"dg": dg, "a": a, "b": b, "m": m})  # noqa: S307 - fixed test expressions
    return sorted(key.to_user_string() for key in selection.resolve(graph))


@pytest.mark.parametrize(("case", "expression", "expected"), RESOLVED_BY_DAGSTER, ids=[r[0] for r in RESOLVED_BY_DAGSTER])
def test_selection_resolves_like_dagster(graph, case, expression, expected):
    assert _resolve(expression, graph) == expected


@pytest.mark.parametrize(("case", "expression", "error"), ERRORS_FROM_DAGSTER, ids=[r[0] for r in ERRORS_FROM_DAGSTER])
def test_selection_errors_like_dagster(graph, case, expression, error):
    with pytest.raises(Exception) as info:
        _resolve(expression, graph)
    assert type(info.value).__name__ == error


def test_missing_keys_message_names_them(graph):
    with pytest.raises(dg.DagsterInvalidSubsetError, match=r"AssetKey\(s\) \['zzz'\] were selected"):
        dg.AssetSelection.keys("zzz").resolve(graph)
    assert dg.AssetSelection.keys("zzz", "a").resolve(graph, allow_missing=True) == {dg.AssetKey("a")}


def test_resolve_accepts_a_list_of_definitions():
    assert dg.AssetSelection.groups("g1").resolve([a, b, c]) == {dg.AssetKey("a"), dg.AssetKey("b")}
    assert dg.AssetSelection.keys("c").upstream().resolve([a, b, c]) == {dg.AssetKey(k) for k in "abc"}


def test_check_selections(graph):
    b_check_key = dg.AssetCheckKey(dg.AssetKey("b"), "b_check")
    assert dg.AssetSelection.all().resolve_checks(graph) == {b_check_key}
    assert dg.AssetSelection.keys("b").resolve_checks(graph) == {b_check_key}
    assert dg.AssetSelection.keys("b").without_checks().resolve_checks(graph) == set()
    assert dg.AssetSelection.checks_for_assets(b).resolve(graph) == set()
    assert dg.AssetSelection.checks_for_assets(b).resolve_checks(graph) == {b_check_key}
    assert dg.AssetSelection.checks(b_check).resolve_checks(graph) == {b_check_key}
    assert dg.AssetSelection.all_asset_checks().resolve_checks(graph) == {b_check_key}
    assert (dg.AssetSelection.all() - dg.AssetSelection.checks(b_check)).resolve_checks(graph) == set()


@pytest.mark.parametrize(
    ("selection", "text"),
    [
        (dg.AssetSelection.all(), "*"),
        (dg.AssetSelection.keys("a"), 'key:"a"'),
        (dg.AssetSelection.keys("a", "b"), 'key:"a" or key:"b"'),
        (dg.AssetSelection.groups("g1"), 'group:"g1"'),
        (dg.AssetSelection.keys("a").upstream(), '+key:"a"'),
        (dg.AssetSelection.keys("a").downstream(depth=2), 'key:"a"+2'),
        (dg.AssetSelection.groups("g1") | dg.AssetSelection.keys("c"), 'group:"g1" or key:"c"'),
        (dg.AssetSelection.groups("g1") & dg.AssetSelection.keys("c"), 'group:"g1" and key:"c"'),
        (dg.AssetSelection.all() - dg.AssetSelection.keys("c"), 'not key:"c"'),
        (dg.AssetSelection.tag("a", "b"), 'tag:"a"="b"'),
        (dg.AssetSelection.kind("sql"), 'kind:"sql"'),
        (dg.AssetSelection.owner("x"), 'owner:"x"'),
        (dg.AssetSelection.all().roots(), "roots(*)"),
        (dg.AssetSelection.all().sinks(), "sinks(*)"),
        (dg.AssetSelection.key_substring("e"), 'key_substring:"e"'),
        (dg.AssetSelection.keys(["pre", "x"]), 'key:"pre/x"'),
    ],
)
def test_selection_strings_match_dagster(selection, text):
    assert str(selection) == text
    assert selection.to_selection_str() == text


def test_selection_strings_parse_back_to_the_same_keys(graph):
    selections = [
        dg.AssetSelection.groups("g1").downstream(depth=1),
        dg.AssetSelection.keys("c").upstream() - dg.AssetSelection.keys("a"),
        dg.AssetSelection.tag("tier", "gold") | dg.AssetSelection.kind("sql"),
    ]
    for selection in selections:
        reparsed = dg.AssetSelection.from_string(selection.to_selection_str())
        assert reparsed.resolve(graph) == selection.resolve(graph)


def test_selections_compare_by_value():
    assert dg.AssetSelection.groups("g1") == dg.AssetSelection.groups("g1")
    assert dg.AssetSelection.keys("a") | dg.AssetSelection.keys("b") == dg.AssetSelection.keys("a") | dg.AssetSelection.keys("b")
    assert dg.AssetSelection.groups("g1") != dg.AssetSelection.groups("g2")


def test_operands_must_be_selections():
    with pytest.raises(Exception):  # noqa: B017 - Dagster raises its internal ParameterCheckError
        dg.AssetSelection.all() | "a"


def test_materialize_accepts_a_selection():
    result = dg.materialize([a, b, c], selection=dg.AssetSelection.keys("b").upstream())
    assert result.success
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert materialized == {dg.AssetKey("a"), dg.AssetKey("b")}
