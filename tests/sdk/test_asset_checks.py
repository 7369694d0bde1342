"""Asset checks: @asset_check, check specs on assets, blocking checks and their events, as in Dagster 1.13."""

import pytest

import orchestra as dg


@dg.asset
def orders():
    return [1, 2, 3]


def _types(result, step_key=None):
    return [e.event_type_value for e in result.all_events if step_key is None or e.step_key == step_key]


def test_asset_check_definition_attributes():
    @dg.asset_check(asset=orders, description="Has rows.")
    def has_rows(orders):
        return dg.AssetCheckResult(passed=len(orders) > 0)

    assert isinstance(has_rows, dg.AssetChecksDefinition)
    assert has_rows.check_key == dg.AssetCheckKey(dg.AssetKey("orders"), "has_rows")
    assert has_rows.check_keys == {dg.AssetCheckKey(dg.AssetKey("orders"), "has_rows")}
    assert has_rows.node_def.name == "orders_has_rows"
    spec = list(has_rows.check_specs)[0]
    assert spec.asset_key == dg.AssetKey("orders") and spec.blocking is False and spec.description == "Has rows."


def test_asset_check_without_data_uses_a_nothing_input():
    @dg.asset(key=["k1", "k2"])
    def nested():
        return 1

    @dg.asset_check(asset=nested)
    def chk():
        return dg.AssetCheckResult(passed=True)

    assert chk.node_def.name == "k1__k2_chk"
    assert [(i.name, i.dagster_type.display_name) for i in chk.node_def.input_defs] == [("k1_k2", "Nothing")]
    result = dg.materialize([nested, chk])
    assert result.success
    assert [e.passed for e in result.get_asset_check_evaluations()] == [True]


def test_check_runs_after_its_asset_and_records_an_evaluation():
    @dg.asset_check(asset=orders)
    def has_rows(orders):
        return dg.AssetCheckResult(passed=True, metadata={"rows": len(orders)})

    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([orders, has_rows], instance=instance)
    assert result.success
    assert _types(result, "orders_has_rows") == [
        "STEP_START", "LOADED_INPUT", "STEP_INPUT", "STEP_OUTPUT", "ASSET_CHECK_EVALUATION", "STEP_SUCCESS",
    ]
    event = [e for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"][0]
    assert event.message == "Asset check 'has_rows' on 'orders' passed."
    evaluation = result.get_asset_check_evaluations()[0]
    assert evaluation.asset_key == dg.AssetKey("orders")
    assert evaluation.check_name == "has_rows"
    assert evaluation.passed is True
    assert evaluation.metadata == {"rows": dg.IntMetadataValue(3)}
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert evaluation.blocking is False
    assert evaluation.asset_check_key == dg.AssetCheckKey(dg.AssetKey("orders"), "has_rows")
    planned = [
        e.dagster_event for e in instance.all_logs(result.run_id)
        if e.dagster_event is not None and e.dagster_event.event_type_value == "ASSET_CHECK_EVALUATION_PLANNED"
    ]
    assert [p.message for p in planned] == [
        '__ephemeral_asset_job__ intends to execute asset check has_rows on asset ["orders"]'
    ]
    assert planned[0].step_key == "orders_has_rows"


def test_failed_non_blocking_check_does_not_fail_the_run():
    @dg.asset_check(asset=orders)
    def too_strict(orders):
        return dg.AssetCheckResult(passed=False, description="never")

    result = dg.materialize([orders, too_strict])
    assert result.success
    evaluation = result.get_asset_check_evaluations()[0]
    assert evaluation.passed is False and evaluation.description == "never"
    event = [e for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"][0]
    assert event.message == "Asset check 'too_strict' on 'orders' did not pass. Description: 'never'"


def test_check_specs_on_an_asset_yield_outputs_then_results():
    @dg.asset(check_specs=[dg.AssetCheckSpec("positive", asset="scores")])
    def scores():
        yield dg.Output([5, 6])
        yield dg.AssetCheckResult(passed=True)

    result = dg.materialize([scores])
    assert result.success
    assert _types(result, "scores")[2:] == [
        "STEP_START", "STEP_OUTPUT", "ASSET_MATERIALIZATION", "HANDLED_OUTPUT", "STEP_OUTPUT",
        "ASSET_CHECK_EVALUATION", "STEP_SUCCESS",
    ]
    outputs = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"]
    assert outputs[1].event_specific_data.step_output_handle.output_name == "scores_positive"
    assert result.asset_value("scores") == [5, 6]


def test_materialize_result_carries_check_results():
    @dg.asset(check_specs=[dg.AssetCheckSpec("a_check", asset="stored"), dg.AssetCheckSpec("b_check", asset="stored")])
    def stored():
        return dg.MaterializeResult(
            metadata={"n": 1},
            check_results=[
                dg.AssetCheckResult(check_name="a_check", passed=True),
                dg.AssetCheckResult(check_name="b_check", passed=False, severity=dg.AssetCheckSeverity.WARN),
            ],
        )

    result = dg.materialize([stored])
    assert result.success
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert evaluations["a_check"].passed is True
    assert evaluations["b_check"].passed is False
    assert evaluations["b_check"].severity == dg.AssetCheckSeverity.WARN


def test_blocking_check_in_asset_fails_the_step_and_skips_downstream():
    ran = []

    @dg.asset(check_specs=[dg.AssetCheckSpec("c1", asset="gate", blocking=True)])
    def gate():
        yield dg.Output(1)
        yield dg.AssetCheckResult(passed=False)

    @dg.asset
    def after_gate(gate):
        ran.append(gate)

    result = dg.materialize([gate, after_gate], raise_on_error=False)
    assert not result.success
    assert ran == []
    assert _types(result, "gate")[-3:] == ["STEP_OUTPUT", "ASSET_CHECK_EVALUATION", "STEP_FAILURE"]
    failure = result.get_step_failure_events()[0]
    assert "1 blocking asset check failed with ERROR severity:\ngate: c1" in failure.step_failure_data.error.message
    assert failure.step_failure_data.error.cls_name == "DagsterAssetCheckFailedError"
    assert [e.asset_key for e in result.get_asset_materialization_events()] == [dg.AssetKey("gate")]
    assert result.get_asset_check_evaluations()[0].blocking is True
    with pytest.raises(dg.DagsterError, match="blocking asset check failed"):
        dg.materialize([gate, after_gate])


def test_blocking_check_with_warn_severity_does_not_block():
    @dg.asset(check_specs=[dg.AssetCheckSpec("soft", asset="lenient", blocking=True)])
    def lenient():
        yield dg.Output(1)
        yield dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN)

    @dg.asset
    def after_lenient(lenient):
        return lenient + 1

    result = dg.materialize([lenient, after_lenient])
    assert result.success
    assert result.asset_value("after_lenient") == 2


def test_blocking_asset_check_keeps_downstream_from_running():
    ran = []

    @dg.asset
    def source_table():
        return 1

    @dg.asset_check(asset=source_table, blocking=True)
    def must_pass():
        return dg.AssetCheckResult(passed=False)

    @dg.asset
    def consumer(source_table):
        ran.append(1)

    result = dg.materialize([source_table, consumer, must_pass], raise_on_error=False)
    assert not result.success
    assert ran == []
    assert "consumer" not in {e.step_key for e in result.all_events}
    assert result.get_failed_step_keys() == {"source_table_must_pass"}


def _graph_asset_behind_a_blocking_check(passed):
    """An asset with a blocking check, and a graph asset reading it: one inner op reads the asset (through a
    nested graph), one does not."""
    @dg.asset
    def checked() -> int:
        return 1

    @dg.asset_check(asset=checked, blocking=True)
    def checked_ok() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=passed)

    @dg.op
    def inner(x: int) -> int:
        return x

    @dg.op
    def const() -> int:
        return 2

    @dg.op
    def combine(a: int, b: int) -> int:
        return a + b

    @dg.graph
    def nested(y: int) -> int:
        return inner(inner(y))

    @dg.graph_asset
    def gb(checked: int) -> int:
        return combine(nested(checked), const())

    return [checked, gb, checked_ok]


def _step_keys(result, event_type):
    return sorted(e.step_key for e in result.all_events if e.event_type_value == event_type)


def test_graph_asset_downstream_of_a_blocking_check_builds_its_job():
    checked, gb, checked_ok = _graph_asset_behind_a_blocking_check(True)
    defs = dg.Definitions(assets=[checked, gb], asset_checks=[checked_ok])
    job = defs.get_implicit_global_asset_job_def()
    assert sorted(job.graph.node_dict) == ["checked", "checked_checked_ok", "gb"]
    assert job.graph.dependency_map["gb"]["__blocking_check_checked_checked_ok"].node == "checked_checked_ok"


def test_passing_blocking_check_lets_a_downstream_graph_asset_run():
    result = dg.materialize(_graph_asset_behind_a_blocking_check(True))
    assert result.success
    assert _step_keys(result, "STEP_SUCCESS") == [
        "checked", "checked_checked_ok", "gb.combine", "gb.const", "gb.nested.inner", "gb.nested.inner_2"]
    assert result.asset_value("gb") == 3


def test_failing_blocking_check_keeps_a_downstream_graph_asset_from_running():
    # as in Dagster: the steps reading the checked asset, and those after them, do not run (no event);
    # an inner step that does not read it runs; the run fails on the check's step
    result = dg.materialize(_graph_asset_behind_a_blocking_check(False), raise_on_error=False)
    assert not result.success
    assert _step_keys(result, "STEP_SUCCESS") == ["checked", "gb.const"]
    assert result.get_failed_step_keys() == {"checked_checked_ok"}
    assert not {"gb.combine", "gb.nested.inner", "gb.nested.inner_2"} & {e.step_key for e in result.all_events}
    assert [e.asset_key for e in result.get_asset_materialization_events()] == [dg.AssetKey("checked")]


def test_passing_blocking_asset_check_lets_downstream_run():
    @dg.asset
    def base():
        return 2

    @dg.asset_check(asset=base, blocking=True)
    def base_ok(base):
        return dg.AssetCheckResult(passed=base > 0)

    @dg.asset
    def derived(base):
        return base * 2

    result = dg.materialize([base, derived, base_ok])
    assert result.success
    assert result.asset_value("derived") == 4
    steps = [e.step_key for e in result.all_events if e.event_type_value == "STEP_START"]
    assert steps.index("base_base_ok") < steps.index("derived")


def test_checks_follow_the_asset_selection():
    @dg.asset
    def left():
        return 1

    @dg.asset
    def right():
        return 2

    @dg.asset_check(asset=left)
    def left_check():
        return dg.AssetCheckResult(passed=True)

    @dg.asset_check(asset=right)
    def right_check():
        return dg.AssetCheckResult(passed=True)

    result = dg.materialize([left, right, left_check, right_check], selection=["left"])
    assert [e.check_name for e in result.get_asset_check_evaluations()] == ["left_check"]


def test_ambiguous_check_result_fails_the_step():
    @dg.asset(check_specs=[dg.AssetCheckSpec("one", asset="two_checks"), dg.AssetCheckSpec("two", asset="two_checks")])
    def two_checks():
        yield dg.Output(1)
        yield dg.AssetCheckResult(passed=True)

    result = dg.materialize([two_checks], raise_on_error=False)
    assert not result.success


def test_check_spec_for_another_asset_is_rejected():
    with pytest.raises(dg.DagsterInvalidDefinitionError):

        @dg.asset(check_specs=[dg.AssetCheckSpec("c", asset="elsewhere")])
        def mine():
            return 1


def test_severity_values():
    assert dg.AssetCheckSeverity.WARN.value == "WARN"
    assert dg.AssetCheckSeverity.ERROR.value == "ERROR"
    assert dg.AssetCheckResult(passed=True).severity == dg.AssetCheckSeverity.ERROR


def test_multi_asset_check_evaluates_several_checks():
    @dg.asset
    def left_table():
        return 1

    @dg.asset
    def right_table():
        return 2

    @dg.multi_asset_check(
        specs=[dg.AssetCheckSpec("left_ok", asset="left_table"), dg.AssetCheckSpec("right_ok", asset="right_table")]
    )
    def both_ok():
        yield dg.AssetCheckResult(asset_key="left_table", check_name="left_ok", passed=True)
        yield dg.AssetCheckResult(asset_key="right_table", check_name="right_ok", passed=False)

    assert both_ok.check_keys == {
        dg.AssetCheckKey(dg.AssetKey("left_table"), "left_ok"), dg.AssetCheckKey(dg.AssetKey("right_table"), "right_ok"),
    }
    result = dg.materialize([left_table, right_table, both_ok])
    assert result.success
    assert sorted((e.check_name, e.passed) for e in result.get_asset_check_evaluations()) == [
        ("left_ok", True), ("right_ok", False),
    ]
    steps = [e.step_key for e in result.all_events if e.event_type_value == "STEP_START"]
    assert steps[-1] == "both_ok"


def test_direct_invocation_of_a_check_returns_its_result():
    @dg.asset_check(asset=orders)
    def direct(orders):
        return dg.AssetCheckResult(passed=len(orders) == 3)

    assert direct([1, 2, 3]).passed is True
    assert isinstance(dg.build_asset_check_context(), dg.AssetCheckExecutionContext)
