"""SensorDefinition, @sensor, RunRequest / SkipReason / SensorResult and sensor evaluation. Expected
values and messages were taken from Dagster 1.13 running the same code (`import dagster as dg`)."""

from __future__ import annotations

import pytest

import orchestra as dg


@dg.op
def do_nothing():
    pass


@dg.job
def my_job():
    do_nothing()


@dg.job
def job2():
    do_nothing()


def tick_of(sensor, **context_kwargs):
    return sensor.evaluate_tick(dg.build_sensor_context(**context_kwargs))


# --- RunRequest, SkipReason, SensorResult -------------------------------------------------------


def test_run_request_defaults_positional_order_and_repr_match_dagster():
    request = dg.RunRequest("k", {"a": 1}, {"t": 2}, "jn")
    assert repr(request) == (
        "RunRequest(run_key='k', run_config={'a': 1}, tags={'t': '2'}, job_name='jn', asset_selection=None, "
        "stale_assets_only=False, partition_key=None, asset_check_keys=None, asset_graph_subset=None)"
    )
    assert dg.RunRequest("k") == dg.RunRequest("k")
    assert dg.RunRequest().run_config == {} and dg.RunRequest().tags == {}
    assert dg.RunRequest("k").with_replaced_attrs(run_key="z").run_key == "z"


def test_run_request_rejects_tag_values_that_are_not_json():
    with pytest.raises(dg.DagsterInvalidDefinitionError, match='Invalid value for tag "a", Could not JSON encode value'):
        dg.RunRequest(tags={"a": object()})


def test_run_request_accepts_a_run_config_object():
    request = dg.RunRequest(run_config=dg.RunConfig(ops={"load": {"config": {"n": 1}}}))
    assert request.run_config == {"loggers": {}, "resources": {}, "ops": {"load": {"config": {"n": 1}}}, "execution": {}}


def test_skip_reason_holds_an_optional_message():
    assert (dg.SkipReason("m"), dg.SkipReason().skip_message, dg.SkipReason(skip_message="q").skip_message) == (
        dg.SkipReason(skip_message="m"),
        None,
        "q",
    )
    with pytest.raises(dg.DagsterInvariantViolationError, match='Param "skip_message" is not a str'):
        dg.SkipReason(3)


def test_sensor_result_normalizes_its_fields():
    result = dg.SensorResult(skip_reason="x")
    assert repr(result) == (
        "SensorResult(run_requests=[], skip_reason=SkipReason(skip_message='x'), cursor=None, "
        "dynamic_partitions_requests=[], asset_events=[], automation_condition_evaluations=[])"
    )
    with pytest.raises(dg.DagsterInvariantViolationError, match="received values for both run_requests and skip_reason"):
        dg.SensorResult(run_requests=[dg.RunRequest()], skip_reason="x")


def test_dynamic_partition_requests_are_named_tuples():
    add = dg.AddDynamicPartitionsRequest("n", ["a"])
    delete = dg.DeleteDynamicPartitionsRequest(partitions_def_name="n", partition_keys=["b"])
    assert repr(add) == "AddDynamicPartitionsRequest(partitions_def_name='n', partition_keys=['a'])"
    assert repr(delete) == "DeleteDynamicPartitionsRequest(partitions_def_name='n', partition_keys=['b'])"


# --- definition ---------------------------------------------------------------------------------


def test_sensor_defaults_match_dagster():
    @dg.sensor(job=my_job)
    def s1(context):
        return dg.RunRequest(run_key="a")

    assert (s1.name, s1.minimum_interval_seconds, s1.default_status, s1.description) == (
        "s1",
        30,
        dg.DefaultSensorStatus.STOPPED,
        None,
    )
    assert (s1.job_name, s1.job, s1.jobs, s1.tags, s1.metadata, s1.required_resource_keys) == (
        "my_job",
        my_job,
        [my_job],
        {},
        {},
        set(),
    )
    assert isinstance(s1, dg.SensorDefinition)


def test_sensor_options_are_kept():
    @dg.sensor(
        job_name="j",
        name="named",
        minimum_interval_seconds=5,
        description="d",
        default_status=dg.DefaultSensorStatus.RUNNING,
        tags={"a": 1, "dagster/a": "x"},
    )
    def fn(context):
        return None

    assert (fn.name, fn.minimum_interval_seconds, fn.description, fn.default_status) == (
        "named",
        5,
        "d",
        dg.DefaultSensorStatus.RUNNING,
    )
    assert fn.tags == {"a": "1", "dagster/a": "x"}  # sensors may carry system tags


def test_sensor_target_errors_match_dagster():
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="more than one of 'job', 'jobs', 'job_name', and 'asset_selection'"):
        dg.sensor(job=my_job, job_name="x")(lambda c: None)
    with pytest.raises(dg.DagsterInvalidDefinitionError, match=r'"a b" is not a valid name in Dagster'):
        dg.SensorDefinition(name="a b", evaluation_fn=lambda c: None)
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Must provide evaluation_fn to SensorDefinition."):
        dg.SensorDefinition(name="ab")


def test_job_properties_without_one_job_raise():
    @dg.sensor()
    def no_target(context):
        return None

    @dg.sensor(jobs=[my_job, job2])
    def multi(context):
        return None

    with pytest.raises(dg.DagsterInvalidDefinitionError, match="No job was provided to SensorDefinition."):
        _ = no_target.job_name
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="No job was provided to SensorDefinition."):
        _ = no_target.job
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="job_name property not available when SensorDefinition has multiple jobs."):
        _ = multi.job_name
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Job property not available when SensorDefinition has multiple jobs."):
        _ = multi.job
    assert multi.jobs == [my_job, job2]


# --- evaluation ---------------------------------------------------------------------------------


def test_run_requests_are_tagged_with_the_sensor_name():
    @dg.sensor(job=my_job)
    def s1(context):
        return dg.RunRequest(run_key="a", run_config={"x": 1})

    tick = tick_of(s1)
    assert [(r.run_key, r.run_config, dict(r.tags)) for r in tick.run_requests] == [
        ("a", {"x": 1}, {"dagster/sensor_name": "s1"})
    ]
    assert (tick.skip_message, tick.cursor) == (None, None)


@pytest.mark.parametrize("result", [None, []])
def test_empty_results_skip_with_dagsters_message(result):
    sensor = dg.sensor(job_name="j", name="empty")(lambda context: result)
    tick = tick_of(sensor)
    assert (tick.run_requests, tick.skip_message) == ([], "Sensor function returned an empty result")


def test_skip_reasons_give_their_message_even_none():
    assert tick_of(dg.sensor(job_name="j", name="s")(lambda context: dg.SkipReason("nothing"))).skip_message == "nothing"
    assert tick_of(dg.sensor(job_name="j", name="s")(lambda context: dg.SkipReason())).skip_message is None


def test_generator_sensor_can_update_the_cursor():
    @dg.sensor(job_name="j")
    def s_gen(context):
        yield dg.RunRequest(run_key="1")
        yield dg.RunRequest(run_key="2")
        context.update_cursor("c2")

    tick = tick_of(s_gen)
    assert [r.run_key for r in tick.run_requests] == ["1", "2"]
    assert tick.cursor == "c2"


def test_sensor_result_sets_cursor_and_dynamic_partition_requests():
    @dg.sensor(job_name="j")
    def s_result(context):
        return dg.SensorResult(
            run_requests=[dg.RunRequest(run_key="x")],
            cursor="c3",
            dynamic_partitions_requests=[dg.AddDynamicPartitionsRequest("parts", ["a", "b"])],
        )

    tick = tick_of(s_result, cursor="c0")
    assert [r.run_key for r in tick.run_requests] == ["x"]
    assert tick.cursor == "c3"
    assert tick.dynamic_partitions_requests == [dg.AddDynamicPartitionsRequest("parts", ["a", "b"])]


def test_sensor_result_skip_and_empty_result_keep_or_set_the_cursor():
    skip = dg.sensor(job_name="j", name="skip")(lambda context: dg.SensorResult(skip_reason="why", cursor="c4"))
    assert (tick_of(skip).skip_message, tick_of(skip).cursor) == ("why", "c4")
    empty = dg.sensor(job_name="j", name="empty")(lambda context: dg.SensorResult())
    tick = tick_of(empty, cursor="keep")
    assert (tick.skip_message, tick.cursor) == ("Sensor function returned an empty result", "keep")


def test_cursor_cannot_be_set_both_ways():
    @dg.sensor(job_name="j")
    def both(context):
        context.update_cursor("a")
        return dg.SensorResult(cursor="b")

    with pytest.raises(dg.DagsterInvariantViolationError, match="SensorResult.cursor cannot be set if context.update_cursor\\(\\) was called."):
        tick_of(both)


def test_run_request_without_target_is_an_error():
    @dg.sensor()
    def s_notarget(context):
        return dg.RunRequest()

    with pytest.raises(Exception, match="Error in sensor s_notarget: Sensor evaluation function returned a RunRequest for a sensor lacking a specified target"):
        tick_of(s_notarget)


def test_multi_job_sensors_need_a_known_job_name_on_each_request():
    missing = dg.sensor(jobs=[my_job, job2], name="s_multi")(lambda context: dg.RunRequest())
    with pytest.raises(Exception, match=r"did not specify job_name for the requested run. Expected one of: \['my_job', 'job2'\]"):
        tick_of(missing)
    wrong = dg.sensor(jobs=[my_job, job2], name="s_multi_bad")(lambda context: dg.RunRequest(job_name="nope"))
    with pytest.raises(Exception, match=r"Sensor returned a RunRequest with job_name nope. Expected one of: \['my_job', 'job2'\]"):
        tick_of(wrong)
    right = dg.sensor(jobs=[my_job, job2], name="s_multi_ok")(lambda context: [dg.RunRequest(job_name="job2", run_key="z")])
    assert [(r.job_name, r.run_key) for r in tick_of(right).run_requests] == [("job2", "z")]


def test_invalid_results_are_rejected_with_dagsters_messages():
    with pytest.raises(Exception, match=r"Error in sensor s_str: Sensor unexpectedly returned output hi of type <class 'str'>"):
        tick_of(dg.sensor(job_name="j", name="s_str")(lambda context: "hi"))
    with pytest.raises(Exception, match="received both RunRequest and SkipReason"):
        tick_of(dg.sensor(job_name="j", name="mixed")(lambda context: [dg.RunRequest(), dg.SkipReason("x")]))

    def two_skips(context):
        yield dg.SkipReason("x")
        yield dg.SkipReason("y")

    with pytest.raises(Exception, match="Expected a single SkipReason: received multiple SkipReasons"):
        tick_of(dg.sensor(job_name="j", name="two")(two_skips))


def test_a_generators_return_value_is_part_of_the_result():
    def gen_return(context):
        yield dg.RunRequest(run_key="a")
        return dg.SkipReason("x")

    with pytest.raises(Exception, match="received both RunRequest and SkipReason"):
        tick_of(dg.sensor(job_name="j", name="gen_return")(gen_return))


def test_user_errors_propagate_unwrapped_from_evaluate_tick():
    def raises(context):
        raise RuntimeError("bad")

    with pytest.raises(RuntimeError, match="bad"):
        tick_of(dg.sensor(job_name="j", name="raises")(raises))


def test_duplicate_dynamic_partition_requests_are_rejected():
    def dup(context):
        return dg.SensorResult(
            dynamic_partitions_requests=[
                dg.AddDynamicPartitionsRequest("n", ["a"]),
                dg.DeleteDynamicPartitionsRequest("n", ["a"]),
            ]
        )

    with pytest.raises(dg.DagsterInvariantViolationError, match="cannot contain both add and delete requests"):
        tick_of(dg.sensor(job_name="j", name="dup")(dup))


# --- context and direct invocation --------------------------------------------------------------


def test_built_context_defaults():
    context = dg.build_sensor_context()
    assert (context.cursor, context.last_run_key, context.last_tick_completion_time, context.repository_name) == (
        None,
        None,
        None,
        None,
    )
    assert context.is_first_tick_since_sensor_start is True
    with pytest.raises(dg.DagsterInvariantViolationError, match="no instance reference was provided"):
        _ = context.instance
    with pytest.raises(dg.DagsterInvariantViolationError, match="Only valid when sensor name provided"):
        _ = context.sensor_name
    context.update_cursor("new")
    assert context.cursor == "new"


def test_context_constructor_carries_last_run_key_and_tick_time():
    context = dg.SensorEvaluationContext(instance_ref=None, last_run_key="lk", last_tick_completion_time=12.5, cursor="cc")
    assert (context.last_run_key, context.last_tick_completion_time, context.cursor) == ("lk", 12.5, "cc")
    assert context.is_first_tick_since_sensor_start is False


def test_direct_invocation_returns_the_raw_result():
    @dg.sensor(job=my_job)
    def s1(context):
        return dg.RunRequest(run_key="a", run_config={"x": 1})

    context = dg.build_sensor_context()
    assert s1(context) == dg.RunRequest(run_key="a", run_config={"x": 1})
    assert s1(context=context) == dg.RunRequest(run_key="a", run_config={"x": 1})
    with pytest.raises(dg.DagsterInvalidInvocationError, match="Sensor evaluation function expected context argument"):
        s1()
    with pytest.raises(dg.DagsterInvalidInvocationError, match="^Sensor invocation expected argument 'context'.$"):
        s1(ctxx=context)


class Greeting(dg.ConfigurableResource):
    word: str


def test_resource_parameters_from_keywords_or_context():
    @dg.sensor(job_name="j")
    def s_res(context, greeting: Greeting):
        return dg.RunRequest(run_key=greeting.word)

    assert s_res(dg.build_sensor_context(), greeting=Greeting(word="q")).run_key == "q"
    with pytest.raises(dg.DagsterInvalidInvocationError, match="Sensor invocation expected argument 'context'."):
        s_res(greeting=Greeting(word="q"))

    @dg.sensor(job_name="j")
    def s_res_only(greeting: Greeting):
        return dg.RunRequest(run_key=greeting.word)

    assert s_res_only(greeting=Greeting(word="w")).run_key == "w"
    assert tick_of(s_res_only, resources={"greeting": Greeting(word="e")}).run_requests[0].run_key == "e"


def test_snapshot_is_plain_json():
    @dg.sensor(job=my_job, minimum_interval_seconds=60, tags={"team": "data"}, metadata={"n": 1}, description="d")
    def watcher(context):
        return None

    assert watcher.to_snapshot() == {
        "kind": "sensor",
        "name": "watcher",
        "sensor_type": "STANDARD",
        "job_name": "my_job",
        "target_job_names": ["my_job"],
        "min_interval": 60,
        "default_status": "STOPPED",
        "description": "d",
        "tags": {"team": "data"},
        "metadata": [{"label": "n", "type": "int", "data": 1}],
        "owners": [],
        "required_resource_keys": [],
        "asset_selection": None,
    }


def test_with_updated_jobs_keeps_the_function_and_options():
    @dg.sensor(job=my_job, minimum_interval_seconds=45)
    def watcher(context):
        return dg.RunRequest(run_key="k")

    moved = watcher.with_updated_jobs([my_job, job2])
    assert (moved.name, moved.minimum_interval_seconds, [j.name for j in moved.jobs]) == ("watcher", 45, ["my_job", "job2"])
    single = watcher.with_updated_job(job2)
    assert single.job_name == "job2"
    assert [r.run_key for r in tick_of(single).run_requests] == ["k"]


@dg.job(partitions_def=dg.DailyPartitionsDefinition(start_date="2024-01-01"))
def partitioned_job():
    do_nothing()


class Repository:
    """Stands in for the Definitions' repository until `Definitions` lands: finds jobs by name."""

    def get_job(self, name):
        return {"partitioned_job": partitioned_job}[name]


def test_partitioned_run_requests_get_the_partition_tags_from_the_repository_job():
    @dg.sensor(job=partitioned_job)
    def by_partition(context):
        return dg.RunRequest(run_key="r", partition_key="2024-01-02")

    tick = tick_of(by_partition, repository_def=Repository())
    assert [(r.run_key, dict(r.tags), r.run_config, r.partition_key) for r in tick.run_requests] == [
        (
            "r",
            {"dagster/partition": "2024-01-02", "dagster/partition_set": "partitioned_job_partition_set", "dagster/sensor_name": "by_partition"},
            {},
            "2024-01-02",
        )
    ]
    with pytest.raises(dg.DagsterInvariantViolationError, match="Must provide repository def to build_sensor_context"):
        tick_of(by_partition)


def test_unknown_partition_keys_are_rejected():
    @dg.sensor(job=partitioned_job)
    def too_early(context):
        return dg.RunRequest(run_key="r", partition_key="1999-01-02")

    with pytest.raises(dg.DagsterUnknownPartitionError, match="^Could not find a partition with key `1999-01-02`.$"):
        tick_of(too_early, repository_def=Repository())


def test_results_survive_pickling_and_deep_copies():
    import copy
    import pickle

    request = dg.RunRequest("k", {"a": 1}, {"t": "x"}, partition_key="p")
    for value in [
        request,
        dg.SkipReason("m"),
        dg.SensorResult(run_requests=[request], cursor="c"),
        dg.AddDynamicPartitionsRequest("n", ["a"]),
        dg.DeleteDynamicPartitionsRequest("n", ["a"]),
    ]:
        assert pickle.loads(pickle.dumps(value)) == value
        assert copy.deepcopy(value) == value
