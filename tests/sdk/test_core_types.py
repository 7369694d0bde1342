"""Type checks on op inputs and outputs."""

from typing import Optional

import pytest

import orchestra as dg


def test_annotated_output_type_mismatch_fails_step_and_raises():
    @dg.op
    def wrong() -> int:
        return "x"

    @dg.job
    def job_wrong():
        wrong()

    result = job_wrong.execute_in_process(raise_on_error=False)
    output = next(e for e in result.all_events if e.is_successful_output)
    assert output.message == 'Yielded output "result" of type "Int". Warning! Type check failed.'
    assert not output.step_output_data.type_check_data.success
    error = result.get_step_failure_events()[0].step_failure_data.error
    assert error.cls_name == "DagsterTypeCheckDidNotPass"
    assert 'Type check failed for step output "result" - expected type "Int". Description: Value "x" of python type "str" must be a int.' in error.message
    with pytest.raises(dg.DagsterTypeCheckDidNotPass):
        job_wrong.execute_in_process()


def test_input_type_mismatch_fails_on_step_input():
    @dg.op
    def text() -> str:
        return "abc"

    @dg.op
    def number(x: int) -> int:
        return x

    @dg.job
    def job_input():
        number(text())

    result = job_input.execute_in_process(raise_on_error=False)
    step_input = next(e for e in result.all_events if e.event_type_value == "STEP_INPUT")
    assert step_input.message == 'Got input "x" of type "Int". Warning! Type check failed.'
    assert result.get_failed_step_keys() == {"number"}


def test_custom_dagster_type_check_with_description():
    even = dg.DagsterType(
        type_check_fn=lambda _, v: dg.TypeCheck(success=v % 2 == 0, description=f"{v} is odd"), name="Even"
    )

    @dg.op(out=dg.Out(even))
    def odd():
        return 3

    @dg.job
    def job_even():
        odd()

    result = job_even.execute_in_process(raise_on_error=False)
    error = result.get_step_failure_events()[0].step_failure_data.error
    assert 'expected type "Even". Description: 3 is odd' in error.message


def test_python_object_dagster_type_and_inferred_class_types():
    class Thing:
        pass

    thing_type = dg.PythonObjectDagsterType(Thing, name="ThingType")

    @dg.op(out=dg.Out(thing_type))
    def make() -> Thing:
        return Thing()

    @dg.op
    def use(t: Thing) -> bool:
        return isinstance(t, Thing)

    @dg.job
    def things():
        use(make())

    result = things.execute_in_process()
    assert result.output_for_node("use") is True
    messages = [e.message for e in result.all_events]
    assert 'Yielded output "result" of type "ThingType". (Type check passed).' in messages
    assert 'Got input "t" of type "Thing". (Type check passed).' in messages


def test_check_dagster_type_outside_runs():
    assert dg.check_dagster_type(int, 1).success
    failed = dg.check_dagster_type(int, "x")
    assert not failed.success
    assert failed.description == 'Value "x" of python type "str" must be a int.'
    assert dg.check_dagster_type(dg.String, "s").success
    assert dg.check_dagster_type(Optional[int], None)  # noqa: UP045 - typing.Optional is what users write.success
    assert not dg.check_dagster_type(list[int], [1, "x"]).success


def test_builtin_markers_as_dagster_types():
    @dg.op(ins={"x": dg.In(dg.Int)}, out=dg.Out(dg.String))
    def to_text(x):
        return str(x)

    @dg.job
    def builtin():
        to_text()

    result = builtin.execute_in_process(run_config={"ops": {"to_text": {"inputs": {"x": 5}}}})
    assert result.output_for_node("to_text") == "5"
    with pytest.raises(dg.DagsterInvalidConfigError):
        builtin.execute_in_process(run_config={"ops": {"to_text": {"inputs": {"x": "five"}}}})


def test_none_return_annotation_means_nothing_output():
    @dg.op
    def side_effect() -> None:
        return None

    @dg.op(ins={"after": dg.In(dg.Nothing)})
    def then() -> int:
        return 1

    @dg.job
    def nothing_chain():
        then(after=side_effect())

    assert nothing_chain.execute_in_process().output_for_node("then") == 1
