"""Asset definitions: keys, specs, decorators and AssetsDefinition attributes, as in Dagster 1.13."""

import pytest

import orchestra as dg


def test_asset_key_forms_and_conversions():
    key = dg.AssetKey(["a", "b"])
    assert key.path == ["a", "b"]
    assert key.to_user_string() == "a/b"
    assert key.to_string() == '["a", "b"]'
    assert repr(key) == "AssetKey(['a', 'b'])"
    assert dg.AssetKey("a/b").path == ["a/b"]
    assert dg.AssetKey.from_user_string("a/b") == key
    assert dg.AssetKey.from_coercible("x") == dg.AssetKey(["x"])
    assert dg.AssetKey.from_coercible(("x", "y")) == dg.AssetKey(["x", "y"])
    assert dg.AssetKey("a").with_prefix("p") == dg.AssetKey(["p", "a"])
    assert dg.AssetKey("a").with_prefix(["p", "q"]).path == ["p", "q", "a"]
    assert dg.AssetKey(["a", "b"]).to_python_identifier() == "a__b"


def test_asset_key_equality_hash_and_order():
    assert dg.AssetKey(["a"]) == dg.AssetKey("a")
    assert dg.AssetKey("a") != dg.AssetKey("b")
    assert len({dg.AssetKey("a"), dg.AssetKey(["a"]), dg.AssetKey("b")}) == 2
    assert dg.AssetKey("a") < dg.AssetKey("b")
    assert sorted([dg.AssetKey("b"), dg.AssetKey(["a", "z"]), dg.AssetKey("a")]) == [
        dg.AssetKey("a"), dg.AssetKey(["a", "z"]), dg.AssetKey("b"),
    ]
    assert {dg.AssetKey("a"): 1}[dg.AssetKey(["a"])] == 1


def test_asset_check_key():
    check_key = dg.AssetCheckKey(dg.AssetKey("a"), "c")
    assert check_key.asset_key == dg.AssetKey("a")
    assert check_key.name == "c"
    assert check_key.to_user_string() == "a:c"
    assert repr(check_key) == "AssetCheckKey(asset_key=AssetKey(['a']), name='c')"
    assert check_key == dg.AssetCheckKey(dg.AssetKey(["a"]), "c")


def test_asset_decorator_defaults():
    @dg.asset
    def orders():
        return [1, 2]

    assert isinstance(orders, dg.AssetsDefinition)
    assert orders.key == dg.AssetKey("orders")
    assert orders.keys == {dg.AssetKey("orders")}
    assert orders.op.name == "orders"
    assert orders.group_names_by_key == {dg.AssetKey("orders"): "default"}
    assert orders.dependency_keys == set()
    assert orders.partitions_def is None
    assert orders.check_specs_by_output_name == {}


def test_key_prefix_prefixes_only_the_asset_itself():
    @dg.asset(key_prefix=["p", "q"])
    def b(a):
        return a

    assert b.key == dg.AssetKey(["p", "q", "b"])
    assert b.op.name == "p__q__b"
    assert b.dependency_keys == {dg.AssetKey("a")}
    assert b.keys_by_input_name == {"a": dg.AssetKey("a")}


def test_key_argument_and_deps():
    @dg.asset(key=["k1", "k2"], deps=["z", dg.AssetKey("y")])
    def c():
        return 1

    assert c.key == dg.AssetKey(["k1", "k2"])
    assert c.op.name == "k1__k2"
    assert c.dependency_keys == {dg.AssetKey("y"), dg.AssetKey("z")}


def test_key_with_name_is_rejected():
    with pytest.raises(dg.DagsterInvalidDefinitionError):

        @dg.asset(key="x", name="y")
        def z():
            return 1


def test_ins_map_parameters_to_keys():
    @dg.asset(ins={"up": dg.AssetIn(key=["raw", "events"]), "other": dg.AssetIn(key_prefix="pre")})
    def cleaned(up, other):
        return up

    assert cleaned.keys_by_input_name == {
        "up": dg.AssetKey(["raw", "events"]),
        "other": dg.AssetKey(["pre", "other"]),
    }


def test_deps_accept_assets_and_specs():
    @dg.asset
    def a():
        return 1

    spec = dg.AssetSpec("ext")

    @dg.asset(deps=[a, spec, dg.AssetDep("third")])
    def b():
        return 2

    assert b.dependency_keys == {dg.AssetKey("a"), dg.AssetKey("ext"), dg.AssetKey("third")}


def test_asset_attributes():
    @dg.asset(group_name="sales", metadata={"owner": "x"}, tags={"t": "v"}, owners=["team:data"], kinds={"python"},
              code_version="3", description="Orders.")
    def orders():
        return 1

    key = dg.AssetKey("orders")
    assert orders.group_names_by_key == {key: "sales"}
    assert orders.metadata_by_key[key] == {"owner": "x"}
    assert orders.tags_by_key[key] == {"t": "v", "dagster/kind/python": ""}
    assert orders.owners_by_key == {key: ["team:data"]}
    assert orders.code_versions_by_key == {key: "3"}
    assert orders.descriptions_by_key == {key: "Orders."}
    spec = orders.get_asset_spec()
    assert spec.key == key and spec.group_name == "sales" and spec.kinds == {"python"}


def test_multi_asset_outs_and_internal_deps():
    @dg.multi_asset(
        outs={"x": dg.AssetOut(), "y": dg.AssetOut(key_prefix="pre", group_name="g")},
        internal_asset_deps={"x": {dg.AssetKey("up1")}, "y": {dg.AssetKey("up2")}},
        deps=["up1", "up2"],
    )
    def m():
        return 1, 2

    assert m.keys == {dg.AssetKey("x"), dg.AssetKey(["pre", "y"])}
    assert m.op.name == "m"
    assert [o.name for o in m.op.output_defs] == ["x", "y"]
    assert m.asset_deps[dg.AssetKey("x")] == {dg.AssetKey("up1")}
    assert m.asset_deps[dg.AssetKey(["pre", "y"])] == {dg.AssetKey("up2")}
    assert m.group_names_by_key[dg.AssetKey(["pre", "y"])] == "g"
    assert m.group_names_by_key[dg.AssetKey("x")] == "default"
    with pytest.raises(Exception, match="multiple asset keys"):
        _ = m.key


def test_multi_asset_from_specs():
    @dg.multi_asset(specs=[dg.AssetSpec("s1", deps=["raw"]), dg.AssetSpec(["s", "2"], skippable=True)])
    def from_specs():
        yield dg.MaterializeResult(asset_key="s1")

    assert from_specs.keys == {dg.AssetKey("s1"), dg.AssetKey(["s", "2"])}
    assert from_specs.asset_deps[dg.AssetKey("s1")] == {dg.AssetKey("raw")}
    assert from_specs.dependency_keys == {dg.AssetKey("raw")}


def test_check_specs_on_asset_add_outputs():
    @dg.multi_asset(
        outs={"x": dg.AssetOut(), "y": dg.AssetOut(key_prefix="pre")},
        check_specs=[dg.AssetCheckSpec("cc", asset="x")],
    )
    def m(b):
        return 1, 2

    assert [o.name for o in m.op.output_defs] == ["x", "y", "x_cc"]
    assert m.check_keys == {dg.AssetCheckKey(dg.AssetKey("x"), "cc")}
    assert list(m.check_specs)[0].name == "cc"


def test_asset_spec_fields():
    spec = dg.AssetSpec("raw", group_name="g", metadata={"m": 1}, deps=["up"], kinds={"s3"})
    assert spec.key == dg.AssetKey("raw")
    assert spec.deps == [dg.AssetDep("up")]
    assert spec.tags == {"dagster/kind/s3": ""}
    assert spec.replace_attributes(group_name="h").group_name == "h"
    assert spec.merge_attributes(metadata={"n": 2}).metadata == {"m": 1, "n": 2}


def test_source_asset_defaults():
    source = dg.SourceAsset("raw", io_manager_key="warehouse")
    assert source.key == dg.AssetKey("raw")
    assert source.io_manager_key == "warehouse"
    assert source.group_name == "default"
    assert dg.SourceAsset(["a", "b"]).io_manager_key is None


def test_direct_invocation_returns_the_value():
    @dg.asset
    def plain():
        return 3

    @dg.asset
    def with_input(plain):
        return plain + 1

    @dg.asset
    def with_context(context: dg.AssetExecutionContext, plain):
        return f"{context.asset_key.to_user_string()}:{plain}"

    assert plain() == 3
    assert with_input(4) == 5
    assert with_context(dg.build_asset_context(), 1) == "with_context:1"


def test_build_asset_context_partition_key():
    @dg.asset(partitions_def=dg.StaticPartitionsDefinition(["x", "y"]))
    def part(context: dg.AssetExecutionContext):
        return context.partition_key

    assert part(dg.build_asset_context(partition_key="y")) == "y"


def test_graph_asset_builds_on_a_graph():
    @dg.op
    def fetch():
        return 2

    @dg.op
    def double(n):
        return n * 2

    @dg.graph_asset
    def doubled():
        return double(fetch())

    assert doubled.key == dg.AssetKey("doubled")
    result = dg.materialize([doubled])
    assert result.success
    assert result.asset_value("doubled") == 4
    assert [m.asset_key for m in result.asset_materializations_for_node("doubled")] == [dg.AssetKey("doubled")]


def test_load_assets_from_current_module_finds_module_assets():
    assets = dg.load_assets_from_modules([__import__(__name__, fromlist=["x"])])
    keys = {k for a in assets if isinstance(a, dg.AssetsDefinition) for k in a.keys}
    assert dg.AssetKey("module_level") in keys


def test_load_assets_with_group_and_prefix():
    module = __import__(__name__, fromlist=["x"])
    assets = dg.load_assets_from_modules([module], group_name="grp", key_prefix="pfx")
    by_key = {k: a for a in assets if isinstance(a, dg.AssetsDefinition) for k in a.keys}
    assert dg.AssetKey(["pfx", "module_level"]) in by_key
    assert by_key[dg.AssetKey(["pfx", "module_level_child"])].group_names_by_key == {
        dg.AssetKey(["pfx", "module_level_child"]): "grp"
    }
    assert by_key[dg.AssetKey(["pfx", "module_level_child"])].dependency_keys == {dg.AssetKey(["pfx", "module_level"])}


@dg.asset
def module_level():
    return 1


@dg.asset
def module_level_child(module_level):
    return module_level + 1


def test_graph_asset_reads_an_upstream_asset_from_storage():
    @dg.asset
    def up():
        return 3

    @dg.op
    def add_one(x):
        return x + 1

    @dg.op
    def double(x):
        return x * 2

    @dg.graph_asset
    def g(up):
        return double(add_one(up))

    assert g.keys_by_input_name == {"up": dg.AssetKey("up")}
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([up, g], instance=instance)
    assert result.asset_value("g") == 8
    assert [e.step_key for e in result.get_asset_materialization_events()] == ["up", "g.double"]
    assert dg.materialize([up, g], instance=instance, selection=[g]).asset_value("g") == 8


def test_map_asset_specs_changes_specs_and_assets():
    @dg.asset
    def mapped():
        return 1

    changed = dg.map_asset_specs(
        lambda spec: spec.replace_attributes(group_name="mapped_group"), [mapped, dg.AssetSpec("ext")]
    )
    assert changed[0].group_names_by_key == {dg.AssetKey("mapped"): "mapped_group"}
    assert changed[1].group_name == "mapped_group"


def test_graph_multi_asset_maps_graph_outputs_to_assets():
    @dg.asset
    def raw_numbers():
        return [1, 2, 3, 4]

    @dg.op
    def evens(x):
        return [i for i in x if i % 2 == 0]

    @dg.op
    def odds(x):
        return [i for i in x if i % 2]

    @dg.graph_multi_asset(outs={"e": dg.AssetOut(), "o": dg.AssetOut(key_prefix="pre")})
    def split(raw_numbers):
        return {"e": evens(raw_numbers), "o": odds(raw_numbers)}

    @dg.asset
    def total(e, o):
        return sum(e) + sum(o)

    result = dg.materialize([raw_numbers, split, total])
    assert split.keys == {dg.AssetKey("e"), dg.AssetKey(["pre", "o"])}
    assert result.asset_value("e") == [2, 4] and result.asset_value(["pre", "o"]) == [1, 3]
    assert [m.asset_key for m in result.asset_materializations_for_node("split.odds")] == [dg.AssetKey(["pre", "o"])]
    assert result.asset_value("total") == 10


def test_compute_kind_is_an_op_tag_and_kinds_are_asset_tags():
    @dg.asset(compute_kind="python")
    def computed():
        return 1

    @dg.asset(kinds={"pandas"})
    def kinded():
        return 1

    assert computed.op.tags == {"dagster/compute_kind": "python"}
    assert computed.tags_by_key == {dg.AssetKey("computed"): {}}
    assert kinded.tags_by_key == {dg.AssetKey("kinded"): {"dagster/kind/pandas": ""}}
