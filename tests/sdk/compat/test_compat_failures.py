"""Dagster programs about hooks, retries, Failure, and type checks, with Dagster 1.13's values."""

import pytest

import orchestra as dg


def _steps(result):
    out = {}
    for event in result.all_events:
        out.setdefault(event.step_key, []).append(event.event_type_value)
    return out


def _failure(result):
    return result.get_step_failure_events()[0].event_specific_data


@dg.op
def good() -> int:
    return 1


@dg.op
def bad(x: int) -> int:
    raise ValueError("boom")


def test_job_level_success_and_failure_hooks_with_resources():
    calls = []

    @dg.success_hook
    def on_ok(context):
        calls.append(("ok", context.op.name, context.step_key, context.job_name))

    @dg.failure_hook(required_resource_keys={"sink"})
    def on_fail(context):
        calls.append(("fail", context.op.name, type(context.op_exception).__name__, str(context.op_exception), context.resources.sink))

    @dg.job(hooks={on_ok, on_fail}, resource_defs={"sink": dg.ResourceDefinition.hardcoded_resource("S")})
    def j():
        bad(good())

    result = j.execute_in_process(raise_on_error=False)
    steps = _steps(result)
    # hooks are a set: the order of HOOK_COMPLETED / HOOK_SKIPPED differs from run to run in Dagster too
    assert steps["good"][:4] == ["STEP_START", "STEP_OUTPUT", "HANDLED_OUTPUT", "STEP_SUCCESS"]
    assert sorted(steps["good"][4:]) == ["HOOK_COMPLETED", "HOOK_SKIPPED"]
    assert steps["bad"][:4] == ["STEP_START", "LOADED_INPUT", "STEP_INPUT", "STEP_FAILURE"]
    assert sorted(steps["bad"][4:]) == ["HOOK_COMPLETED", "HOOK_SKIPPED"]
    assert sorted(calls) == [("fail", "bad", "ValueError", "boom", "S"), ("ok", "good", "good", "j")]


def test_op_level_hooks_and_named_hooks_on_to_job():
    calls = []

    @dg.success_hook
    def on_ok(context):
        calls.append(("ok", context.op.name))

    @dg.failure_hook
    def on_fail(context):
        calls.append(("fail", context.op.name, str(context.op_exception)))

    @dg.job
    def j2():
        bad.with_hooks({on_fail})(good.with_hooks({on_ok})())

    result = j2.execute_in_process(raise_on_error=False)
    assert _steps(result)["bad"][-1] == "HOOK_COMPLETED" and _steps(result)["good"][-1] == "HOOK_COMPLETED"
    assert sorted(calls) == [("fail", "bad", "boom"), ("ok", "good")]

    named_calls = []

    @dg.success_hook(name="named")
    def named_hook(context):
        named_calls.append(("named", context.hook_def.name))

    @dg.graph
    def g():
        good()

    assert g.to_job(hooks={named_hook}).execute_in_process().success
    assert named_calls == [("named", "named")]


def test_hook_that_raises_is_hook_errored_and_the_run_still_succeeds():
    @dg.success_hook
    def exploding(context):
        raise RuntimeError("hook broke")

    @dg.job(hooks={exploding})
    def j3():
        good()

    result = j3.execute_in_process(raise_on_error=False)
    assert result.success
    assert _steps(result)["good"] == [
        "RESOURCE_INIT_STARTED", "RESOURCE_INIT_SUCCESS", "STEP_START", "STEP_OUTPUT", "HANDLED_OUTPUT", "STEP_SUCCESS",
        "HOOK_ERRORED",
    ]


def test_retry_policy_with_backoff_and_jitter_retries_until_success():
    attempts = []

    @dg.op(retry_policy=dg.RetryPolicy(max_retries=2, delay=0.01, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS))
    def flaky(context) -> int:
        attempts.append(context.retry_number)
        if context.retry_number < 2:
            raise ValueError("transient")
        return context.retry_number

    @dg.job
    def j():
        flaky()

    result = j.execute_in_process()
    assert _steps(result)["flaky"] == [
        "RESOURCE_INIT_STARTED", "RESOURCE_INIT_SUCCESS", "STEP_START", "STEP_UP_FOR_RETRY", "STEP_RESTARTED",
        "STEP_UP_FOR_RETRY", "STEP_RESTARTED", "STEP_OUTPUT", "HANDLED_OUTPUT", "STEP_SUCCESS",
    ]
    assert result.output_for_node("flaky") == 2
    assert attempts == [0, 1, 2]


def test_retry_requested_and_job_level_op_retry_policy():
    @dg.op
    def requests_retry(context):
        if context.retry_number < 1:
            raise dg.RetryRequested(max_retries=3, seconds_to_wait=0.01)
        return "done"

    @dg.job
    def j2():
        requests_retry()

    result = j2.execute_in_process()
    assert _steps(result)["requests_retry"] == [
        "RESOURCE_INIT_STARTED", "RESOURCE_INIT_SUCCESS", "STEP_START", "STEP_UP_FOR_RETRY", "STEP_RESTARTED",
        "STEP_OUTPUT", "HANDLED_OUTPUT", "STEP_SUCCESS",
    ]
    assert result.output_for_node("requests_retry") == "done"

    @dg.job(op_retry_policy=dg.RetryPolicy(max_retries=1))
    def j4():
        requests_retry()

    assert j4.execute_in_process().success


def test_exhausted_retry_policy_reports_the_retry_request_and_raises_max_retries_exceeded():
    @dg.op(retry_policy=dg.RetryPolicy(max_retries=1))
    def always_fails():
        raise ValueError("permanent")

    @dg.op
    def downstream(x):
        return x

    @dg.job
    def j3():
        downstream(always_fails())

    result = j3.execute_in_process(raise_on_error=False)
    assert _steps(result)["always_fails"] == ["STEP_START", "STEP_UP_FOR_RETRY", "STEP_RESTARTED", "STEP_FAILURE"]
    assert "downstream" not in _steps(result)
    data = _failure(result)
    assert (data.error.cls_name, data.error.message.strip()) == ("RetryRequestedFromPolicy", "Exceeded max_retries of 1")
    assert data.error.cause.cls_name == "ValueError"
    assert data.user_failure_data is None
    with pytest.raises(Exception) as info:
        j3.execute_in_process()
    assert type(info.value).__name__ == "DagsterMaxRetriesExceededError"
    assert str(info.value).splitlines()[0] == "Exceeded max_retries of 1"


def test_exhausted_retries_call_failure_hooks_with_the_original_exception():
    calls = []

    @dg.failure_hook
    def fh(context):
        calls.append(type(context.op_exception).__name__)

    @dg.op(retry_policy=dg.RetryPolicy(max_retries=1))
    def always():
        raise ValueError("nope")

    @dg.op
    def explicit(context):
        raise dg.RetryRequested(max_retries=1) from ValueError("root cause")

    @dg.job(hooks={fh})
    def j3():
        always()

    @dg.job(hooks={fh})
    def j4():
        explicit()

    expected = [
        "RESOURCE_INIT_STARTED", "RESOURCE_INIT_SUCCESS", "STEP_START", "STEP_UP_FOR_RETRY", "HOOK_SKIPPED",
        "STEP_RESTARTED", "STEP_FAILURE", "HOOK_COMPLETED",
    ]
    result = j3.execute_in_process(raise_on_error=False)
    assert _steps(result)["always"] == expected
    assert calls == ["ValueError"]
    result = j4.execute_in_process(raise_on_error=False)
    assert _steps(result)["explicit"] == expected
    error = _failure(result).error
    assert (error.cls_name, error.message.strip(), error.cause.cls_name) == ("RetryRequested", "Exceeded max_retries of 1", "ValueError")
    assert calls == ["ValueError", "RetryRequested"]

    @dg.op(retry_policy=dg.RetryPolicy(max_retries=1))
    def fail_meta():
        raise dg.Failure("with meta", metadata={"k": 1})

    @dg.job
    def j5():
        fail_meta()

    data = _failure(j5.execute_in_process(raise_on_error=False))
    assert (data.error.cls_name, data.user_failure_data.description, sorted(data.user_failure_data.metadata)) == (
        "RetryRequestedFromPolicy", "with meta", ["k"]
    )


def test_execute_in_process_ignores_executor_config_for_retries():
    @dg.op(retry_policy=dg.RetryPolicy(max_retries=2))
    def flaky(context):
        if context.retry_number == 0:
            raise ValueError("first")
        return context.retry_number

    @dg.job(executor_def=dg.in_process_executor)
    def j():
        flaky()

    result = j.execute_in_process(run_config={"execution": {"config": {"retries": {"disabled": {}}}}})
    assert _steps(result)["flaky"] == [
        "RESOURCE_INIT_STARTED", "RESOURCE_INIT_SUCCESS", "STEP_START", "STEP_UP_FOR_RETRY", "STEP_RESTARTED",
        "STEP_OUTPUT", "HANDLED_OUTPUT", "STEP_SUCCESS",
    ]

    @dg.job
    def j2():
        flaky()

    assert j2.executor_def.name == "multi_or_in_process_executor"
    assert j2.execute_in_process(run_config={"execution": {"config": {"multiprocess": {"max_concurrent": 2}}}}).success


def test_retry_policy_delays_and_definition_errors():
    policy = dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.LINEAR)
    assert (policy.max_retries, policy.delay, policy.backoff, policy.jitter) == (3, 2, dg.Backoff.LINEAR, None)
    assert (policy.calculate_delay(1), policy.calculate_delay(3)) == (2, 6)
    exponential = dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL)
    assert [exponential.calculate_delay(n) for n in (1, 2, 3)] == [2, 6, 14]
    # Dagster's two messages are swapped (jitter <-> backoff); Orchestra names the argument actually set.
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="without also setting delay"):
        dg.RetryPolicy(max_retries=1, jitter=dg.Jitter.FULL)
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="without also setting delay"):
        dg.RetryPolicy(max_retries=1, backoff=dg.Backoff.LINEAR)


def test_failure_with_metadata_is_reported_and_raised_unwrapped():
    @dg.op
    def fails():
        raise dg.Failure(description="It broke", metadata={"rows": 3, "path": dg.MetadataValue.path("/tmp/x"), "url": dg.MetadataValue.url("http://e.com")})

    @dg.job
    def j():
        fails()

    result = j.execute_in_process(raise_on_error=False)
    assert _steps(result)["fails"] == ["RESOURCE_INIT_STARTED", "RESOURCE_INIT_SUCCESS", "STEP_START", "STEP_FAILURE"]
    event = result.get_step_failure_events()[0]
    data = event.event_specific_data
    assert data.error.cls_name == "Failure"
    assert data.error.message.strip().endswith("Failure: It broke")
    assert data.user_failure_data.description == "It broke"
    assert {k: (type(v).__name__, v.value) for k, v in data.user_failure_data.metadata.items()} == {
        "rows": ("IntMetadataValue", 3), "path": ("PathMetadataValue", "/tmp/x"), "url": ("UrlMetadataValue", "http://e.com")
    }
    assert (event.step_key, event.event_type, event.is_failure, event.is_step_failure) == (
        "fails", dg.DagsterEventType.STEP_FAILURE, True, True
    )
    with pytest.raises(dg.Failure) as info:
        j.execute_in_process()
    assert (info.value.description, sorted(info.value.metadata)) == ("It broke", ["path", "rows", "url"])

    @dg.op
    def fails_no_retry():
        raise dg.Failure("no", allow_retries=False)

    @dg.job(op_retry_policy=dg.RetryPolicy(max_retries=3))
    def j2():
        fails_no_retry()

    result = j2.execute_in_process(raise_on_error=False)
    assert _steps(result)["fails_no_retry"] == ["RESOURCE_INIT_STARTED", "RESOURCE_INIT_SUCCESS", "STEP_START", "STEP_FAILURE"]


def test_user_exception_is_wrapped_in_the_event_and_raised_as_is():
    @dg.op
    def key_err():
        return {}["missing"]

    @dg.job
    def j3():
        key_err()

    result = j3.execute_in_process(raise_on_error=False)
    error = _failure(result).error
    assert error.cls_name == "DagsterExecutionStepExecutionError"
    assert error.message.strip().endswith('DagsterExecutionStepExecutionError: Error occurred while executing op "key_err":')
    assert str(error.cause).startswith("KeyError: 'missing'\n")
    assert result.failure_data_for_node("key_err").error.cls_name == "DagsterExecutionStepExecutionError"
    assert result.failure_data_for_node("key_err") is not None
    assert result.dagster_run.status == dg.DagsterRunStatus.FAILURE
    assert result.run_id == result.dagster_run.run_id
    with pytest.raises(KeyError, match="missing"):
        j3.execute_in_process()

    @dg.op
    def chained():
        try:
            raise KeyError("inner")
        except KeyError as e:
            raise RuntimeError("outer") from e

    @dg.job
    def j4():
        chained()

    error = _failure(j4.execute_in_process(raise_on_error=False)).error
    assert (error.cause.cls_name, error.cause.message.strip()) == ("RuntimeError", "RuntimeError: outer")


def test_type_hints_optional_list_dict_and_nothing_inputs():
    from typing import Optional

    @dg.op
    def nums() -> list[int]:
        return [1, 2, 3]

    @dg.op
    def maybe(xs: list[int]) -> Optional[int]:  # noqa: UP045 - the spelling Dagster docs use
        return None

    @dg.op
    def as_dict(x: Optional[int], xs: list[int]) -> dict:  # noqa: UP045
        return {"x": x, "n": len(xs)}

    @dg.op
    def nothing_first() -> dg.Nothing:
        pass

    @dg.op(ins={"start": dg.In(dg.Nothing)})
    def after(d: dict) -> str:
        return str(d)

    @dg.job
    def j():
        xs = nums()
        after(as_dict(maybe(xs), xs), start=nothing_first())

    result = j.execute_in_process()
    steps = _steps(result)
    assert steps["nothing_first"] == ["STEP_START", "STEP_OUTPUT", "STEP_SUCCESS"]
    assert steps["as_dict"] == ["STEP_START", "LOADED_INPUT", "LOADED_INPUT", "STEP_INPUT", "STEP_INPUT", "STEP_OUTPUT",
                                "HANDLED_OUTPUT", "STEP_SUCCESS"]
    assert steps["after"] == ["STEP_START", "LOADED_INPUT", "STEP_INPUT", "STEP_OUTPUT", "HANDLED_OUTPUT", "STEP_SUCCESS"]
    assert result.output_for_node("after") == "{'x': None, 'n': 3}"
    assert result.output_for_node("nothing_first") is None


def test_dagster_type_with_type_check_fn_on_outputs_and_inputs():
    from typing import Any

    Even = dg.DagsterType(name="Even", type_check_fn=lambda _, v: isinstance(v, int) and v % 2 == 0, description="even ints")

    @dg.op(out=dg.Out(Even))
    def give(context) -> Any:
        return context.op_config

    @dg.op(ins={"v": dg.In(Even)})
    def take(v):
        return v

    @dg.job
    def j2():
        take(give())

    assert j2.execute_in_process(run_config={"ops": {"give": {"config": 4}}}).output_for_node("take") == 4
    result = j2.execute_in_process(run_config={"ops": {"give": {"config": 3}}}, raise_on_error=False)
    assert _steps(result)["give"] == ["STEP_START", "STEP_OUTPUT", "STEP_FAILURE"]
    error = _failure(result).error
    assert error.cls_name == "DagsterTypeCheckDidNotPass"
    assert error.message.splitlines()[0].split(": ", 1)[1] == 'Type check failed for step output "result" - expected type "Even". Description: None'
    assert (Even.display_name, Even.unique_name) == ("Even", "Even")
    assert dg.check_dagster_type(Even, 2).success and not dg.check_dagster_type(Even, 3).success

    Pos = dg.DagsterType(name="Pos", type_check_fn=lambda _, v: dg.TypeCheck(success=v > 0, description="positive?", metadata={"value": v}))

    @dg.op(out=dg.Out(Pos))
    def neg():
        return -1

    @dg.job
    def j3():
        neg()

    result = j3.execute_in_process(raise_on_error=False)
    assert _steps(result)["neg"] == ["RESOURCE_INIT_STARTED", "RESOURCE_INIT_SUCCESS", "STEP_START", "STEP_OUTPUT", "STEP_FAILURE"]
    assert _failure(result).error.message.splitlines()[0].endswith('expected type "Pos". Description: positive?')


def test_builtin_type_checks_on_inputs_and_outputs():
    @dg.op
    def typed() -> int:
        return "str"

    @dg.op
    def one():
        return "1"

    @dg.op
    def wrong(x: int) -> str:
        return x

    @dg.job
    def j():
        typed()
        wrong(one())

    result = j.execute_in_process(raise_on_error=False)
    assert _steps(result)["typed"][-3:] == ["STEP_START", "STEP_OUTPUT", "STEP_FAILURE"]
    assert _steps(result)["wrong"] == ["STEP_START", "LOADED_INPUT", "STEP_INPUT", "STEP_FAILURE"]
    messages = {e.step_key: e.event_specific_data.error.message.splitlines()[0].split(": ", 1)[1] for e in result.get_step_failure_events()}
    assert messages == {
        "typed": 'Type check failed for step output "result" - expected type "Int". Description: Value "str" of python type "str" must be a int.',
        "wrong": 'Type check failed for step input "x" - expected type "Int". Description: Value "1" of python type "str" must be a int.',
    }
    with pytest.raises(dg.DagsterTypeCheckDidNotPass, match='^Type check failed for step output "result" - expected type "Int"'):
        j.execute_in_process()
    assert dg.check_dagster_type(int, "a").description == 'Value "a" of python type "str" must be a int.'
    set_type = dg.PythonObjectDagsterType(python_type=set, name="SetType")
    assert dg.check_dagster_type(set_type, {1}).success
    assert dg.check_dagster_type(set_type, [1]).description == (
        "Value of type <class 'list'> failed type check for Dagster type SetType, expected value to be of Python type set."
    )


def test_dagster_type_loader_builds_unconnected_inputs_from_run_config():
    class Point:
        def __init__(self, x, y):
            self.x, self.y = x, y

    @dg.dagster_type_loader(config_schema={"x": int, "y": dg.Field(int, default_value=0)})
    def load_point(context, config):
        return Point(config["x"], config["y"])

    PointType = dg.DagsterType(name="Point", type_check_fn=lambda _, v: isinstance(v, Point), loader=load_point)

    @dg.op(ins={"p": dg.In(PointType)})
    def norm(p) -> int:
        return abs(p.x) + abs(p.y)

    @dg.job
    def j():
        norm()

    result = j.execute_in_process(run_config={"ops": {"norm": {"inputs": {"p": {"x": 3, "y": -4}}}}})
    assert _steps(result)["norm"] == [
        "RESOURCE_INIT_STARTED", "RESOURCE_INIT_SUCCESS", "STEP_START", "STEP_INPUT", "STEP_OUTPUT", "HANDLED_OUTPUT", "STEP_SUCCESS"
    ]
    assert result.output_for_node("norm") == 7
    assert j.execute_in_process(run_config={"ops": {"norm": {"inputs": {"p": {"x": 2}}}}}).output_for_node("norm") == 2
    for run_config in ({"ops": {"norm": {"inputs": {"p": {"y": 2}}}}}, None):
        with pytest.raises(dg.DagsterInvalidConfigError, match="^Error in config for job j"):
            j.execute_in_process(run_config=run_config)
    assert isinstance(load_point, dg.DagsterTypeLoader)

    @dg.dagster_type_loader(config_schema=str)
    def as_text(context, config):
        return config

    Bad = dg.DagsterType(name="Bad", type_check_fn=lambda _, v: isinstance(v, int), loader=as_text)

    @dg.op(ins={"b": dg.In(Bad)})
    def takes_bad(b):
        return b

    @dg.job
    def j2():
        takes_bad()

    result = j2.execute_in_process(run_config={"ops": {"takes_bad": {"inputs": {"b": "s"}}}}, raise_on_error=False)
    assert _steps(result)["takes_bad"] == ["RESOURCE_INIT_STARTED", "RESOURCE_INIT_SUCCESS", "STEP_START", "STEP_INPUT", "STEP_FAILURE"]
    assert _failure(result).error.message.splitlines()[0].split(": ", 1)[1] == (
        'Type check failed for step input "b" - expected type "Bad". Description: None'
    )


def test_hook_context_exposes_outputs_config_and_the_exception():
    seen = []

    @dg.success_hook
    def capture(context: dg.HookContext):
        seen.append((context.job_name, context.step_key, context.op.name, context.hook_def.name, context.op_output_values,
                     context.op_exception, sorted(context.required_resource_keys), context.op_config))

    @dg.op(out={"a": dg.Out(), "b": dg.Out()}, config_schema={"k": dg.Field(int, default_value=1)})
    def two():
        return 1, 2

    @dg.op(out=dg.DynamicOut())
    def dyn():
        yield dg.DynamicOutput(5, "x")
        yield dg.DynamicOutput(6, "y")

    @dg.job(hooks={capture})
    def j():
        two()
        dyn()

    j.execute_in_process()
    assert sorted(seen, key=str) == [
        ("j", "dyn", "dyn", "capture", {"result": {"x": 5, "y": 6}}, None, [], None),
        ("j", "two", "two", "capture", {"a": 1, "b": 2}, None, [], {"k": 1}),
    ]

    failed = []

    @dg.failure_hook
    def fh(context):
        failed.append((type(context.op_exception).__name__, context.op_output_values))

    @dg.op(out={"a": dg.Out(), "b": dg.Out()})
    def partial():
        yield dg.Output(1, "a")
        raise ValueError("after a")

    @dg.job(hooks={fh})
    def j2():
        partial()

    result = j2.execute_in_process(raise_on_error=False)
    assert failed == [("ValueError", {"a": 1})]
    assert _steps(result)["partial"] == [
        "RESOURCE_INIT_STARTED", "RESOURCE_INIT_SUCCESS", "STEP_START", "STEP_OUTPUT", "HANDLED_OUTPUT", "STEP_FAILURE", "HOOK_COMPLETED"
    ]

    @dg.failure_hook(required_resource_keys={"x"})
    def direct(context):
        return ("called", context.resources.x)

    context = dg.build_hook_context(resources={"x": 1}, op=two, op_exception=ValueError("v"))
    assert (context.op.name, type(context.op_exception).__name__) == ("two", "ValueError")
    assert direct(context) == ("called", 1)
