"""ScheduleDefinition, @schedule and their evaluation. Expected values and messages were taken from
Dagster 1.13 running the same code (`import dagster as dg`)."""

from __future__ import annotations

import datetime as dt
import warnings

import pytest

import orchestra as dg
from orchestra._core.automation.schedule_context import ScheduleExecutionError


@dg.op
def do_nothing():
    pass


@dg.job
def my_job():
    do_nothing()


@pytest.fixture
def context():
    return dg.build_schedule_context(scheduled_execution_time=dt.datetime(2024, 1, 1))


def requests(tick):
    return [(r.run_key, r.run_config, dict(r.tags)) for r in tick.run_requests]


# --- definition ---------------------------------------------------------------------------------


def test_schedule_name_defaults_to_job_name_with_schedule_suffix():
    schedule = dg.ScheduleDefinition(cron_schedule="0 0 * * *", job=my_job)
    assert (schedule.name, schedule.job_name, schedule.job) == ("my_job_schedule", "my_job", my_job)
    assert schedule.execution_timezone is None
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert (schedule.description, schedule.tags, schedule.metadata, schedule.required_resource_keys) == (None, {}, {}, set())
    by_name = dg.ScheduleDefinition(cron_schedule="0 0 * * *", job_name="other")
    assert (by_name.name, by_name.job_name) == ("other_schedule", "other")
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="No job was provided to ScheduleDefinition."):
        _ = by_name.job


def test_invalid_cron_strings_are_rejected_with_dagsters_message():
    with pytest.raises(dg.DagsterInvalidDefinitionError) as info:
        dg.ScheduleDefinition(name="s", cron_schedule="bad", job=my_job)
    assert str(info.value) == (
        "Found invalid cron schedule 'bad' for schedule 's''. Dagster recognizes standard cron expressions "
        "consisting of 5 fields."
    )
    with pytest.raises(dg.DagsterInvalidDefinitionError, match=r"Found invalid cron schedule '\[\]'"):
        dg.ScheduleDefinition(name="s", cron_schedule=[], job=my_job)
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="for schedule '<lambda>''"):
        dg.schedule("0 0 * * * *", job_name="j")(lambda context: {})


def test_invalid_execution_timezone_is_rejected():
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="^Invalid execution timezone Mars/Base for s$"):
        dg.ScheduleDefinition(name="s", cron_schedule="0 0 * * *", job=my_job, execution_timezone="Mars/Base")


def test_out_of_range_step_warns():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dg.ScheduleDefinition(name="s90", cron_schedule="*/90 * * * *", job=my_job)
    assert any("interval greater than the expected range for schedule 's90'" in str(w.message) for w in caught)


def test_exactly_one_target_is_required():
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="more than one of 'job', 'job_name', and 'target'"):
        dg.ScheduleDefinition(name="s", cron_schedule="0 0 * * *", job=my_job, job_name="x")
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Must provide target, job, or job_name"):
        dg.ScheduleDefinition(name="s", cron_schedule="0 0 * * *")


def test_conflicting_config_and_tag_arguments_are_rejected():
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="both run_config_fn and run_config"):
        dg.ScheduleDefinition(name="s", cron_schedule="0 0 * * *", job=my_job, run_config={"a": 1}, run_config_fn=lambda c: {})
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="both tags_fn and tags"):
        dg.ScheduleDefinition(name="s", cron_schedule="0 0 * * *", job=my_job, tags={"a": "b"}, tags_fn=lambda c: {})
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="both execution_fn and individual run_config/tags_fn"):
        dg.ScheduleDefinition(name="s", cron_schedule="0 0 * * *", job=my_job, run_config={"a": 1}, execution_fn=lambda c: None)
    # An empty run_config counts as not given, as in Dagster.
    dg.ScheduleDefinition(name="s", cron_schedule="0 0 * * *", job=my_job, run_config={}, run_config_fn=lambda c: {})


def test_names_must_match_dagsters_name_pattern():
    with pytest.raises(dg.DagsterInvalidDefinitionError, match=r'"my schedule" is not a valid name in Dagster'):
        dg.ScheduleDefinition(name="my schedule", cron_schedule="0 0 * * *", job=my_job)


def test_tags_are_stored_as_strings_and_reserved_prefixes_are_rejected():
    schedule = dg.ScheduleDefinition(name="s", cron_schedule="0 0 * * *", job=my_job, tags={"a": 1, "b": {"x": 1}})
    assert schedule.tags == {"a": "1", "b": '{"x": 1}'}
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="reserved system prefix: dagster/foo"):
        dg.ScheduleDefinition(name="s", cron_schedule="0 0 * * *", job=my_job, tags={"dagster/foo": "x"})


def test_metadata_is_normalized_to_metadata_values():
    schedule = dg.ScheduleDefinition(name="s", cron_schedule="0 0 * * *", job=my_job, metadata={"m": 1})
    assert schedule.metadata == {"m": dg.IntMetadataValue(1)}


def test_owners_must_be_emails_or_teams():
    schedule = dg.ScheduleDefinition(name="s", cron_schedule="0 0 * * *", job=my_job, owners=["a@b.com", "team:data"])
    assert schedule.owners == ["a@b.com", "team:data"]
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Invalid owner 'bob' for schedule 's'"):
        dg.ScheduleDefinition(name="s", cron_schedule="0 0 * * *", job=my_job, owners=["bob"])


def test_decorator_keeps_name_description_timezone_status_and_wraps_the_function():
    @dg.schedule(
        "0 0 * * *",
        job_name="j",
        name="custom",
        description="d",
        execution_timezone="America/New_York",
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
    def decorated(_):
        """doc"""
        return {}

    assert isinstance(decorated, dg.ScheduleDefinition)
    assert (decorated.name, decorated.description, decorated.execution_timezone) == ("custom", "d", "America/New_York")
    assert decorated.default_status == dg.DefaultScheduleStatus.RUNNING
    assert (decorated.__name__, decorated.__doc__) == ("decorated", "doc")

    @dg.schedule("0 0 * * *", job_name="j")
    def documented(_):
        """the doc"""

    assert documented.description is None  # Dagster does not use the docstring


# --- evaluation ---------------------------------------------------------------------------------


def test_run_config_schedule_requests_one_run_tagged_with_the_schedule(context):
    schedule = dg.ScheduleDefinition(
        name="s", cron_schedule="0 0 * * *", job=my_job, run_config={"ops": {"o": {"config": {"x": 1}}}}, tags={"t": "v"}
    )
    tick = schedule.evaluate_tick(context)
    assert requests(tick) == [(None, {"ops": {"o": {"config": {"x": 1}}}}, {"t": "v", "dagster/schedule_name": "s"})]
    assert tick.skip_message is None


def test_should_execute_false_skips_with_dagsters_message(context):
    schedule = dg.ScheduleDefinition(name="s2", cron_schedule="0 0 * * *", job=my_job, should_execute=lambda c: False)
    tick = schedule.evaluate_tick(context)
    assert (tick.run_requests, tick.skip_message) == ([], "should_execute function for s2 returned false.")


def test_run_config_fn_and_tags_fn_are_called_per_tick(context):
    schedule = dg.ScheduleDefinition(
        name="s3",
        cron_schedule="0 0 * * *",
        job=my_job,
        run_config_fn=lambda c: {"date": c.scheduled_execution_time.isoformat()},
        tags_fn=lambda c: {"k": "v"},
    )
    assert requests(schedule.evaluate_tick(context)) == [
        (None, {"date": "2024-01-01T00:00:00"}, {"k": "v", "dagster/schedule_name": "s3"})
    ]
    no_arg = dg.ScheduleDefinition(name="s4", cron_schedule="0 0 * * *", job=my_job, run_config_fn=lambda: {"noarg": 1})
    assert requests(no_arg.evaluate_tick(context)) == [(None, {"noarg": 1}, {"dagster/schedule_name": "s4"})]


def test_decorated_function_returning_a_dict_gets_the_decorator_tags(context):
    @dg.schedule(cron_schedule="0 0 * * *", job=my_job, tags={"team": "x"})
    def sched_dict(context):
        return {"ops": {"o": {"config": {"d": context.scheduled_execution_time.strftime("%Y-%m-%d")}}}}

    assert requests(sched_dict.evaluate_tick(context)) == [
        (None, {"ops": {"o": {"config": {"d": "2024-01-01"}}}}, {"team": "x", "dagster/schedule_name": "sched_dict"})
    ]


def test_decorator_tags_do_not_apply_to_returned_run_requests(context):
    @dg.schedule("0 0 * * *", job_name="j", tags={"a": "b"})
    def sched_rr_tags(_):
        return dg.RunRequest(run_key=None, tags={"x": "y"})

    assert requests(sched_rr_tags.evaluate_tick(context)) == [(None, {}, {"x": "y", "dagster/schedule_name": "sched_rr_tags"})]


@pytest.mark.parametrize("result", [None, []])
def test_empty_results_skip_with_dagsters_message(context, result):
    schedule = dg.schedule("0 0 * * *", job_name="j", name="empty")(lambda _: result)
    tick = schedule.evaluate_tick(context)
    assert (tick.run_requests, tick.skip_message) == ([], "Schedule function returned an empty result")


def test_skip_reason_and_single_run_request_results(context):
    skip = dg.schedule("0 0 * * *", job_name="j", name="skip")(lambda _: dg.SkipReason("nope"))
    assert skip.evaluate_tick(context).skip_message == "nope"
    single = dg.schedule("0 0 * * *", job_name="j", name="rr")(
        lambda _: dg.RunRequest(run_key="k", run_config={"a": 1}, tags={"x": "y"})
    )
    assert requests(single.evaluate_tick(context)) == [("k", {"a": 1}, {"x": "y", "dagster/schedule_name": "rr"})]


def test_generators_and_lists_of_keyed_run_requests_are_accepted(context):
    @dg.schedule("0 0 * * *", job_name="j")
    def sched_gen(_):
        yield dg.RunRequest(run_key="a")
        yield dg.RunRequest(run_key="b")

    assert [r.run_key for r in sched_gen.evaluate_tick(context).run_requests] == ["a", "b"]
    listed = dg.schedule("0 0 * * *", job_name="j", name="listed")(lambda _: [dg.RunRequest(run_key="a"), dg.RunRequest(run_key="b")])
    assert [r.run_key for r in listed.evaluate_tick(context).run_requests] == ["a", "b"]


def test_several_run_requests_need_run_keys(context):
    schedule = dg.schedule("0 0 * * *", job_name="j", name="multi")(lambda _: [dg.RunRequest(), dg.RunRequest()])
    with pytest.raises(dg.DagsterInvariantViolationError, match="must specify a run_key in each RunRequest"):
        schedule.evaluate_tick(context)


def test_mixed_or_unexpected_results_are_rejected(context):
    def both(_):
        yield dg.RunRequest(run_key="a")
        yield dg.SkipReason("x")

    with pytest.raises(dg.DagsterInvariantViolationError, match="Member of list mismatches type"):
        dg.schedule("0 0 * * *", job_name="j", name="both")(both).evaluate_tick(context)
    with pytest.raises(dg.DagsterInvariantViolationError, match=r"Object 'hello' is not one of \['RunRequest', 'SkipReason'\]"):
        dg.schedule("0 0 * * *", job_name="j", name="s")(lambda _: "hello").evaluate_tick(context)


def test_user_errors_are_wrapped_in_a_schedule_execution_error(context):
    @dg.schedule("0 0 * * *", job_name="j")
    def sched_raise(_):
        raise ValueError("boom")

    with pytest.raises(ScheduleExecutionError, match="^Error occurred during the evaluation of schedule sched_raise$") as info:
        sched_raise.evaluate_tick(context)
    assert isinstance(info.value.__cause__, ValueError)
    assert isinstance(info.value, dg.DagsterUserCodeExecutionError)
    assert isinstance(info.value.user_exception, ValueError)


def test_decorator_should_execute_false_skips(context):
    @dg.schedule("0 0 * * *", job_name="j", should_execute=lambda c: False)
    def sched_should(_):
        return {}

    assert sched_should.evaluate_tick(context).skip_message == "should_execute function for sched_should returned false."


def test_schedule_without_context_parameter_evaluates(context):
    @dg.schedule("0 0 * * *", job_name="j")
    def sched_noarg():
        return {}

    assert requests(sched_noarg.evaluate_tick(context)) == [(None, {}, {"dagster/schedule_name": "sched_noarg"})]


# --- direct invocation --------------------------------------------------------------------------


def test_direct_invocation_returns_what_the_function_returns(context):
    @dg.schedule(cron_schedule="0 0 * * *", job=my_job)
    def nightly(context):
        return {"d": context.scheduled_execution_time.strftime("%Y-%m-%d")}

    assert nightly(context) == {"d": "2024-01-01"}
    assert nightly(context=context) == {"d": "2024-01-01"}

    @dg.schedule("0 0 * * *", job_name="j")
    def sched_gen(_):
        yield dg.RunRequest(run_key="a")

    assert [r.run_key for r in sched_gen(context)] == ["a"]


def test_direct_invocation_argument_errors_match_dagster(context):
    @dg.schedule(cron_schedule="0 0 * * *", job=my_job)
    def nightly(context):
        return {}

    with pytest.raises(dg.DagsterInvalidInvocationError, match="expected context argument, but no context argument"):
        nightly()
    with pytest.raises(dg.DagsterInvalidInvocationError, match="^Schedule invocation expected argument 'context'.$"):
        nightly(ctx2=context)
    with pytest.raises(dg.DagsterInvalidInvocationError, match="received multiple non-resource arguments"):
        nightly(context, context)
    plain = dg.ScheduleDefinition(name="s", cron_schedule="0 0 * * *", job=my_job)
    with pytest.raises(dg.DagsterInvalidInvocationError, match="only supported for schedules created via the schedule decorators"):
        plain(context)


def test_no_argument_schedule_can_be_invoked_with_or_without_a_context(context):
    @dg.schedule("0 0 * * *", job_name="j")
    def sched_noarg():
        return {}

    assert sched_noarg() == {}
    assert sched_noarg(context) == {}


# --- context ------------------------------------------------------------------------------------


def test_context_without_time_or_instance_raises_on_access():
    context = dg.build_schedule_context()
    with pytest.raises(dg.DagsterInvariantViolationError, match="no scheduled_execution_time was set"):
        _ = context.scheduled_execution_time
    with pytest.raises(dg.DagsterInvariantViolationError, match="no instance reference was provided"):
        _ = context.instance


def test_context_instance_and_log():
    instance = object()
    context = dg.build_schedule_context(instance=instance)
    assert context.instance is instance
    context.log.info("hello")
    assert context.captured_log_lines()[0]["message"] == "hello"


# --- resources ----------------------------------------------------------------------------------


class Greeting(dg.ConfigurableResource):
    word: str


def test_resource_parameters_are_filled_from_the_context():
    @dg.schedule("0 0 * * *", job_name="j")
    def with_resource(context, greeting: Greeting):
        return {"v": greeting.word}

    assert with_resource.required_resource_keys == {"greeting"}
    tick = with_resource.evaluate_tick(dg.build_schedule_context(resources={"greeting": Greeting(word="z")}))
    assert requests(tick) == [(None, {"v": "z"}, {"dagster/schedule_name": "with_resource"})]
    assert with_resource(dg.build_schedule_context(), greeting=Greeting(word="q")) == {"v": "q"}
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Resource with key 'greeting' required by schedule 'with_resource' was not provided."):
        with_resource.evaluate_tick(dg.build_schedule_context())


def test_required_resource_keys_are_available_on_context_resources():
    @dg.schedule("0 0 * * *", job_name="j", required_resource_keys={"foo"})
    def needs_foo(context):
        return {"v": context.resources.foo}

    assert requests(needs_foo.evaluate_tick(dg.build_schedule_context(resources={"foo": "bar"}))) == [
        (None, {"v": "bar"}, {"dagster/schedule_name": "needs_foo"})
    ]
    with pytest.raises(dg.DagsterUnknownResourceError):
        needs_foo.evaluate_tick(dg.build_schedule_context())


def test_generator_resources_need_the_context_as_a_with_block():
    torn_down = []

    @dg.resource
    def conn(_):
        yield "c"
        torn_down.append(True)

    @dg.schedule("0 0 * * *", job_name="j", required_resource_keys={"conn"})
    def uses_conn(context):
        return {"c": context.resources.conn}

    with pytest.raises(dg.DagsterInvariantViolationError, match="with build_schedule_context"):
        uses_conn.evaluate_tick(dg.build_schedule_context(resources={"conn": conn}))
    with dg.build_schedule_context(resources={"conn": conn}) as context:
        assert requests(uses_conn.evaluate_tick(context))[0][1] == {"c": "c"}
    assert torn_down == [True, True]  # the refused access also built and tore down, as in Dagster


# --- snapshot and tick times --------------------------------------------------------------------


def test_snapshot_is_plain_json():
    schedule = dg.ScheduleDefinition(
        name="s",
        cron_schedule=["0 0 * * *", "0 12 * * *"],
        job=my_job,
        execution_timezone="Europe/Paris",
        description="twice a day",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        tags={"team": "data"},
        metadata={"owner_note": "x"},
    )
    assert schedule.to_snapshot() == {
        "kind": "schedule",
        "name": "s",
        "cron_schedule": ["0 0 * * *", "0 12 * * *"],
        "execution_timezone": "Europe/Paris",
        "job_name": "my_job",
        "default_status": "RUNNING",
        "description": "twice a day",
        "tags": {"team": "data"},
        "metadata": [{"label": "owner_note", "type": "text", "data": "x"}],
        "owners": [],
        "required_resource_keys": [],
    }


def test_schedule_lists_its_execution_times_in_its_timezone():
    schedule = dg.ScheduleDefinition(name="s", cron_schedule="0 2 * * *", job=my_job, execution_timezone="America/New_York")
    times = schedule.execution_times(dt.datetime(2024, 3, 9, 12, tzinfo=dt.UTC), dt.datetime(2024, 3, 11, 12, tzinfo=dt.UTC))
    assert [t.isoformat() for t in times] == ["2024-03-10T03:00:00-04:00", "2024-03-11T02:00:00-04:00"]
    assert schedule.next_tick_after(times[0]).isoformat() == "2024-03-11T02:00:00-04:00"


def test_with_updated_job_keeps_the_evaluation(context):
    @dg.job
    def other_job():
        do_nothing()

    schedule = dg.ScheduleDefinition(name="s", cron_schedule="0 0 * * *", job=my_job, run_config={"a": 1})
    moved = schedule.with_updated_job(other_job)
    assert (moved.name, moved.job_name) == ("s", "other_job")
    assert requests(moved.evaluate_tick(context)) == [(None, {"a": 1}, {"dagster/schedule_name": "s"})]


# --- targets ------------------------------------------------------------------------------------


def test_asset_targets_launch_an_anonymous_asset_job_named_after_the_schedule():
    schedule = dg.ScheduleDefinition(name="s", cron_schedule="0 0 * * *", target="my_asset")
    assert schedule.job_name == "__anonymous_asset_job_s"

    @dg.sensor(target=["a", "b"])
    def sens(context):
        return dg.RunRequest()

    assert sens.job_name == "__anonymous_asset_job_sens"
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="If you specify target you must specify schedule name"):
        dg.ScheduleDefinition(cron_schedule="0 0 * * *", target="my_asset")
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="^Invalid target passed to schedule/sensor. Target: 5$"):
        dg.ScheduleDefinition(name="s", cron_schedule="0 0 * * *", target=5)


def test_job_targets_and_graphs_become_jobs():
    assert dg.ScheduleDefinition(name="t", cron_schedule="0 0 * * *", target=my_job).job is my_job

    @dg.graph
    def as_graph():
        do_nothing()

    with pytest.warns(DeprecationWarning, match="Passing GraphDefinition as a job/target argument"):
        schedule = dg.ScheduleDefinition(cron_schedule="0 0 * * *", job=as_graph)
    assert (schedule.name, schedule.job_name, type(schedule.job).__name__) == ("as_graph_schedule", "as_graph", "JobDefinition")


def test_direct_invocation_checks_required_resource_keys_and_leaves_them_on_the_context():
    # Dagster 1.13 passes such keys as keyword arguments and fails with a TypeError; we keep them on
    # the context, which is what evaluate_tick does in both.
    @dg.schedule("0 0 * * *", job_name="j", required_resource_keys={"foo"})
    def needs_foo(context):
        return {"v": context.resources.foo}

    assert needs_foo(dg.build_schedule_context(resources={"foo": "bar"})) == {"v": "bar"}
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Resource with key 'foo' required by schedule 'needs_foo' was not provided."):
        needs_foo(dg.build_schedule_context())
