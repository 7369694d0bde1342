"""Op hooks: success/failure hooks on jobs and op invocations."""

import orchestra as dg

calls = []


@dg.success_hook
def on_ok(context):
    calls.append(("ok", context.op.name, context.step_key, dict(context.op_output_values)))


@dg.failure_hook
def on_fail(context):
    calls.append(("fail", context.op.name, type(context.op_exception).__name__))


@dg.op
def good():
    return 1


@dg.op
def bad(x):
    raise ValueError("bad")


def test_job_hooks_run_after_each_op_with_outputs_or_exception():
    calls.clear()

    @dg.job(hooks={on_ok, on_fail})
    def hooked():
        bad(good())

    result = hooked.execute_in_process(raise_on_error=False)
    assert calls == [("ok", "good", "good", {"result": 1}), ("fail", "bad", "ValueError")]
    hook_events = [(e.event_type_value, e.step_key) for e in result.all_events if e.event_type_value.startswith("HOOK")]
    assert hook_events == [
        ("HOOK_SKIPPED", "good"), ("HOOK_COMPLETED", "good"), ("HOOK_COMPLETED", "bad"), ("HOOK_SKIPPED", "bad"),
    ]
    completed = next(e for e in result.all_events if e.event_type_value == "HOOK_COMPLETED")
    assert completed.message == 'Finished the execution of hook "on_ok" triggered for "good".'


def test_hook_on_one_invocation_only():
    calls.clear()

    @dg.job
    def partly():
        good.with_hooks({on_ok})()
        good.alias("plain")()

    result = partly.execute_in_process()
    assert [c[1:3] for c in calls] == [("good", "good")]
    assert [e.step_key for e in result.all_events if e.event_type_value == "HOOK_COMPLETED"] == ["good"]


def test_erroring_hook_does_not_fail_the_run():
    @dg.success_hook
    def broken(context):
        raise RuntimeError("hook broke")

    @dg.job(hooks={broken})
    def with_broken():
        good()

    result = with_broken.execute_in_process()
    assert result.success
    errored = next(e for e in result.all_events if e.event_type_value == "HOOK_ERRORED")
    assert errored.hook_errored_data.error.cause.cls_name == "RuntimeError"


def test_hook_resources_and_direct_invocation():
    seen = []

    @dg.success_hook(required_resource_keys={"sink"})
    def to_sink(context):
        context.resources.sink.append(context.op.name)

    sink = []

    @dg.job(resource_defs={"sink": dg.ResourceDefinition.hardcoded_resource(sink)}, hooks={to_sink})
    def with_resource():
        good()

    with_resource.execute_in_process()
    assert sink == ["good"]

    @dg.success_hook
    def direct(context):
        seen.append(context.resources.value)

    direct(dg.build_hook_context(resources={"value": 3}))
    assert seen == [3]
    assert isinstance(direct, dg.HookDefinition)


def test_hook_applied_to_a_job_definition():
    calls.clear()

    @dg.job
    def later():
        good()

    hooked = on_ok(later)
    hooked.execute_in_process()
    assert calls and calls[0][1] == "good"
