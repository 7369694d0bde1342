"""Step failures, skipped downstream steps, raise_on_error and retries."""

import pytest

import orchestra as dg
from orchestra._core.retries import calculate_delay


@dg.op
def start() -> int:
    return 1


@dg.op
def boom(x):
    raise ValueError("boom")


@dg.op
def downstream(x):
    return x


def test_failure_is_recorded_with_user_error_and_downstream_is_not_run():
    @dg.job
    def failing():
        downstream(boom(start()))

    instance = dg.DagsterInstance.ephemeral()
    result = failing.execute_in_process(raise_on_error=False, instance=instance)
    assert not result.success
    assert result.dagster_run.status == dg.DagsterRunStatus.FAILURE
    assert result.get_failed_step_keys() == {"boom"}
    assert result.is_node_failed("boom")
    assert result.is_node_success("start")
    assert result.is_node_untouched("downstream")
    failure = result.get_step_failure_events()[0]
    assert failure.is_step_failure and failure.is_failure
    assert failure.message == 'Execution of step "boom" failed.'
    data = failure.step_failure_data
    assert data.error.cls_name == "DagsterExecutionStepExecutionError"
    assert 'Error occurred while executing op "boom":' in data.error.message
    assert data.error.cause.cls_name == "ValueError"
    assert data.error.cause.message == "ValueError: boom\n"
    assert any("raise ValueError" in line for line in data.error.cause.stack)
    assert data.user_failure_data is None
    last = result.all_events[-1]
    assert last.event_type_value == "PIPELINE_FAILURE"
    assert last.message == "Execution of run for \"failing\" failed. Steps failed: ['boom']."
    logs = [e.user_message for e in instance.all_logs(result.run_id) if e.dagster_event is None]
    assert "Dependencies for step downstream failed: ['boom']. Not executing." in logs


def test_raise_on_error_reraises_the_user_exception_and_marks_run_failed():
    @dg.job
    def failing():
        boom(start())

    instance = dg.DagsterInstance.ephemeral()
    with pytest.raises(ValueError, match="boom"):
        failing.execute_in_process(instance=instance)
    run = instance.get_runs()[0]
    assert run.status == dg.DagsterRunStatus.FAILURE
    types = [e.dagster_event.event_type_value for e in instance.all_logs(run.run_id) if e.dagster_event]
    assert types[-2:] == ["STEP_FAILURE", "PIPELINE_FAILURE"]


def test_failure_carries_description_and_metadata():
    @dg.op
    def intentional():
        raise dg.Failure(description="bad rows", metadata={"rows": 3})

    @dg.job
    def job_failure():
        intentional()

    result = job_failure.execute_in_process(raise_on_error=False)
    data = result.get_step_failure_events()[0].step_failure_data
    assert data.user_failure_data.label == "intentional-failure"
    assert data.user_failure_data.description == "bad rows"
    assert "rows" in data.user_failure_data.metadata
    assert data.error.cls_name == "Failure"
    with pytest.raises(dg.Failure, match="bad rows"):
        job_failure.execute_in_process()


def test_other_branches_keep_running_after_a_failure():
    @dg.job
    def branches():
        boom.alias("bad")(start())
        downstream(start.alias("start_b")())

    result = branches.execute_in_process(raise_on_error=False)
    assert result.is_node_success("downstream")
    assert result.get_failed_step_keys() == {"bad"}


def test_retry_policy_retries_then_succeeds():
    attempts = []

    @dg.op(retry_policy=dg.RetryPolicy(max_retries=2))
    def flaky(context):
        attempts.append(context.retry_number)
        if context.retry_number < 2:
            raise ValueError("flaky")
        return "ok"

    @dg.job
    def job_flaky():
        flaky()

    result = job_flaky.execute_in_process()
    assert result.success
    assert attempts == [0, 1, 2]
    types = [e.event_type_value for e in result.all_events if e.step_key == "flaky" and e.is_step_event]
    assert types == [
        "STEP_START", "STEP_UP_FOR_RETRY", "STEP_RESTARTED", "STEP_UP_FOR_RETRY", "STEP_RESTARTED",
        "STEP_OUTPUT", "HANDLED_OUTPUT", "STEP_SUCCESS",
    ]
    retry = next(e for e in result.all_events if e.is_step_up_for_retry)
    assert retry.message == 'Execution of step "flaky" failed and has requested a retry.'
    assert retry.step_retry_data.error.cause.cls_name == "ValueError"
    restarted = next(e for e in result.all_events if e.is_step_restarted)
    assert restarted.message == 'Started re-execution (attempt # 2) of step "flaky".'


def test_retry_policy_exhausted_fails_the_step():
    @dg.op(retry_policy=dg.RetryPolicy(max_retries=1))
    def always():
        raise KeyError("nope")

    @dg.job
    def job_always():
        always()

    result = job_always.execute_in_process(raise_on_error=False)
    types = [e.event_type_value for e in result.all_events if e.step_key == "always" and e.is_step_event]
    assert types == ["STEP_START", "STEP_UP_FOR_RETRY", "STEP_RESTARTED", "STEP_FAILURE"]


def test_job_op_retry_policy_applies_to_every_op():
    attempts = []

    @dg.op
    def flaky(context):
        attempts.append(context.retry_number)
        if not context.retry_number:
            raise ValueError("first time")

    @dg.job(op_retry_policy=dg.RetryPolicy(max_retries=1))
    def job_policy():
        flaky()

    assert job_policy.execute_in_process().success
    assert attempts == [0, 1]


def test_retry_requested_from_the_op_body():
    @dg.op
    def asks(context):
        if context.retry_number < 2:
            raise dg.RetryRequested(max_retries=3) from ConnectionError("down")
        return context.retry_number

    @dg.job
    def job_asks():
        asks()

    result = job_asks.execute_in_process()
    assert result.output_for_node("asks") == 2
    retry = next(e for e in result.all_events if e.is_step_up_for_retry)
    assert retry.step_retry_data.error.cls_name == "RetryRequested"
    assert retry.step_retry_data.error.cause.cls_name == "ConnectionError"


def test_retry_requested_beyond_max_retries_fails():
    @dg.op
    def asks():
        raise dg.RetryRequested(max_retries=1) from KeyError("k")

    @dg.job
    def job_asks():
        asks()

    result = job_asks.execute_in_process(raise_on_error=False)
    failure = result.get_step_failure_events()[0].step_failure_data
    assert failure.error.cls_name == "RetryRequested"
    assert failure.error.message == "Exceeded max_retries of 1\n"
    assert failure.error.cause.cls_name == "KeyError"


def test_failure_with_allow_retries_false_is_not_retried():
    attempts = []

    @dg.op(retry_policy=dg.RetryPolicy(max_retries=3))
    def final(context):
        attempts.append(1)
        raise dg.Failure("stop", allow_retries=False)

    @dg.job
    def job_final():
        final()

    result = job_final.execute_in_process(raise_on_error=False)
    assert attempts == [1]
    assert result.get_failed_step_keys() == {"final"}


def test_execute_in_process_ignores_retries_disabled_in_run_config():
    @dg.op(retry_policy=dg.RetryPolicy(max_retries=3))
    def fails():
        raise ValueError("x")

    @dg.job
    def job_fails():
        fails()

    result = job_fails.execute_in_process(
        raise_on_error=False, run_config={"execution": {"config": {"in_process": {"retries": {"disabled": {}}}}}}
    )
    # Dagster's execute_in_process replaces the executor and ignores its config.
    assert [e.event_type_value for e in result.all_events if e.step_key == "fails" and e.is_step_event] == [
        "STEP_START", *["STEP_UP_FOR_RETRY", "STEP_RESTARTED"] * 3, "STEP_FAILURE"
    ]


def test_retry_policy_delay_waits_between_attempts():
    import time

    @dg.op(retry_policy=dg.RetryPolicy(max_retries=1, delay=0.05))
    def slow_retry(context):
        if not context.retry_number:
            raise ValueError("once")

    @dg.job
    def job_delay():
        slow_retry()

    started = time.perf_counter()
    assert job_delay.execute_in_process().success
    assert time.perf_counter() - started >= 0.05


def test_backoff_and_jitter_delays():
    assert calculate_delay(1, dg.Backoff.LINEAR, None, 2) == 2
    assert calculate_delay(3, dg.Backoff.LINEAR, None, 2) == 6
    assert calculate_delay(3, dg.Backoff.EXPONENTIAL, None, 1) == 7
    assert 0 <= calculate_delay(3, dg.Backoff.EXPONENTIAL, dg.Jitter.FULL, 1) <= 7
    assert 0 <= calculate_delay(1, None, dg.Jitter.PLUS_MINUS, 5) <= 10
    policy = dg.RetryPolicy(max_retries=2, delay=1, backoff=dg.Backoff.EXPONENTIAL)
    assert policy.calculate_delay(2) == 3


def test_retry_policy_validation():
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="backoff"):
        dg.RetryPolicy(backoff=dg.Backoff.LINEAR)
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="jitter"):
        dg.RetryPolicy(jitter=dg.Jitter.FULL)


def test_missing_required_output_fails_with_step_output_not_found():
    @dg.op(out={"a": dg.Out(), "b": dg.Out()})
    def only_a():
        yield dg.Output(1, "a")

    @dg.job
    def job_missing():
        only_a()

    result = job_missing.execute_in_process(raise_on_error=False)
    error = result.get_step_failure_events()[0].step_failure_data.error
    assert error.cls_name == "DagsterStepOutputNotFoundError"
    assert 'did not return an output for non-optional output "b"' in error.message


def test_resource_init_failure_fails_the_run_before_any_step():
    @dg.resource
    def broken_resource(_):
        raise RuntimeError("cannot connect")

    @dg.op(required_resource_keys={"db"})
    def uses_db(context):
        return 1

    @dg.job(resource_defs={"db": broken_resource})
    def job_db():
        uses_db()

    result = job_db.execute_in_process(raise_on_error=False)
    assert not result.success
    types = [e.event_type_value for e in result.all_events]
    assert "RESOURCE_INIT_FAILURE" in types
    assert "STEP_START" not in types
    assert types[-1] == "PIPELINE_FAILURE"
