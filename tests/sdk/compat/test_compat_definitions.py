"""Definitions, selection and module-loading programs run with Orchestra; expected values are what Dagster 1.13 printed."""

import types

import pytest

import orchestra as dg

_MISSING = (
    "resource with key '{key}' required by op '{op}' was not provided. Please provide a ResourceDefinition to key "
    "'{key}', or change the required key to one of the following keys which points to an ResourceDefinition: "
    "['io_manager']"
)


def _first_line(exc):
    return str(exc).splitlines()[0]


class WarehouseResource(dg.ConfigurableResource):
    conn: str

    def query(self, q):
        return f"{self.conn}:{q}"


@dg.asset
def tables(warehouse: WarehouseResource):
    return warehouse.query("show tables")


def test_definitions_bind_resources_to_asset_jobs():
    @dg.asset(required_resource_keys={"api"})
    def api_data(context):
        return context.resources.api

    @dg.asset
    def combined(tables, api_data):
        return (tables, api_data)

    defs = dg.Definitions(
        assets=[tables, api_data, combined],
        resources={"warehouse": WarehouseResource(conn="pg"), "api": dg.ResourceDefinition.hardcoded_resource("API")},
        jobs=[dg.define_asset_job("all_job", selection="*")],
    )
    result = defs.resolve_job_def("all_job").execute_in_process()
    assert (result.success, result.output_for_node("combined")) == (True, ("pg:show tables", "API"))
    assert sorted(j.name for j in defs.resolve_all_job_defs()) == ["__ASSET_JOB", "all_job"]
    assert sorted(k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()) == ["api_data", "combined", "tables"]


def test_definitions_errors_for_missing_resources_duplicates_and_merge_conflicts():
    with pytest.raises(dg.DagsterInvalidDefinitionError) as info:
        dg.Definitions(assets=[tables]).resolve_job_def("__ASSET_JOB")
    assert _first_line(info.value) == _MISSING.format(key="warehouse", op="tables")
    with pytest.raises(dg.DagsterInvalidDefinitionError) as info:
        dg.Definitions.validate_loadable(dg.Definitions(assets=[tables]))
    assert _first_line(info.value) == _MISSING.format(key="warehouse", op="tables")

    @dg.asset(name="tables")
    def tables_dup():
        return 0

    with pytest.raises(dg.DagsterInvalidDefinitionError, match=r"^Duplicate asset key: AssetKey\(\['tables'\]\)$"):
        dg.Definitions.validate_loadable(dg.Definitions(assets=[tables, tables_dup], resources={"warehouse": WarehouseResource(conn="x")}))
    merged = dg.Definitions.merge(dg.Definitions(assets=[tables]), dg.Definitions(resources={"warehouse": WarehouseResource(conn="m")}))
    assert merged.resolve_implicit_global_asset_job_def().execute_in_process().output_for_node("tables") == "m:show tables"
    with pytest.raises(dg.DagsterInvariantViolationError, match="^Definitions objects 0 and 1 have different resources with same key 'warehouse'$"):
        dg.Definitions.merge(dg.Definitions(resources={"warehouse": WarehouseResource(conn="a")}),
                             dg.Definitions(resources={"warehouse": WarehouseResource(conn="b")}))


def test_definitions_validation_of_jobs_schedules_and_selections():
    @dg.asset(required_resource_keys={"db"})
    def needs_db(context):
        return 1

    @dg.op(required_resource_keys={"slack"})
    def notify(context):
        pass

    @dg.job
    def notify_job():
        notify()

    with pytest.raises(dg.DagsterInvalidDefinitionError) as info:
        dg.Definitions.validate_loadable(dg.Definitions(jobs=[notify_job]))
    assert _first_line(info.value) == _MISSING.format(key="slack", op="notify")
    dg.Definitions.validate_loadable(dg.Definitions(assets=[needs_db], resources={"db": 1}))

    @dg.asset
    def x():
        return 1

    job = dg.Definitions(assets=[x], jobs=[dg.define_asset_job("j", selection="key:nope")]).resolve_job_def("j")
    assert job.name == "j"  # a wildcard that matches nothing makes an empty job
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="^Failed to resolve asset job j$") as info:
        dg.Definitions(assets=[x], jobs=[dg.define_asset_job("j", selection=["nope"])]).resolve_job_def("j")
    assert _first_line(info.value.__cause__) == (
        "AssetKey(s) ['nope'] were selected, but no AssetsDefinition objects supply these keys. Make sure all keys are "
        "spelled correctly, and all AssetsDefinitions are correctly added to the `Definitions`."
    )
    missing_job = dg.ScheduleDefinition(name="s", job_name="missing", cron_schedule="@daily")
    with pytest.raises(dg.DagsterInvalidDefinitionError, match='^ScheduleDefinition "s" targets job "missing" which was not found in this repository.$'):
        dg.Definitions(schedules=[missing_job]).resolve_schedule_def("s")
    bound = dg.with_resources([needs_db], {"db": dg.ResourceDefinition.hardcoded_resource("conn")})
    assert dg.materialize(bound).success
    defs = dg.Definitions(assets=[x], jobs=[notify_job], resources={"slack": dg.ResourceDefinition.none_resource()})
    assert defs.get_job_def("notify_job").execute_in_process().success
    assert sorted(defs.get_repository_def().job_names) == ["__ASSET_JOB", "notify_job"]


def _selection_defs():
    @dg.asset(group_name="raw", tags={"tier": "bronze"}, key_prefix=["warehouse"], kinds={"python"}, owners=["team:data"])
    def orders():
        return 1

    @dg.asset(group_name="raw", tags={"tier": "bronze"}, key_prefix=["warehouse"])
    def users():
        return 2

    @dg.asset(group_name="mart", deps=[orders, users], tags={"tier": "gold"})
    def revenue():
        return 3

    @dg.asset(group_name="mart", deps=[revenue])
    def forecast():
        return 4

    @dg.asset(deps=[forecast])
    def dashboard():
        return 5

    return dg.Definitions(assets=[orders, users, revenue, forecast, dashboard]), revenue, forecast


def test_asset_selection_methods_and_set_algebra():
    defs, revenue, forecast = _selection_defs()
    graph = defs.resolve_asset_graph()

    def keys(selection):
        return sorted(k.to_user_string() for k in selection.resolve(graph))

    raw = ["warehouse/orders", "warehouse/users"]
    assert keys(dg.AssetSelection.all()) == ["dashboard", "forecast", "revenue", *raw]
    assert keys(dg.AssetSelection.groups("raw")) == raw
    assert keys(dg.AssetSelection.key_prefixes("warehouse")) == raw
    assert keys(dg.AssetSelection.tag("tier", "gold")) == ["revenue"]
    assert keys(dg.AssetSelection.assets(revenue).upstream()) == ["revenue", *raw]
    assert keys(dg.AssetSelection.assets(revenue).downstream(depth=1)) == ["forecast", "revenue"]
    assert keys(dg.AssetSelection.assets(revenue).downstream(include_self=False)) == ["dashboard", "forecast"]
    assert keys(dg.AssetSelection.all().roots()) == raw
    assert keys(dg.AssetSelection.all().sinks()) == ["dashboard"]
    assert keys(dg.AssetSelection.groups("mart") - dg.AssetSelection.assets(forecast)) == ["revenue"]
    assert keys(dg.AssetSelection.groups("mart") | dg.AssetSelection.groups("raw")) == ["forecast", "revenue", *raw]
    assert keys(dg.AssetSelection.groups("mart") & dg.AssetSelection.tag("tier", "gold")) == ["revenue"]
    assert keys(dg.AssetSelection.keys("warehouse/orders", ["warehouse", "users"])) == raw
    assert keys(dg.AssetSelection.groups("mart").required_multi_asset_neighbors()) == ["forecast", "revenue"]
    with pytest.raises(dg.DagsterInvalidSubsetError) as info:
        dg.AssetSelection.assets("nope").resolve(graph)
    assert _first_line(info.value).startswith("AssetKey(s) ['nope'] were selected, but no AssetsDefinition objects supply these keys.")
    assert str(dg.AssetSelection.groups("raw").upstream()) == '+group:"raw"'


def test_selection_strings_new_syntax_and_bare_legacy_clauses():
    defs, _, _ = _selection_defs()
    graph = defs.resolve_asset_graph()

    def keys(text):
        return sorted(k.to_user_string() for k in dg.AssetSelection.from_string(text).resolve(graph))

    raw = ["warehouse/orders", "warehouse/users"]
    assert keys("group:mart") == ["forecast", "revenue"]
    assert keys("+revenue") == ["revenue", *raw]
    assert keys("revenue+") == ["forecast", "revenue"]  # a bare clause: one layer per "+"
    assert keys("key:revenue+") == ["dashboard", "forecast", "revenue"]  # the new syntax: every layer
    assert keys("revenue++") == ["dashboard", "forecast", "revenue"]
    assert keys("*dashboard") == ["dashboard", "forecast", "revenue", *raw]
    assert keys("tag:tier=bronze") == raw
    assert keys("group:raw or key:dashboard") == ["dashboard", *raw]
    assert keys('owner:"team:data"') == ["warehouse/orders"]
    assert keys("kind:python") == ["warehouse/orders"]
    assert keys("+key:forecast and not group:raw") == ["forecast", "revenue"]
    assert keys("key:warehouse/*") == raw
    assert keys("1+key:forecast") == ["forecast", "revenue"]
    assert keys("sinks(*)") == ["dashboard"]
    assert keys("roots(*)") == raw
    for bad in ("group:", "owner:team:data"):
        with pytest.raises(dg.DagsterError, match=f"^Invalid selection string: {bad}$") as info:
            dg.AssetSelection.from_string(bad).resolve(graph)
        assert type(info.value).__name__ == "DagsterInvalidAssetSelectionError"  # not exported by Dagster


def _module(name, **attributes):
    module = types.ModuleType(name)
    module.__dict__.update(attributes)
    return module


def test_load_assets_from_modules_with_prefixes_groups_and_conflicts():
    @dg.asset(group_name="sales")
    def orders():
        return 1

    @dg.asset
    def revenue(orders):
        return orders * 10

    @dg.multi_asset(outs={"clicks": dg.AssetOut(), "views": dg.AssetOut()})
    def traffic():
        return 1, 2

    @dg.asset_check(asset="clicks")
    def clicks_ok():
        return dg.AssetCheckResult(passed=True)

    sales = _module("sales", orders=orders, revenue=revenue, not_an_asset=5, spec=dg.AssetSpec("ext"))
    marketing = _module("marketing", traffic=traffic, clicks_ok=clicks_ok)
    assets = dg.load_assets_from_modules([sales, marketing])
    assert sorted(type(a).__name__ for a in assets) == ["AssetsDefinition"] * 3
    assert sorted(k.to_user_string() for a in assets for k in a.keys) == ["clicks", "orders", "revenue", "views"]
    with pytest.raises(dg.DagsterInvalidDefinitionError) as info:
        dg.load_assets_from_modules([sales], group_name="grp", key_prefix="pre")
    assert _first_line(info.value) == (
        "Asset spec pre/orders has group name sales, which conflicts with the group name grp provided in "
        "load_assets_from_modules."
    )
    assets = dg.load_assets_from_modules([marketing], group_name="grp", key_prefix="pre")
    assert sorted((k.to_user_string(), a.group_names_by_key[k]) for a in assets for k in a.keys) == [("pre/clicks", "grp"), ("pre/views", "grp")]
    defs = dg.Definitions(assets=dg.load_assets_from_modules([sales], key_prefix=["a", "b"]))
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process()
    assert sorted(e.asset_key.to_user_string() for e in result.get_asset_materialization_events()) == ["a/b/orders", "a/b/revenue"]
    assert result.output_for_node("revenue") == 10
    checks = dg.load_asset_checks_from_modules([marketing])
    assert [sorted(str(k) for k in c.check_keys) for c in checks] == [["AssetCheckKey(asset_key=AssetKey(['clicks']), name='clicks_ok')"]]
    with pytest.raises(dg.DagsterInvalidDefinitionError) as info:
        dg.load_assets_from_modules([_module("m", src=dg.SourceAsset("s", group_name="g3"))], group_name="grp")
    assert _first_line(info.value) == "Attempted to override group name to grp for SourceAsset s, which already has group name g3. s"


def test_asset_jobs_from_definitions_keep_values_in_the_instance_between_runs():
    @dg.asset
    def a1():
        return 10

    @dg.asset
    def a2(a1):
        return a1 + 1

    @dg.op
    def o1():
        return 1

    @dg.op
    def o2(x):
        return x

    @dg.job
    def opjob():
        o2(o1())

    defs = dg.Definitions(assets=[a1, a2], jobs=[dg.define_asset_job("up", selection=[a1]), dg.define_asset_job("down", selection=[a2]), opjob])
    instance = dg.DagsterInstance.ephemeral()

    def stored_paths(result):  # the filesystem IO manager reports where it wrote; the in-memory one does not
        return [e.event_specific_data.metadata.get("path") is not None for e in result.all_events if e.event_type_value == "HANDLED_OUTPUT"]

    assert stored_paths(defs.resolve_job_def("up").execute_in_process(instance=instance)) == [True]
    down = defs.resolve_job_def("down").execute_in_process(instance=instance)
    assert (down.success, down.output_for_node("a2"), stored_paths(down)) == (True, 11, [True])
    assert stored_paths(defs.resolve_job_def("opjob").execute_in_process(instance=instance)) == [False, False]
    with pytest.raises(FileNotFoundError):  # a fresh instance has no stored a1
        defs.resolve_job_def("down").execute_in_process()


def test_asset_job_config_subsets_and_duplicate_job_names():
    class Cfg(dg.Config):
        factor: int = 1

    @dg.asset(group_name="g1")
    def a1(config: Cfg):
        return 10 * config.factor

    @dg.asset(group_name="g1")
    def a2(a1):
        return a1 + 1

    @dg.asset(group_name="g2")
    def b1(a2):
        return a2 * 2

    job = dg.define_asset_job("g1_job", selection=dg.AssetSelection.groups("g1"), config={"ops": {"a1": {"config": {"factor": 3}}}}, description="g1 only")
    defs = dg.Definitions(assets=[a1, a2, b1], jobs=[job, dg.define_asset_job("down_job", selection=dg.AssetSelection.assets(a2).downstream())],
                          executor=dg.in_process_executor)
    resolved = defs.resolve_job_def("g1_job")
    assert (resolved.description, resolved.executor_def.name) == ("g1 only", "in_process")
    result = resolved.execute_in_process()
    assert (result.output_for_node("a2"), sorted(e.asset_key.to_user_string() for e in result.get_asset_materialization_events())) == (31, ["a1", "a2"])
    implicit = defs.resolve_implicit_global_asset_job_def()
    result = implicit.execute_in_process(asset_selection=[dg.AssetKey("a1"), dg.AssetKey("a2")])
    assert (result.success, sorted(e.asset_key.to_user_string() for e in result.get_asset_materialization_events()), result.output_for_node("a2")) == (
        True, ["a1", "a2"], 11,
    )
    subset = implicit.get_subset(asset_selection={dg.AssetKey("a1")})
    assert (subset.name, sorted(n.name for n in subset.graph.node_defs)) == ("__ASSET_JOB", ["a1"])
    assert sorted(defs.resolve_job_def("down_job").graph.node_dict) == ["a2", "b1"]
    assert sorted(implicit.graph.node_dict) == ["a1", "a2", "b1"]
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="^Duplicate definition found for unresolved job 'g1_job'$"):
        dg.Definitions(jobs=[job, dg.define_asset_job("g1_job")], assets=[a1]).resolve_all_job_defs()
