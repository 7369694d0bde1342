"""Dynamic fan-out: DynamicOut / DynamicOutput with .map and .collect."""

import pytest

import orchestra as dg


@dg.op(out=dg.DynamicOut())
def fan_out(context):
    for index in range(context.op_config or 3):
        yield dg.DynamicOutput(index, mapping_key=f"k{index}")


@dg.op
def times_ten(context, x: int) -> int:
    context.log.info(f"mapping key {context.get_mapping_key()}")
    return x * 10


@dg.op
def total(values: list) -> int:
    return sum(values)


def test_map_runs_one_step_per_mapping_key_and_collect_gathers_them():
    @dg.job
    def dynamic():
        total(fan_out().map(times_ten).collect())

    result = dynamic.execute_in_process()
    assert result.success
    starts = [e.step_key for e in result.all_events if e.is_step_start]
    assert starts == ["fan_out", "times_ten[k0]", "times_ten[k1]", "times_ten[k2]", "total"]
    assert result.output_for_node("total") == 30
    assert result.output_for_node("times_ten") == {"k0": 0, "k1": 10, "k2": 20}
    assert result.output_for_node("fan_out") == {"k0": 0, "k1": 1, "k2": 2}
    messages = [e.message for e in result.all_events]
    assert 'Yielded output "result" mapping key "k1" of type "Any". (Type check passed).' in messages


def test_context_get_mapping_key_inside_mapped_step():
    @dg.op
    def key_of(context, x):
        return context.get_mapping_key()

    @dg.job
    def keys():
        fan_out().map(key_of)

    assert keys.execute_in_process().output_for_node("key_of") == {"k0": "k0", "k1": "k1", "k2": "k2"}


def test_chained_maps_keep_the_mapping_key():
    @dg.job
    def chained():
        total(fan_out().map(times_ten).map(times_ten.alias("again")).collect())

    result = chained.execute_in_process()
    assert result.output_for_node("total") == 300
    assert "again[k2]" in [e.step_key for e in result.all_events if e.is_step_success]


def test_map_over_a_graph_maps_its_inner_steps():
    @dg.graph
    def inner(x):
        return times_ten(x)

    @dg.job
    def mapped_graph():
        total(fan_out().map(inner).collect())

    result = mapped_graph.execute_in_process()
    assert result.output_for_node("total") == 30
    assert result.output_for_node("inner") == {"k0": 0, "k1": 10, "k2": 20}
    assert [e.step_key for e in result.all_events if e.is_step_start][1] == "inner.times_ten[k0]"


def test_map_with_lambda_combining_a_static_input():
    @dg.op
    def offset() -> int:
        return 5

    @dg.op
    def plus(x: int, y: int) -> int:
        return x + y

    @dg.job
    def combined():
        base = offset()
        total(fan_out().map(lambda x: plus(x, base)).collect())

    assert combined.execute_in_process().output_for_node("total") == 0 + 1 + 2 + 15


def test_empty_dynamic_output_collects_an_empty_list():
    @dg.job
    def empty():
        total(fan_out().map(times_ten).collect())

    result = empty.execute_in_process(run_config={"ops": {"fan_out": {"config": -1}}})
    assert result.success
    assert result.output_for_node("total") == 0
    assert not any(e.step_key and e.step_key.startswith("times_ten") for e in result.all_events)


def test_failed_dynamic_step_abandons_mapped_and_collect_steps():
    @dg.op(out=dg.DynamicOut())
    def broken():
        raise ValueError("no fan")

    @dg.job
    def failing():
        total(broken().map(times_ten).collect())

    result = failing.execute_in_process(raise_on_error=False)
    assert not result.success
    assert result.get_failed_step_keys() == {"broken"}
    assert not any(e.step_key == "total" for e in result.all_events)


def test_returning_list_of_dynamic_outputs():
    @dg.op(out=dg.DynamicOut(int))
    def listed():
        return [dg.DynamicOutput(v, mapping_key=str(v)) for v in (1, 2)]

    @dg.job
    def job_listed():
        total(listed().map(times_ten).collect())

    assert job_listed.execute_in_process().output_for_node("total") == 30


def test_duplicate_mapping_key_fails_the_step():
    @dg.op(out=dg.DynamicOut())
    def dupes():
        yield dg.DynamicOutput(1, mapping_key="same")
        yield dg.DynamicOutput(2, mapping_key="same")

    @dg.job
    def job_dupes():
        dupes().map(times_ten)

    result = job_dupes.execute_in_process(raise_on_error=False)
    assert result.get_failed_step_keys() == {"dupes"}


def test_invalid_mapping_key_is_rejected():
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="is not a valid name"):
        dg.DynamicOutput(1, mapping_key="has space")


def test_passing_dynamic_output_without_map_is_a_definition_error():
    with pytest.raises(dg.DagsterInvalidDefinitionError):
        @dg.job
        def wrong():
            times_ten(fan_out())
