"""Definitions: @op/@graph/@job signatures, inference and definition-time errors."""

import subprocess
import sys

import pytest

import orchestra as dg


def test_op_infers_inputs_outputs_and_types_from_the_signature():
    @dg.op
    def typed(context, a: int, b: str = "x") -> float:
        return 1.0

    assert isinstance(typed, dg.OpDefinition)
    assert [d.name for d in typed.input_defs] == ["a", "b"]
    assert typed.input_defs[0].dagster_type.display_name == "Int"
    assert typed.input_defs[1].default_value == "x"
    assert typed.output_defs[0].dagster_type.display_name == "Float"
    assert typed.name == "typed"
    assert set(typed.ins) == {"a", "b"}
    assert set(typed.outs) == {"result"}


def test_op_decorator_arguments():
    policy = dg.RetryPolicy(max_retries=2)

    @dg.op(name="renamed", description="desc", tags={"t": "1"}, retry_policy=policy,
           required_resource_keys={"r"}, code_version="v1", config_schema={"n": int})
    def original(context):
        return 1

    assert original.name == "renamed"
    assert original.description == "desc"
    assert original.tags == {"t": "1"}
    assert original.retry_policy == policy
    assert original.required_resource_keys == {"r"}
    assert original.version == "v1"


def test_nothing_in_for_a_function_parameter_is_an_error():
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Nothing"):
        @dg.op(ins={"x": dg.In(dg.Nothing)})
        def bad(x):
            return x


def test_in_without_matching_parameter_is_an_error():
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="does not have argument"):
        @dg.op(ins={"missing": dg.In(int)})
        def bad():
            return 1


def test_invalid_op_name_is_rejected():
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="is not a valid name"):
        dg.op(name="has space")(lambda: 1)


def test_literal_value_in_composition_is_rejected_with_dagsters_message():
    @dg.op
    def inc(x: int) -> int:
        return x + 1

    with pytest.raises(dg.DagsterInvalidDefinitionError) as info:
        @dg.job
        def bad():
            inc(1)

    assert str(info.value) == (
        'In @job bad, received invalid type <class \'int\'> for input "x" (at position 0) in op invocation "inc". '
        "Must pass the output from previous node invocations or inputs to the composition function as inputs "
        "when invoking nodes during composition."
    )


def test_unconnected_input_of_unloadable_type_is_a_definition_error():
    class Custom:
        pass

    @dg.op
    def needs_custom(x: Custom):
        return x

    with pytest.raises(dg.DagsterInvalidDefinitionError, match="can not be loaded from configuration"):
        @dg.job
        def bad():
            needs_custom()


def test_missing_resource_is_reported_when_the_job_executes():
    @dg.op(required_resource_keys={"db"})
    def uses_db(context):
        return 1

    @dg.job
    def bad():
        uses_db()

    with pytest.raises(dg.DagsterInvalidDefinitionError, match="resource with key 'db' required by op 'uses_db' was not provided"):
        bad.execute_in_process()


def test_explicit_dependency_on_missing_node_is_rejected():
    @dg.op
    def a(x):
        return x

    with pytest.raises(dg.DagsterInvalidDefinitionError, match='node "missing" not found'):
        dg.GraphDefinition(name="g", node_defs=[a], dependencies={"a": {"x": dg.DependencyDefinition("missing")}})


def test_circular_dependencies_are_rejected():
    @dg.op
    def a(x):
        return x

    @dg.op
    def b(x):
        return x

    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Circular dependencies"):
        dg.GraphDefinition(
            name="cycle", node_defs=[a, b],
            dependencies={"a": {"x": dg.DependencyDefinition("b")}, "b": {"x": dg.DependencyDefinition("a")}},
        )


def test_to_job_carries_name_tags_resources_and_executor():
    @dg.op(required_resource_keys={"value"})
    def read(context):
        return context.resources.value

    @dg.graph
    def g():
        read()

    job = g.to_job(
        name="custom", tags={"a": "b"}, resource_defs={"value": dg.ResourceDefinition.hardcoded_resource(5)},
        executor_def=dg.in_process_executor,
    )
    assert isinstance(job, dg.JobDefinition)
    assert job.name == "custom"
    assert job.tags == {"a": "b"}
    assert job.executor_def is dg.in_process_executor
    assert job.execute_in_process().output_for_node("read") == 5


def test_execute_in_process_resources_override():
    @dg.op(required_resource_keys={"value"})
    def read(context):
        return context.resources.value

    @dg.job(resource_defs={"value": dg.ResourceDefinition.hardcoded_resource(1)})
    def job_r():
        read()

    assert job_r.execute_in_process(resources={"value": 2}).output_for_node("read") == 2
    assert job_r.execute_in_process().output_for_node("read") == 1


def test_default_executor_and_executor_definitions():
    @dg.op
    def a():
        return 1

    @dg.job
    def plain():
        a()

    assert plain.executor_def is dg.multi_or_in_process_executor
    assert dg.multiprocess_executor.name == "multiprocess"
    assert dg.in_process_executor.name == "in_process"
    assert isinstance(dg.multi_or_in_process_executor, dg.ExecutorDefinition)


def test_import_loads_no_django_or_pydantic():
    # The import's speed is measured by bench/sdk_chain.py, not asserted here (a loaded CI machine
    # would make a timed test flaky); what keeps it fast is that nothing heavy is imported.
    code = "import sys, orchestra; print('django' in sys.modules, 'pydantic' in sys.modules, 'celery' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False", "False"]


def test_defining_and_running_a_job_loads_no_django():
    code = (
        "import sys, orchestra as dg\n"
        "@dg.op\ndef a(): return 1\n"
        "@dg.job\ndef j(): a()\n"
        "assert j.execute_in_process().success\n"
        "print('django' in sys.modules, 'celery' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]


def test_missing_io_manager_key_is_reported_when_the_job_executes():
    @dg.op(out=dg.Out(io_manager_key="custom"))
    def stored():
        return 1

    @dg.job
    def needs_custom():
        stored()

    with pytest.raises(dg.DagsterInvalidDefinitionError, match="io manager with key 'custom' required by output 'result'"):
        needs_custom.execute_in_process()
