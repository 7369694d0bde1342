"""Second sweep of programs shaped like Dagster 1.13's documentation: behaviours that differed here.

Expected values come from running the same programs on Dagster 1.13.
"""

import pytest

import orchestra as dg

# --- DagsterEvent accessors used by tests in the docs -----------------------------------------


def test_a_materialization_event_exposes_its_materialization():
    @dg.asset
    def sized():
        return dg.MaterializeResult(metadata={"rows": 3})

    result = dg.materialize([sized])
    event = result.get_asset_materialization_events()[0]

    assert event.materialization.asset_key == dg.AssetKey("sized")
    assert event.materialization.metadata["rows"].value == 3


def test_expectation_and_check_events_expose_their_data():
    @dg.op
    def expects(context):
        context.log_event(dg.ExpectationResult(success=False, description="has rows"))

    @dg.job
    def expecting():
        expects()

    expectation = next(e for e in expecting.execute_in_process().all_events if e.is_expectation_result)
    assert expectation.step_expectation_result_data.expectation_result.description == "has rows"

    @dg.asset
    def checked(): ...

    @dg.asset_check(asset=checked)
    def not_empty():
        return dg.AssetCheckResult(passed=True)

    result = dg.materialize([checked, not_empty])
    check_event = next(e for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION")
    assert check_event.asset_check_evaluation_data.passed is True


# --- IO managers: per-output config and input managers ------------------------------------------


def _table_io_manager(tables):
    class TableIOManager(dg.IOManager):
        def handle_output(self, context, obj):
            tables[context.config["table"]] = obj

        def load_input(self, context):
            return tables[context.upstream_output.config["table"]]

    @dg.io_manager(output_config_schema={"table": str})
    def table_io_manager(_):
        return TableIOManager()

    return table_io_manager


def test_output_config_schema_adds_outputs_to_run_config_and_reaches_both_contexts():
    tables = {}

    @dg.op
    def produce():
        return [1]

    @dg.op
    def extend(values):
        return [*values, 2]

    @dg.job(resource_defs={"io_manager": _table_io_manager(tables)})
    def tabled():
        extend(produce())

    result = tabled.execute_in_process(run_config={"ops": {
        "produce": {"outputs": {"result": {"table": "t1"}}},
        "extend": {"outputs": {"result": {"table": "t2"}}},
    }})

    assert result.success
    assert tables == {"t1": [1], "t2": [1, 2]}


def test_output_config_is_required_when_its_schema_is():
    @dg.op
    def produce():
        return 1

    @dg.job(resource_defs={"io_manager": _table_io_manager({})})
    def tabled():
        produce()

    with pytest.raises(dg.DagsterInvalidConfigError):
        tabled.execute_in_process()
    with pytest.raises(dg.DagsterInvalidConfigError):
        tabled.execute_in_process(run_config={"ops": {"produce": {"outputs": {"result": {"name": "x"}}}}})


def test_outputs_are_not_accepted_without_an_output_config_schema():
    @dg.op
    def produce():
        return 1

    @dg.job
    def plain():
        produce()

    with pytest.raises(dg.DagsterInvalidConfigError):
        plain.execute_in_process(run_config={"ops": {"produce": {"outputs": {"result": {"table": "x"}}}}})


def test_a_missing_input_manager_is_a_definition_error():
    @dg.asset
    def upstream():
        return 1

    @dg.asset(ins={"upstream": dg.AssetIn(input_manager_key="special_loader")})
    def downstream(upstream):
        return upstream

    with pytest.raises(dg.DagsterInvalidDefinitionError, match="input manager with key 'special_loader'"):
        dg.materialize([upstream, downstream])


# --- type factories ------------------------------------------------------------------------------


def test_list_and_optional_type_factories():
    assert dg.List[dg.Int].display_name == "[Int]"
    assert dg.Optional[dg.String].display_name == "String?"

    @dg.op(ins={"xs": dg.In(dg.List[dg.Int])})
    def first_two(xs):
        return xs[:2]

    @dg.op
    def numbers():
        return [3, 4, 5]

    @dg.op
    def words():
        return ["a"]

    @dg.job
    def ok():
        first_two(numbers())

    @dg.job
    def wrong():
        first_two(words())

    assert ok.execute_in_process().output_for_node("first_two") == [3, 4]
    with pytest.raises(dg.DagsterTypeCheckDidNotPass):
        wrong.execute_in_process()
    with pytest.raises(dg.DagsterInvalidDefinitionError):
        dg.List[dg.Nothing]  # noqa: B018


@pytest.mark.parametrize(("dagster_type", "name", "key"), [
    (dg.Dict[str, int], "Dict[String,Int]", "TypedPythonDict.String.Int"),
    (dg.Set[int], "Set[Int]", "TypedPythonSet.Int"),
    (dg.Tuple[int, str], "Tuple[Int,String]", "TypedPythonTupleInt.String"),
    (set[int], "Set[Int]", "TypedPythonSet.Int"),
    (tuple[int, str], "Tuple[Int,String]", "TypedPythonTupleInt.String"),
    (dg.Dict, "dict", "PythonDict"),
    (dg.Set, "set", "PythonSet"),
    (dg.Tuple, "tuple", "PythonTuple"),
    (tuple, "tuple", "PythonTuple"),
])
def test_dict_set_and_tuple_types_resolve_to_dagsters_names_and_keys(dagster_type, name, key):
    @dg.op(out=dg.Out(dagster_type))
    def produce():
        return None

    resolved = produce.outs["result"].dagster_type
    assert (resolved.display_name, resolved.key) == (name, key)


@pytest.mark.parametrize(("dagster_type", "good", "bad", "message"), [
    (dg.Tuple[int, str], (1, "a"), (1, 2), 'Value "2" of python type "int" must be a string.'),
    (dg.Tuple[int, str], (1, "a"), (1, "a", 3),
     "Tuple with key TypedPythonTupleInt.String requires 2 entries, received 3 values"),
    (dg.Set[int], {1, 2}, {1, "a"}, 'Value "a" of python type "str" must be a int.'),
    (dg.Set[int], set(), [1], "Value should be a set, got a<class 'list'>"),
    (dg.Dict[str, int], {"a": 1}, {"a": "b"}, 'Value "b" of python type "str" must be a int.'),
    (dg.Dict, {1: "x"}, [1], "Value of type <class 'list'> failed type check for Dagster type dict, expected value "
                             "to be of Python type dict."),
])
def test_dict_set_and_tuple_type_checks_fail_with_dagsters_messages(dagster_type, good, bad, message):
    assert dg.check_dagster_type(dagster_type, good).success
    check = dg.check_dagster_type(dagster_type, bad)
    assert (check.success, check.description) == (False, message)


def test_a_selected_job_refuses_assets_with_different_partitions_definitions():
    daily = dg.DailyPartitionsDefinition(start_date="2024-01-01")
    weekly = dg.WeeklyPartitionsDefinition(start_date="2024-01-01")

    @dg.asset(partitions_def=daily)
    def by_day(): return 1

    @dg.asset(partitions_def=weekly)
    def by_week(): return 1

    @dg.asset
    def whole(): return 1

    defs = dg.Definitions(assets=[by_day, by_week, whole], jobs=[
        dg.define_asset_job("mixed", selection=[by_day, by_week]),
        dg.define_asset_job("daily_and_whole", selection=[by_day, whole]),
        dg.define_asset_job("forced_weekly", selection=[by_day], partitions_def=weekly),
    ])
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Failed to resolve asset job mixed") as raised:
        defs.resolve_job_def("mixed")
    assert str(raised.value.__cause__) == (
        'Error resolving selection for asset job "mixed": Selected assets must have the same partitions definitions, '
        "but the selected assets have different partitions definitions: \n"
        "Daily, starting 2024-01-01 UTC.: {AssetKey(['by_day'])}\nWeekly, starting 2024-01-01 UTC.: {AssetKey(['by_week'])}"
    )
    with pytest.raises(dg.DagsterInvalidDefinitionError) as raised:
        defs.resolve_job_def("forced_weekly")
    assert "has a different partitions definition than the one specified for the job" in str(raised.value.__cause__)
    # An unpartitioned asset may join a partitioned one; the implicit asset job may mix them all.
    assert defs.resolve_job_def("daily_and_whole").partitions_def == daily
    assert defs.resolve_implicit_global_asset_job_def() is not None
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Failed to resolve asset job __ephemeral_asset_job__"):
        dg.materialize([by_day, by_week], partition_key="2024-01-01")
    assert dg.materialize([by_day, whole], partition_key="2024-01-01").success
