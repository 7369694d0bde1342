"""OpExecutionContext in runs, build_op_context and direct invocation, logging into the event log."""

import logging

import pytest

import orchestra as dg


def test_context_exposes_run_job_op_and_instance():
    seen = {}

    @dg.op(config_schema={"k": str})
    def inspect_context(context: dg.OpExecutionContext):
        seen["run_id"] = context.run_id
        seen["run"] = context.run
        seen["job_name"] = context.job_name
        seen["op_def"] = context.op_def
        seen["op_config"] = context.op_config
        seen["retry_number"] = context.retry_number
        seen["instance"] = context.instance
        seen["mapping_key"] = context.get_mapping_key()
        return 1

    @dg.job
    def ctx_job():
        inspect_context()

    instance = dg.DagsterInstance.ephemeral()
    result = ctx_job.execute_in_process(run_config={"ops": {"inspect_context": {"config": {"k": "v"}}}}, instance=instance)
    assert seen["run_id"] == result.run_id
    assert seen["run"].run_id == result.run_id
    assert seen["job_name"] == "ctx_job"
    assert seen["op_def"] is inspect_context
    assert seen["op_config"] == {"k": "v"}
    assert seen["retry_number"] == 0
    assert seen["instance"] is instance
    assert seen["mapping_key"] is None


def test_get_dagster_logger_messages_land_in_the_event_log():
    @dg.op
    def logs():
        dg.get_dagster_logger().warning("careful")
        dg.get_dagster_logger("custom").info("named")

    @dg.job
    def log_job():
        logs()

    instance = dg.DagsterInstance.ephemeral()
    result = log_job.execute_in_process(instance=instance)
    user = [(e.level, e.user_message, e.step_key) for e in instance.all_logs(result.run_id) if not e.is_dagster_event]
    assert user == [(logging.WARNING, "careful", "logs"), (logging.INFO, "named", "logs")]
    assert isinstance(dg.get_dagster_logger(), logging.Logger)


def test_context_log_levels_and_formatting():
    @dg.op
    def chatty(context):
        context.log.debug("d")
        context.log.info("i %s", 1)
        context.log.error("e")

    @dg.job
    def chatty_job():
        chatty()

    instance = dg.DagsterInstance.ephemeral()
    result = chatty_job.execute_in_process(instance=instance)
    user = [(e.level, e.user_message) for e in instance.all_logs(result.run_id) if not e.is_dagster_event]
    assert user == [(10, "d"), (20, "i 1"), (40, "e")]


def test_add_output_metadata_attaches_to_the_output_event():
    @dg.op
    def with_metadata(context):
        context.add_output_metadata({"rows": 10})
        return 1

    @dg.job
    def meta_job():
        with_metadata()

    result = meta_job.execute_in_process()
    output = next(e for e in result.all_events if e.is_successful_output)
    assert "rows" in output.step_output_data.metadata


def test_direct_invocation_without_context():
    @dg.op
    def plus_one(x: int) -> int:
        return x + 1

    assert plus_one(1) == 2
    assert plus_one(x=2) == 3


def test_direct_invocation_with_built_context_config_and_resources():
    @dg.op(config_schema={"n": int}, required_resource_keys={"offset"})
    def compute(context, x: int) -> int:
        return x + context.op_config["n"] + context.resources.offset

    context = dg.build_op_context(op_config={"n": 2}, resources={"offset": 10})
    assert compute(context, 1) == 13
    assert compute(context, x=3) == 15


def test_direct_invocation_checks_context_and_types():
    @dg.op
    def needs_context(context, x: int) -> int:
        return x

    with pytest.raises(dg.DagsterInvalidInvocationError, match="has context argument, but no context was provided"):
        needs_context(1)
    with pytest.raises(dg.DagsterTypeCheckDidNotPass, match='Type check failed for op "needs_context" input "x"'):
        needs_context(dg.build_op_context(), "s")


def test_direct_invocation_of_multi_output_and_generator_ops():
    @dg.op(out={"a": dg.Out(), "b": dg.Out()})
    def pair():
        return 1, 2

    @dg.op
    def gen():
        yield dg.Output(5)

    assert pair() == (1, 2)
    outputs = list(gen())
    assert len(outputs) == 1 and outputs[0].value == 5


def test_direct_invocation_with_config_class():
    class Cfg(dg.Config):
        n: int = 3

    @dg.op
    def from_config(config: Cfg) -> int:
        return config.n

    assert from_config(Cfg(n=5)) == 5
    assert from_config(config=Cfg(n=7)) == 7
    assert from_config(dg.build_op_context(op_config={"n": 4})) == 4


def test_build_op_context_mapping_key_and_run_tags():
    @dg.op
    def keyed(context):
        return context.get_mapping_key(), context.get_tag("t")

    assert keyed(dg.build_op_context(mapping_key="k1", run_tags={"t": "v"})) == ("k1", "v")


def test_aliased_op_outside_composition_is_invoked_directly():
    @dg.op
    def op_a(x: int) -> int:
        return x + 1

    assert op_a.alias("x")(1) == 2


def test_direct_invocation_reports_missing_required_resources():
    @dg.op(required_resource_keys={"r"})
    def needs_r(context):
        return context.resources.r

    with pytest.raises(dg.DagsterInvalidDefinitionError, match="resource with key 'r' required by op 'needs_r' was not provided"):
        needs_r(dg.build_op_context())
    assert needs_r(dg.build_op_context(resources={"r": 7})) == 7


def test_direct_invocation_accepts_none_for_context():
    @dg.op
    def ctx(context, x):
        return x, context.op_config

    assert ctx(None, 2) == (2, None)
