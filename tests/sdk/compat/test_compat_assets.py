"""Asset programs of the kind found in Dagster's docs, run with Orchestra; expected values are what Dagster 1.13 printed."""

import pytest

import orchestra as dg


def _materialized(result):
    return sorted(e.asset_key.to_user_string() for e in result.get_asset_materialization_events())


def _first_line(exc):
    return str(exc).splitlines()[0]


def test_materialize_chain_returns_values_events_and_attributes():
    @dg.asset
    def raw_orders():
        return [1, 2, 3]

    @dg.asset(group_name="analytics", compute_kind="python")
    def order_total(raw_orders):
        return sum(raw_orders)

    @dg.asset(deps=[order_total])
    def report():
        return "ok"

    result = dg.materialize([raw_orders, order_total, report])
    assert result.success
    assert [m.asset_key.to_user_string() for m in result.asset_materializations_for_node("order_total")] == ["order_total"]
    assert result.output_for_node("order_total") == 6
    assert result.asset_value("order_total") == 6
    assert [e.event_type_value for e in result.all_events if e.step_key in (None, "order_total")] == [
        "PIPELINE_START", "ENGINE_EVENT", "RESOURCE_INIT_STARTED", "RESOURCE_INIT_SUCCESS", "LOGS_CAPTURED",
        "STEP_START", "LOADED_INPUT", "STEP_INPUT", "STEP_OUTPUT", "ASSET_MATERIALIZATION", "HANDLED_OUTPUT",
        "STEP_SUCCESS", "ENGINE_EVENT", "PIPELINE_SUCCESS",
    ]
    assert _materialized(result) == ["order_total", "raw_orders", "report"]
    assert order_total.group_names_by_key == {dg.AssetKey(["order_total"]): "analytics"}
    assert raw_orders.group_names_by_key == {dg.AssetKey(["raw_orders"]): "default"}
    assert order_total.op.tags == {"dagster/compute_kind": "python"}
    assert sorted(k.to_user_string() for k in report.dependency_keys) == ["order_total"]


def test_materialize_to_memory_subset_cannot_load_upstream_from_memory():
    @dg.asset
    def a():
        return 1

    @dg.asset
    def b(a):
        return a + 1

    @dg.asset
    def c(b):
        return b * 10

    @dg.asset
    def d(a, c):
        return a + c

    result = dg.materialize_to_memory([a, b, c, d])
    assert {k: result.output_for_node(k) for k in "abcd"} == {"a": 1, "b": 2, "c": 20, "d": 21}
    # Dagster's artificial upstream context for an asset outside the run: step "none", placeholder run id
    with pytest.raises(KeyError) as info:
        dg.materialize_to_memory([a, b, c, d], selection="c+")
    assert info.value.args[0] == ("__EPHEMERAL_RUN_ID", "none", "b")


def test_subsettable_multi_asset_sees_only_selected_outputs():
    @dg.multi_asset(
        outs={"users": dg.AssetOut(is_required=False), "orders": dg.AssetOut(key_prefix=["shop"], is_required=False)},
        can_subset=True,
    )
    def load(context: dg.AssetExecutionContext):
        seen.append(sorted(k.to_user_string() for k in context.selected_asset_keys))
        for name in sorted(context.selected_output_names):
            yield dg.Output(name.upper(), output_name=name)

    @dg.asset
    def summary(users, orders):
        return users + orders

    seen = []
    result = dg.materialize_to_memory([load, summary])
    assert (result.success, result.output_for_node("summary")) == (True, "USERSORDERS")
    assert sorted(k.to_user_string() for k in load.keys) == ["shop/orders", "users"]
    result = dg.materialize_to_memory([load, summary], selection=["users"])
    assert _materialized(result) == ["users"]
    assert seen == [["shop/orders", "users"], ["users"]]


def test_spec_multi_asset_results_and_non_subsettable_selection_error():
    @dg.multi_asset(specs=[dg.AssetSpec("x"), dg.AssetSpec("y", deps=["x"])])
    def xy():
        yield dg.MaterializeResult(asset_key="x", metadata={"n": 1})
        yield dg.MaterializeResult(asset_key="y", metadata={"n": 2})

    result = dg.materialize([xy])
    mats = [e.event_specific_data.materialization for e in result.get_asset_materialization_events()]
    assert [(m.asset_key.to_user_string(), {k: v.value for k, v in m.metadata.items()}) for m in mats] == [
        ("x", {"n": 1}), ("y", {"n": 2}),
    ]
    with pytest.raises(dg.DagsterInvalidDefinitionError) as info:
        dg.materialize([xy], selection=["y"])
    assert _first_line(info.value) == "Failed to resolve asset job __ephemeral_asset_job__"


def test_subset_of_multi_asset_still_answers_for_unselected_outputs():
    def outcome(fn):
        try:
            return ("ok", _materialized(fn()))
        except Exception as exc:
            return (type(exc).__name__, _first_line(exc))

    @dg.multi_asset(outs={"users": dg.AssetOut(), "orders": dg.AssetOut()}, can_subset=True)
    def required_outs(context):
        for name in sorted(context.selected_output_names):
            yield dg.Output(1, output_name=name)

    @dg.multi_asset(outs={"u3": dg.AssetOut(is_required=False), "o3": dg.AssetOut(is_required=False)}, can_subset=True)
    def yields_all(context):
        yield dg.Output(1, output_name="u3")
        yield dg.Output(2, output_name="o3")

    @dg.multi_asset(specs=[dg.AssetSpec("s1", skippable=True), dg.AssetSpec("s2", skippable=True)], can_subset=True)
    def spec_subset(context):
        for key in sorted(context.selected_asset_keys):
            yield dg.MaterializeResult(asset_key=key)

    assert outcome(lambda: dg.materialize([required_outs], selection=["users"])) == (
        "DagsterStepOutputNotFoundError",
        'Core compute for op "required_outs" did not return an output for non-optional output "orders"',
    )
    assert outcome(lambda: dg.materialize([required_outs])) == ("ok", ["orders", "users"])
    assert outcome(lambda: dg.materialize([yields_all], selection=["u3"])) == (
        "DagsterInvariantViolationError",
        "Core compute for op \"yields_all\" returned an output \"o3\" that is not selected. The selected outputs are "
        "{'u3'}",
    )
    assert outcome(lambda: dg.materialize([spec_subset], selection=["s2"])) == ("ok", ["s2"])


def test_asset_checks_report_results_with_severity_and_metadata():
    @dg.asset
    def orders():
        return [1, 2, -3]

    @dg.asset_check(asset=orders)
    def no_negatives(orders):
        bad = [x for x in orders if x < 0]
        return dg.AssetCheckResult(passed=not bad, metadata={"bad": len(bad)})

    @dg.asset_check(asset=orders, description="warn only")
    def some_rows(orders):
        return dg.AssetCheckResult(passed=len(orders) > 5, severity=dg.AssetCheckSeverity.WARN)

    result = dg.materialize([orders, no_negatives, some_rows])
    assert result.success
    evaluations = sorted(result.get_asset_check_evaluations(), key=lambda e: e.check_name)
    assert [(e.asset_key.to_user_string(), e.check_name, e.passed, str(e.severity), {k: v.value for k, v in e.metadata.items()})
            for e in evaluations] == [
        ("orders", "no_negatives", False, "AssetCheckSeverity.ERROR", {"bad": 1}),
        ("orders", "some_rows", False, "AssetCheckSeverity.WARN", {}),
    ]
    assert sorted(str(k) for k in no_negatives.check_keys) == [
        "AssetCheckKey(asset_key=AssetKey(['orders']), name='no_negatives')",
    ]


def test_failed_blocking_checks_fail_the_run_and_stop_downstream():
    @dg.asset(check_specs=[dg.AssetCheckSpec("positive", asset="source", blocking=True)])
    def source():
        yield dg.Output(-1)
        yield dg.AssetCheckResult(check_name="positive", passed=False)

    @dg.asset
    def downstream(source):
        return source * 2

    result = dg.materialize([source, downstream], raise_on_error=False)
    assert not result.success
    assert _materialized(result) == ["source"]
    wanted = ("STEP_FAILURE", "STEP_SKIPPED", "ASSET_CHECK_EVALUATION", "STEP_SUCCESS", "PIPELINE_FAILURE", "PIPELINE_SUCCESS")
    assert [(e.event_type_value, e.step_key) for e in result.all_events if e.event_type_value in wanted] == [
        ("ASSET_CHECK_EVALUATION", "source"), ("STEP_FAILURE", "source"), ("PIPELINE_FAILURE", None),
    ]
    with pytest.raises(dg.DagsterError) as info:  # not exported by Dagster; users catch DagsterError
        dg.materialize([source, downstream])
    assert (type(info.value).__name__, _first_line(info.value)) == (
        "DagsterAssetCheckFailedError", "1 blocking asset check failed with ERROR severity:",
    )

    @dg.asset
    def table():
        return 5

    @dg.asset_check(asset=table, blocking=True)
    def table_ok(table):
        return dg.AssetCheckResult(passed=table > 10)

    @dg.asset
    def child(table):
        return table

    result = dg.materialize([table, table_ok, child], raise_on_error=False)
    assert (result.success, _materialized(result)) == (False, ["table"])
    assert [(e.event_type_value, e.step_key) for e in result.all_events
            if e.event_type_value in ("STEP_FAILURE", "STEP_SKIPPED", "STEP_SUCCESS")] == [
        ("STEP_SUCCESS", "table"), ("STEP_FAILURE", "table_table_ok"),
    ]


def test_warn_blocking_check_and_multi_asset_check_results():
    @dg.asset(check_specs=[dg.AssetCheckSpec("has_rows", asset="items"), dg.AssetCheckSpec("fresh", asset="items", blocking=True)])
    def items():
        return dg.MaterializeResult(
            metadata={"rows": 3},
            check_results=[
                dg.AssetCheckResult(check_name="has_rows", passed=True),
                dg.AssetCheckResult(check_name="fresh", passed=False, severity=dg.AssetCheckSeverity.WARN),
            ],
        )

    @dg.asset(deps=[items])
    def after_items():
        return 1

    result = dg.materialize([items, after_items])
    assert (result.success, _materialized(result)) == (True, ["after_items", "items"])
    assert sorted((e.check_name, e.passed, str(e.severity)) for e in result.get_asset_check_evaluations()) == [
        ("fresh", False, "AssetCheckSeverity.WARN"), ("has_rows", True, "AssetCheckSeverity.ERROR"),
    ]

    @dg.multi_asset_check(specs=[dg.AssetCheckSpec("c1", asset="items"), dg.AssetCheckSpec("c2", asset="after_items")])
    def two_checks():
        yield dg.AssetCheckResult(asset_key="items", check_name="c1", passed=True)
        yield dg.AssetCheckResult(asset_key="after_items", check_name="c2", passed=False, metadata={"why": "x"})

    result = dg.materialize([items, after_items, two_checks])
    assert sorted((e.asset_key.to_user_string(), e.check_name, e.passed) for e in result.get_asset_check_evaluations()) == [
        ("after_items", "c2", False), ("items", "c1", True), ("items", "fresh", False), ("items", "has_rows", True),
    ]
    # selecting after_items picks check c2, which would split the non-subsettable multi-check
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="^Failed to resolve asset job __ephemeral_asset_job__$"):
        dg.materialize([items, after_items, two_checks], selection=dg.AssetSelection.assets(after_items))


def test_non_subsettable_definitions_must_be_selected_with_all_their_checks():
    @dg.asset(check_specs=[dg.AssetCheckSpec("c1", asset="x"), dg.AssetCheckSpec("c2", asset="x")])
    def x():
        yield dg.Output(1)
        yield dg.AssetCheckResult(check_name="c1", passed=True)
        yield dg.AssetCheckResult(check_name="c2", passed=True)

    @dg.asset
    def y():
        return 1

    @dg.multi_asset_check(specs=[dg.AssetCheckSpec("m1", asset="y"), dg.AssetCheckSpec("m2", asset="y")])
    def ychecks():
        yield dg.AssetCheckResult(asset_key="y", check_name="m1", passed=True)
        yield dg.AssetCheckResult(asset_key="y", check_name="m2", passed=True)

    @dg.multi_asset_check(specs=[dg.AssetCheckSpec("s1", asset="y"), dg.AssetCheckSpec("s2", asset="x")], can_subset=True)
    def subsettable(context):
        for key in sorted(context.selected_asset_check_keys):
            yield dg.AssetCheckResult(asset_key=key.asset_key, check_name=key.name, passed=True)

    def outcome(selection):
        try:
            result = dg.materialize([x, y, ychecks, subsettable], selection=selection)
        except dg.DagsterInvalidDefinitionError as exc:
            cause = _first_line(exc.__cause__)
            assert cause.endswith("This AssetsDefinition does not support subsetting. Please select all asset and "
                                  "check keys produced by this asset.")
            return cause.split("'")[1]  # the definition refused
        return (_materialized(result), sorted(e.check_name for e in result.get_asset_check_evaluations()))

    c1, m1, s1 = dg.AssetCheckKey(dg.AssetKey("x"), "c1"), dg.AssetCheckKey(dg.AssetKey("y"), "m1"), dg.AssetCheckKey(dg.AssetKey("y"), "s1")
    refused = "x"
    assert outcome(dg.AssetSelection.assets(x)) == (["x"], ["c1", "c2", "s2"])
    assert outcome(dg.AssetSelection.assets(x) - dg.AssetSelection.checks(dg.AssetCheckKey(dg.AssetKey("x"), "c2"))) == refused
    assert outcome(dg.AssetSelection.assets(x).without_checks()) == refused
    assert outcome(dg.AssetSelection.checks(c1)) == refused
    assert outcome(dg.AssetSelection.assets(y)) == (["y"], ["m1", "m2", "s1"])
    assert outcome(dg.AssetSelection.checks(m1)) == "ychecks"
    assert outcome(dg.AssetSelection.checks(s1)) == ([], ["s1"])
    assert outcome(dg.AssetSelection.assets(y).without_checks() | dg.AssetSelection.checks(s1)) == (["y"], ["s1"])


def test_external_specs_and_source_assets_in_definitions():
    raw_logs = dg.AssetSpec("raw_logs", description="landed by another team", group_name="external")

    @dg.asset(deps=[raw_logs])
    def parsed_logs():
        return "parsed"

    loads = []

    class ConstIO(dg.IOManager):
        def handle_output(self, context, obj):
            pass

        def load_input(self, context):
            loads.append((context.asset_key.to_user_string(), context.upstream_output.name))
            return {"rows": 10}

    src = dg.SourceAsset(key=dg.AssetKey("legacy_table"), io_manager_key="const_io")

    @dg.asset
    def uses_source(legacy_table):
        return legacy_table["rows"] * 2

    defs = dg.Definitions(assets=[raw_logs, parsed_logs, src, uses_source], resources={"const_io": ConstIO()})
    graph = defs.resolve_asset_graph()
    assert sorted(k.to_user_string() for k in graph.get_all_asset_keys()) == ["legacy_table", "parsed_logs", "raw_logs", "uses_source"]
    assert sorted(k.to_user_string() for k in graph.materializable_asset_keys) == ["parsed_logs", "uses_source"]
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process()
    assert (result.success, _materialized(result), result.output_for_node("uses_source")) == (True, ["parsed_logs", "uses_source"], 20)
    assert loads == [("legacy_table", "legacy_table")]
    assert _materialized(dg.materialize([raw_logs, parsed_logs])) == ["parsed_logs"]


def test_selecting_an_external_asset_fails_to_resolve_the_job():
    raw_logs = dg.AssetSpec("raw_logs")
    src = dg.SourceAsset("src")

    @dg.asset(deps=[raw_logs, src])
    def parsed_logs():
        return 1

    assets = [raw_logs, src, parsed_logs]
    invalid = 'Error resolving selection for asset job "{}": Selected keys must be a subset of existing executable asset keys.'
    for selection in (["raw_logs"], "raw_logs*", dg.AssetSelection.keys("raw_logs").downstream(), "key:raw_logs"):
        with pytest.raises(dg.DagsterInvalidDefinitionError, match="^Failed to resolve asset job __ephemeral_asset_job__$") as info:
            dg.materialize(assets, selection=selection)
        assert str(info.value.__cause__).startswith(invalid.format("__ephemeral_asset_job__"))
        defs = dg.Definitions(assets=assets, jobs=[dg.define_asset_job("j", selection=selection)])
        with pytest.raises(dg.DagsterInvalidDefinitionError, match="^Failed to resolve asset job j$") as info:
            defs.resolve_job_def("j")
        assert str(info.value.__cause__).startswith(invalid.format("j"))
    # traversals that start from real assets leave external keys out; a deps-only source needs no IO manager
    for selection in ("*", dg.AssetSelection.all()):
        assert _materialized(dg.materialize(assets, selection=selection)) == ["parsed_logs"]
        job = dg.Definitions(assets=assets, jobs=[dg.define_asset_job("j", selection=selection)]).resolve_job_def("j")
        assert sorted(n.name for n in job.graph.node_defs) == ["parsed_logs"]


def test_materialize_with_resources_run_config_and_tags():
    class Api(dg.ConfigurableResource):
        base: str = "http://x"

    class FetchConfig(dg.Config):
        limit: int = 5
        name: str

    @dg.asset
    def fetched(context: dg.AssetExecutionContext, config: FetchConfig, api: Api):
        return f"{api.base}?n={config.name}&limit={config.limit}&run={context.run.tags.get('team')}"

    result = dg.materialize([fetched], resources={"api": Api(base="http://api")},
                            run_config={"ops": {"fetched": {"config": {"name": "abc"}}}}, tags={"team": "core"})
    assert (result.output_for_node("fetched"), result.dagster_run.tags.get("team")) == ("http://api?n=abc&limit=5&run=core", "core")
    result = dg.materialize([fetched], resources={"api": Api()}, run_config=dg.RunConfig(ops={"fetched": FetchConfig(name="q", limit=1)}))
    assert result.output_for_node("fetched") == "http://x?n=q&limit=1&run=None"
    with pytest.raises(dg.DagsterInvalidConfigError, match="^Error in config for job __ephemeral_asset_job__"):
        dg.materialize([fetched], resources={"api": Api()})
    with pytest.raises(dg.DagsterInvalidDefinitionError) as info:
        dg.materialize([fetched], run_config={"ops": {"fetched": {"config": {"name": "abc"}}}})
    assert _first_line(info.value) == (
        "resource with key 'api' required by op 'fetched' was not provided. Please provide a ResourceDefinition to key "
        "'api', or change the required key to one of the following keys which points to an ResourceDefinition: "
        "['io_manager']"
    )


def test_asset_attributes_from_decorator_arguments():
    @dg.asset(metadata={"source": "s3"}, tags={"priority": "high"}, owners=["alice@x.com"], code_version="2",
              kinds={"s3", "python"}, description="desc")
    def described():
        return 1

    key = dg.AssetKey("described")
    assert described.metadata_by_key[key] == {"source": "s3"}
    assert described.tags_by_key[key] == {"priority": "high", "dagster/kind/python": "", "dagster/kind/s3": ""}
    assert (described.owners_by_key[key], described.code_versions_by_key[key], described.descriptions_by_key[key]) == (
        ["alice@x.com"], "2", "desc",
    )
    spec = described.specs_by_key[key]
    assert (sorted(spec.kinds), spec.group_name) == (["python", "s3"], "default")

    @dg.asset
    def ctx_asset(context: dg.AssetExecutionContext):
        return (context.asset_key.to_user_string(), context.op_execution_context.op.name, context.has_partition_key)

    assert dg.materialize_to_memory([ctx_asset]).output_for_node("ctx_asset") == ("ctx_asset", "ctx_asset", False)


def test_graph_backed_assets_run_each_op_as_a_step():
    @dg.op
    def fetch():
        return [3, 1, 2]

    @dg.op
    def sort_it(xs):
        return sorted(xs)

    @dg.graph_asset
    def sorted_numbers():
        return sort_it(fetch())

    @dg.asset
    def top(sorted_numbers):
        return sorted_numbers[-1]

    result = dg.materialize([sorted_numbers, top])
    assert (result.success, result.output_for_node("top"), _materialized(result)) == (True, 3, ["sorted_numbers", "top"])
    assert [e.step_key for e in result.all_events if e.event_type_value == "STEP_SUCCESS"] == [
        "sorted_numbers.fetch", "sorted_numbers.sort_it", "top",
    ]
    assert (sorted_numbers.node_def.name, sorted(sorted_numbers.keys_by_output_name)) == ("sorted_numbers", ["result"])

    @dg.graph_multi_asset(outs={"evens": dg.AssetOut(), "odds": dg.AssetOut()})
    def split():
        xs = fetch()
        return {"evens": sort_it(xs), "odds": sort_it.alias("sort2")(xs)}

    result = dg.materialize([split])
    assert (result.success, _materialized(result)) == (True, ["evens", "odds"])


def test_keys_prefixes_deps_output_metadata_and_data_versions():
    with pytest.raises(dg.DagsterInvalidDefinitionError) as info:
        @dg.asset(deps=[dg.AssetDep("lake/raw/events")])
        def bad_dep():
            pass
    assert _first_line(info.value) == '"lake/raw/events" is not a valid name in Dagster. Names must be in regex ^[A-Za-z0-9_]+$.'

    @dg.asset(key_prefix=["lake", "raw"], io_manager_key="mem")
    def events():
        return [1, 2]

    @dg.asset(ins={"evts": dg.AssetIn(key=["lake", "raw", "events"])}, io_manager_key="mem")
    def counted(evts):
        return len(evts)

    @dg.asset(ins={"counted": dg.AssetIn(key_prefix=[])}, deps=[dg.AssetDep(dg.AssetKey(["lake", "raw", "events"]))])
    def final(context: dg.AssetExecutionContext, counted):
        context.add_output_metadata({"count": counted})
        context.log_event(dg.AssetObservation(asset_key="obs_target", metadata={"seen": True}))
        return dg.Output(counted * 2, metadata={"doubled": True}, data_version=dg.DataVersion("dv1"))

    assert sorted(final.node_def.input_dict) == ["counted", "lake_raw_events"]
    result = dg.materialize([events, counted, final], resources={"mem": dg.InMemoryIOManager()})
    assert (result.success, _materialized(result)) == (True, ["counted", "final", "lake/raw/events"])
    mat = [e.event_specific_data.materialization for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey("final")][0]
    assert sorted((k, v.value) for k, v in mat.metadata.items() if k != "path") == [("count", 2), ("doubled", True)]
    assert (mat.tags["dagster/data_version"], mat.tags["dagster/data_version_is_user_provided"]) == ("dv1", "true")
    assert [e.event_type_value for e in result.all_events if e.step_key == "final"] == [
        "STEP_START", "LOADED_INPUT", "STEP_INPUT", "ASSET_OBSERVATION", "STEP_OUTPUT", "ASSET_MATERIALIZATION",
        "HANDLED_OUTPUT", "STEP_SUCCESS",
    ]
    assert final.dependency_keys == {dg.AssetKey(["counted"]), dg.AssetKey(["lake", "raw", "events"])}

    @dg.asset
    def returns_mr():
        return dg.MaterializeResult(metadata={"rows": dg.MetadataValue.int(5), "path": "s3://x"}, data_version=dg.DataVersion("7"))

    mat = dg.materialize([returns_mr]).get_asset_materialization_events()[0].event_specific_data.materialization
    assert sorted((k, type(v).__name__, v.value) for k, v in mat.metadata.items()) == [
        ("path", "TextMetadataValue", "s3://x"), ("rows", "IntMetadataValue", 5),
    ]
    assert {k: v for k, v in mat.tags.items() if k != "dagster/code_version"} == {
        "dagster/data_version": "7", "dagster/data_version_is_user_provided": "true",
    }


def test_optional_outputs_retries_failures_and_direct_invocation():
    @dg.asset(output_required=False)
    def maybe(context):
        if False:
            yield dg.Output(1)

    @dg.asset
    def after_maybe(maybe):
        return maybe

    result = dg.materialize([maybe, after_maybe])
    assert (result.success, _materialized(result)) == (True, [])
    assert [(e.event_type_value, e.step_key) for e in result.all_events if e.event_type_value in ("STEP_SKIPPED", "STEP_SUCCESS")] == [
        ("STEP_SUCCESS", "maybe"), ("STEP_SKIPPED", "after_maybe"),
    ]

    attempts = []

    @dg.asset(retry_policy=dg.RetryPolicy(max_retries=2))
    def flaky():
        attempts.append(1)
        if len(attempts) < 3:
            raise Exception("flake")
        return "done"

    result = dg.materialize([flaky])
    assert (result.success, len(attempts)) == (True, 3)
    assert [e.event_type_value for e in result.all_events if e.event_type_value in ("STEP_UP_FOR_RETRY", "STEP_RESTARTED", "STEP_SUCCESS")] == [
        "STEP_UP_FOR_RETRY", "STEP_RESTARTED", "STEP_UP_FOR_RETRY", "STEP_RESTARTED", "STEP_SUCCESS",
    ]

    @dg.asset
    def failing():
        raise ValueError("bad data")

    with pytest.raises(ValueError, match="^bad data$"):
        dg.materialize([failing])
    result = dg.materialize([failing], raise_on_error=False)
    failure = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"][0].event_specific_data
    assert (result.success, failure.error.cls_name, failure.user_failure_data) == (False, "DagsterExecutionStepExecutionError", None)
    assert failure.error.message.splitlines()[0].endswith('DagsterExecutionStepExecutionError: Error occurred while executing op "failing":')

    @dg.asset(partitions_def=dg.DailyPartitionsDefinition(start_date="2024-01-01"))
    def direct(context):
        return context.partition_key

    assert direct(dg.build_asset_context(partition_key="2024-01-02")) == "2024-01-02"

    @dg.asset
    def with_res(context, thing: dg.ResourceParam[str]):
        return thing

    assert with_res(dg.build_asset_context(resources={"thing": "T"})) == "T"
    assert with_res(context=dg.build_asset_context(), thing="U") == "U"


def test_asset_specs_attributes_mapping_and_validation():
    spec = dg.AssetSpec("orders", deps=["raw"], group_name="g", tags={"a": "1"}, owners=["x@y.com"], kinds={"snowflake"},
                        metadata={"m": 1}, description="d")
    assert (spec.key, [d.asset_key for d in spec.deps], spec.group_name, spec.tags, spec.owners, sorted(spec.kinds), spec.metadata, spec.description) == (
        dg.AssetKey(["orders"]), [dg.AssetKey(["raw"])], "g", {"a": "1", "dagster/kind/snowflake": ""}, ["x@y.com"], ["snowflake"], {"m": 1}, "d",
    )
    replaced = spec.replace_attributes(group_name="h", tags={"b": "2"})
    assert (replaced.group_name, replaced.tags, spec.group_name) == ("h", {"b": "2", "dagster/kind/snowflake": ""}, "g")
    merged = spec.merge_attributes(tags={"c": "3"}, owners=["team:t"], metadata={"n": 2}, deps=["other"])
    assert (merged.tags, merged.owners, merged.metadata, sorted(d.asset_key.to_user_string() for d in merged.deps)) == (
        {"a": "1", "c": "3", "dagster/kind/snowflake": ""}, ["x@y.com", "team:t"], {"m": 1, "n": 2}, ["other", "raw"],
    )
    assert spec.with_io_manager_key("my_io").metadata.get("dagster/io_manager_key") == "my_io"

    @dg.multi_asset(specs=[dg.AssetSpec("p"), dg.AssetSpec("q", group_name="qq")])
    def pq():
        yield dg.MaterializeResult(asset_key="p")
        yield dg.MaterializeResult(asset_key="q")

    mapped = dg.map_asset_specs(lambda s: s.replace_attributes(owners=["team:m"]), [pq, spec])
    assert [type(m).__name__ for m in mapped] == ["AssetsDefinition", "AssetSpec"]
    assert (sorted((k.to_user_string(), v) for k, v in mapped[0].owners_by_key.items()), mapped[1].owners) == (
        [("p", ["team:m"]), ("q", ["team:m"])], ["team:m"],
    )
    assert (pq.get_asset_spec(dg.AssetKey("q")).group_name, sorted(k.to_user_string() for k in pq.keys)) == ("qq", ["p", "q"])
    assert (dg.AssetKey.from_user_string("a/b"), dg.AssetKey("a").with_prefix("p"), dg.AssetKey(["a", "b"]).has_prefix(["a"])) == (
        dg.AssetKey(["a", "b"]), dg.AssetKey(["p", "a"]), True,
    )
    with pytest.raises(dg.DagsterInvalidDefinitionError) as info:
        dg.AssetSpec("k", group_name="bad group!")
    assert _first_line(info.value) == (
        "\"bad group!\" is not a valid asset group name. Group names must be one or more segments matching "
        "^[A-Za-z0-9_]+$ separated by '/' (e.g. 'marketing' or 'marketing/foo/bar')."
    )
    assert dg.AssetSpec("k", group_name="marketing/foo").group_name == "marketing/foo"
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="^Cannot specify a name or key prefix for @asset when the key argument is provided.$"):
        @dg.asset(name="dup", key=["x"])
        def both():
            pass
    # the same spec twice is one external asset; two different specs for one key conflict
    dg.Definitions.validate_loadable(dg.Definitions(assets=[dg.AssetSpec("o"), dg.AssetSpec("o")]))
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="^Received conflicting AssetSpecs with the same key:\n"):
        dg.Definitions.validate_loadable(dg.Definitions(assets=[spec, dg.AssetSpec("orders")]))

    @dg.asset(key=["x", "y"])
    def keyed():
        return 1

    assert (keyed.key, keyed.op.name) == (dg.AssetKey(["x", "y"]), "x__y")


def test_asset_execution_context_api_in_partitioned_multi_assets():
    daily = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-05")
    seen = {}

    @dg.multi_asset(outs={"m1": dg.AssetOut(), "m2": dg.AssetOut(key=["pre", "m2"])}, partitions_def=daily)
    def multi(context: dg.AssetExecutionContext):
        seen["keys"] = (sorted(k.to_user_string() for k in context.assets_def.keys), context.asset_key_for_output("m2").to_user_string())
        seen["pk"] = (context.asset_partition_key_for_output("m1"), context.partition_key, context.partition_keys)
        seen["run"] = (context.run_id == context.run.run_id, context.job_name, context.op_execution_context.op.name, context.has_assets_def)
        seen["sel"] = sorted(k.to_user_string() for k in context.selected_asset_keys)
        return 1, 2

    @dg.asset(partitions_def=daily)
    def consumer(context: dg.AssetExecutionContext, m1, m2):
        seen["in"] = (context.asset_key_for_input("m2").to_user_string(), context.asset_partition_key_for_input("m1"))
        seen["defs"] = (type(context.instance).__name__, type(context.log).__name__, context.assets_def.key.to_user_string(), context.asset_key.to_user_string())
        return m1 + m2

    assert dg.materialize([multi, consumer], partition_key="2024-01-03").output_for_node("consumer") == 3
    assert seen == {
        "keys": (["m1", "pre/m2"], "pre/m2"),
        "pk": ("2024-01-03", "2024-01-03", ["2024-01-03"]),
        "run": (True, "__ephemeral_asset_job__", "multi", True),
        "sel": ["m1", "pre/m2"],
        "in": ("pre/m2", "2024-01-03"),
        "defs": ("DagsterInstance", "DagsterLogManager", "consumer", "consumer"),
    }

    @dg.asset
    def no_part(context):
        return context.partition_key

    with pytest.raises(dg.DagsterInvariantViolationError, match="^Cannot access partition_key for a non-partitioned run$"):
        dg.materialize([no_part])
