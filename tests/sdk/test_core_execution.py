"""Jobs executed in process: wiring shapes, event sequences, outputs, tags, selection and inputs."""

import orchestra as dg


def _types(result, step_key=None):
    return [e.event_type_value for e in result.all_events if step_key is None or e.step_key == step_key]


@dg.op
def one() -> int:
    return 1


@dg.op
def add_one(x: int) -> int:
    return x + 1


@dg.op
def double(x: int) -> int:
    return x * 2


@dg.op
def add(a: int, b: int) -> int:
    return a + b


def test_linear_job_emits_dagsters_event_sequence():
    @dg.job
    def linear():
        add_one(one())

    result = linear.execute_in_process()
    assert result.success
    assert _types(result) == [
        "PIPELINE_START", "ENGINE_EVENT", "RESOURCE_INIT_STARTED", "RESOURCE_INIT_SUCCESS", "LOGS_CAPTURED",
        "STEP_START", "STEP_OUTPUT", "HANDLED_OUTPUT", "STEP_SUCCESS",
        "STEP_START", "LOADED_INPUT", "STEP_INPUT", "STEP_OUTPUT", "HANDLED_OUTPUT", "STEP_SUCCESS",
        "ENGINE_EVENT", "PIPELINE_SUCCESS",
    ]
    messages = [e.message for e in result.all_events]
    assert messages[0] == 'Started execution of run for "linear".'
    assert 'Loaded input "x" using input manager "io_manager", from output "result" of step "one"' in messages
    assert 'Got input "x" of type "Int". (Type check passed).' in messages
    assert 'Yielded output "result" of type "Int". (Type check passed).' in messages
    assert messages[-1] == 'Finished execution of run for "linear".'
    assert result.output_for_node("add_one") == 2
    assert result.dagster_run.status == dg.DagsterRunStatus.SUCCESS


def test_run_events_use_stored_pipeline_names_and_event_type_enum():
    @dg.job
    def single():
        one()

    result = single.execute_in_process()
    first, last = result.all_events[0], result.all_events[-1]
    assert first.event_type == dg.DagsterEventType.RUN_START
    assert first.event_type_value == "PIPELINE_START"
    assert last.event_type == dg.DagsterEventType.RUN_SUCCESS
    assert last.is_job_success
    assert first.step_key is None


def test_diamond_runs_each_op_once_in_dependency_order_with_ties_by_name():
    @dg.job
    def diamond():
        top = one()
        add(add_one.alias("left")(top), double.alias("right")(top))

    result = diamond.execute_in_process()
    starts = [e.step_key for e in result.all_events if e.event_type_value == "STEP_START"]
    assert starts == ["one", "left", "right", "add"]
    assert result.output_for_node("add") == 2 + 2


def test_fan_in_passes_a_list_in_declared_order():
    @dg.op
    def total(values: list) -> int:
        return sum(values) * 10 + values[0]

    @dg.job
    def fan_in():
        total([one(), add_one.alias("two")(one.alias("one_b")()), double(one.alias("one_c")())])

    result = fan_in.execute_in_process()
    assert result.output_for_node("total") == (1 + 2 + 2) * 10 + 1
    loaded = [e for e in result.events_for_node("total") if e.event_type_value == "LOADED_INPUT"]
    assert len(loaded) == 3


def test_nothing_dependency_orders_without_passing_a_value():
    calls = []

    @dg.op
    def first():
        calls.append("first")

    @dg.op(ins={"after": dg.In(dg.Nothing)})
    def second():
        calls.append("second")
        return "done"

    @dg.job
    def ordered():
        second(after=first())

    result = ordered.execute_in_process()
    assert calls == ["first", "second"]
    assert result.output_for_node("second") == "done"
    assert "LOADED_INPUT" not in _types(result, "second")
    assert "STEP_INPUT" not in _types(result, "second")


def test_multiple_outputs_returned_as_tuple_reach_different_consumers():
    @dg.op(out={"low": dg.Out(int), "high": dg.Out(int)})
    def split():
        return 1, 100

    @dg.job
    def branches():
        low, high = split()
        add_one.alias("inc_low")(low)
        double.alias("dbl_high")(high)

    result = branches.execute_in_process()
    assert result.output_for_node("split", "low") == 1
    assert result.output_for_node("split", "high") == 100
    assert result.output_for_node("inc_low") == 2
    assert result.output_for_node("dbl_high") == 200


def test_optional_output_not_yielded_skips_downstream_and_run_succeeds():
    @dg.op(out={"yes": dg.Out(is_required=False), "no": dg.Out(is_required=False)})
    def maybe():
        yield dg.Output(1, "yes")

    @dg.op
    def after(v):
        return v

    @dg.op
    def after_after(v):
        return v

    @dg.job
    def branching():
        yes, no = maybe()
        after.alias("on_yes")(yes)
        after_after(after.alias("on_no")(no))

    result = branching.execute_in_process()
    assert result.success
    assert result.is_node_skipped("on_no")
    assert result.is_node_skipped("after_after")
    assert not result.is_node_success("on_no")
    assert result.is_node_success("on_yes")
    skipped = [e.step_key for e in result.all_events if e.is_step_skipped]
    assert skipped == ["on_no", "after_after"]
    assert [e.message for e in result.all_events if e.is_step_skipped][0] == 'Skipped execution of step "on_no".'


def test_fan_in_runs_when_some_sources_were_skipped():
    @dg.op(out={"a": dg.Out(is_required=False), "b": dg.Out(is_required=False)})
    def only_a():
        yield dg.Output(5, "a")

    @dg.op
    def gather(items):
        return items

    @dg.job
    def partial():
        a, b = only_a()
        gather([a, b])

    assert partial.execute_in_process().output_for_node("gather") == [5]


def test_graph_nested_in_graph_gets_dotted_step_keys_and_outputs():
    @dg.graph
    def inner(x):
        return double(x)

    @dg.graph
    def middle(x):
        return inner(add_one(x))

    @dg.job
    def nested():
        add_one.alias("last")(middle(one()))

    result = nested.execute_in_process()
    starts = [e.step_key for e in result.all_events if e.is_step_start]
    assert starts == ["one", "middle.add_one", "middle.inner.double", "last"]
    assert result.output_for_node("middle") == 4
    assert result.output_for_node("middle.inner.double") == 4
    assert result.output_for_node("last") == 5
    assert result.is_node_success("middle")
    assert {e.step_key for e in result.events_for_node("middle")} == {"middle.add_one", "middle.inner.double"}
    node_event = next(e for e in result.all_events if e.step_key == "middle.inner.double")
    assert node_event.node_name == "double"
    assert str(node_event.node_handle) == "middle.inner.double"


def test_graph_with_multiple_outputs_via_dict_and_graph_out():
    @dg.graph(out={"a": dg.GraphOut(), "b": dg.GraphOut()})
    def two_outs():
        return {"a": one(), "b": double(one.alias("one_b")())}

    @dg.job
    def uses():
        a, b = two_outs()
        add.alias("sum")(a, b)

    result = uses.execute_in_process()
    assert result.output_for_node("two_outs", "b") == 2
    assert result.output_for_node("sum") == 3


def test_same_op_invoked_twice_is_auto_aliased():
    @dg.job
    def twice():
        one()
        one()
        one()

    assert sorted(n.name for n in twice.graph.nodes) == ["one", "one_2", "one_3"]
    assert twice.execute_in_process().output_for_node("one_3") == 1


def test_explicit_graph_definition_with_dependency_definitions():
    graph_def = dg.GraphDefinition(
        name="explicit",
        node_defs=[one, add_one],
        dependencies={"add_one": {"x": dg.DependencyDefinition("one")}},
    )
    result = graph_def.to_job().execute_in_process()
    assert result.output_for_node("add_one") == 2


def test_explicit_multi_dependency_and_node_invocation_alias():
    @dg.op
    def listing(items):
        return items

    graph_def = dg.GraphDefinition(
        name="explicit_multi",
        node_defs=[one, listing],
        dependencies={
            dg.NodeInvocation("one", alias="first"): {},
            dg.NodeInvocation("one", alias="second"): {},
            "listing": {"items": dg.MultiDependencyDefinition([
                dg.DependencyDefinition("first"), dg.DependencyDefinition("second"),
            ])},
        },
    )
    assert graph_def.to_job().execute_in_process().output_for_node("listing") == [1, 1]


def test_op_selection_runs_only_selected_ops_and_upstream_with_star():
    @dg.job
    def chain():
        double(add_one(one()))

    result = chain.execute_in_process(op_selection=["*add_one"])
    starts = [e.step_key for e in result.all_events if e.is_step_start]
    assert starts == ["one", "add_one"]
    assert result.job_def.op_selection == ["*add_one"]
    assert result.dagster_run.op_selection == ["*add_one"]


def test_op_selection_of_a_downstream_op_takes_its_input_from_config():
    @dg.job
    def chain():
        double(add_one(one()))

    result = chain.execute_in_process(
        op_selection=["double"], run_config={"ops": {"double": {"inputs": {"x": 21}}}}
    )
    assert result.output_for_node("double") == 42


def test_op_selection_with_unknown_name_raises_subset_error():
    @dg.job
    def chain():
        add_one(one())

    try:
        chain.execute_in_process(op_selection=["nope"])
    except dg.DagsterInvalidSubsetError as exc:
        assert "No qualified ops to execute found for op_selection=['nope']" in str(exc)
    else:
        raise AssertionError("expected DagsterInvalidSubsetError")


def test_input_values_feed_top_level_graph_inputs():
    @dg.graph
    def with_input(x):
        return add_one(x)

    assert with_input.to_job(input_values={"x": 1}).execute_in_process().output_for_node("add_one") == 2
    job = with_input.to_job()
    result = job.execute_in_process(input_values={"x": 5})
    assert result.output_value() == 6
    assert job.execute_in_process(run_config={"inputs": {"x": 7}}).output_for_node("add_one") == 8


def test_unconnected_input_is_loaded_from_run_config():
    @dg.job
    def from_config():
        add_one()

    result = from_config.execute_in_process(run_config={"ops": {"add_one": {"inputs": {"x": 41}}}})
    assert result.output_for_node("add_one") == 42


def test_input_default_value_used_when_unconnected():
    @dg.op
    def greet(name: str = "world") -> str:
        return f"hello {name}"

    @dg.job
    def greeting():
        greet()

    assert greeting.execute_in_process().output_for_node("greet") == "hello world"


def test_job_tags_become_run_tags_unless_run_tags_given():
    @dg.op
    def read_tags(context):
        return dict(context.run_tags), context.has_tag("team"), context.get_tag("team")

    @dg.job(tags={"team": "data"})
    def tagged():
        read_tags()

    result = tagged.execute_in_process(tags={"extra": "1"})
    tags, has, value = result.output_for_node("read_tags")
    assert tags == {"team": "data", "extra": "1"}
    assert has and value == "data"
    assert result.dagster_run.tags == {"team": "data", "extra": "1"}

    @dg.job(tags={"team": "data"}, run_tags={"only": "run"})
    def with_run_tags():
        read_tags()

    tags, has, _ = with_run_tags.execute_in_process().output_for_node("read_tags")
    assert tags == {"only": "run"}
    assert not has
    assert with_run_tags.tags == {"team": "data"}
    assert with_run_tags.run_tags == {"only": "run"}


def test_op_tags_and_invocation_tags_merge_on_the_node():
    @dg.op(tags={"kind": "compute", "size": "s"})
    def tagged_op():
        return 1

    @dg.job
    def job_with_tags():
        tagged_op.tag({"size": "xl"})()

    node = job_with_tags.graph.node_named("tagged_op")
    assert node.tags == {"kind": "compute", "size": "xl"}
    assert tagged_op.tags == {"kind": "compute", "size": "s"}


def test_run_id_can_be_chosen_and_result_exposes_run():
    @dg.job
    def simple():
        one()

    result = simple.execute_in_process(run_id="my-run-id")
    assert result.run_id == "my-run-id"
    assert result.dagster_run.run_id == "my-run-id"
    assert result.job_def is simple


def test_output_value_for_job_without_outputs_raises():
    @dg.job
    def simple():
        one()

    result = simple.execute_in_process()
    try:
        result.output_for_node("one", "missing")
    except dg.DagsterInvariantViolationError as exc:
        assert "one has no output named missing." in str(exc)
    else:
        raise AssertionError("expected DagsterInvariantViolationError")


def test_generator_op_yields_outputs_with_metadata():
    @dg.op(out={"a": dg.Out(), "b": dg.Out()})
    def gen():
        yield dg.Output(1, "a", metadata={"rows": 3})
        yield dg.Output(2, "b")

    @dg.job
    def gen_job():
        gen()

    result = gen_job.execute_in_process()
    outputs = [e for e in result.all_events if e.is_successful_output]
    assert [e.step_output_data.output_name for e in outputs] == ["a", "b"]
    assert outputs[0].step_output_data.metadata["rows"] is not None
    assert result.output_for_node("gen", "b") == 2


def test_graph_execute_in_process_runs_it_as_a_job():
    @dg.graph
    def g():
        return add_one(one())

    result = g.execute_in_process()
    assert result.success
    assert result.output_value() == 2


def test_long_chain_runs_every_step():
    @dg.job
    def chain():
        value = one()
        for index in range(50):
            value = add_one.alias(f"inc_{index}")(value)

    result = chain.execute_in_process()
    assert result.output_for_node("inc_49") == 51
    assert len(result.get_step_success_events()) == 51


def test_run_worker_entry_point_executes_a_stored_run_with_the_jobs_executor(tmp_path):
    from orchestra._core.execute import execute_run

    @dg.job
    def stored():
        add_one(one())

    instance = dg.DagsterInstance.local_temp(str(tmp_path))
    run = instance.create_run(job_name="stored", run_config={"execution": {"config": {"in_process": {}}}})
    final = execute_run(stored, dagster_run=run, instance=instance)
    assert final.status == dg.DagsterRunStatus.SUCCESS
    types = [e.dagster_event.event_type_value for e in instance.all_logs(run.run_id) if e.dagster_event]
    assert types[0] == "PIPELINE_START" and types[-1] == "PIPELINE_SUCCESS"
    assert types.count("STEP_SUCCESS") == 2


def test_run_worker_entry_point_fails_run_on_invalid_config(tmp_path):
    from orchestra._core.execute import execute_run

    @dg.job
    def stored():
        one()

    instance = dg.DagsterInstance.local_temp(str(tmp_path))
    run = instance.create_run(job_name="stored", run_config={"ops": {"nope": {}}})
    final = execute_run(stored, dagster_run=run, instance=instance)
    assert final.status == dg.DagsterRunStatus.FAILURE
    failure = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)[0]
    assert "nope" in failure.dagster_event.job_failure_data.error.message


def test_partitioned_job_gets_partition_config_tags_and_context_key():
    @dg.op(config_schema={"date": str})
    def dated(context):
        return context.op_config["date"], context.partition_key, context.has_partition_key

    @dg.daily_partitioned_config(start_date="2024-01-01")
    def daily_config(start, _end):
        return {"ops": {"dated": {"config": {"date": start.strftime("%Y-%m-%d")}}}}

    @dg.job(config=daily_config)
    def daily_job():
        dated()

    result = daily_job.execute_in_process(partition_key="2024-01-05")
    assert result.output_for_node("dated") == ("2024-01-05", "2024-01-05", True)
    assert result.dagster_run.tags == {"dagster/partition": "2024-01-05", "dagster/partition_set": "daily_job_partition_set"}


def test_unknown_partition_key_is_rejected():
    @dg.op
    def key(context):
        return context.partition_key

    @dg.job(partitions_def=dg.StaticPartitionsDefinition(["a", "b"]))
    def static_job():
        key()

    assert static_job.execute_in_process(partition_key="b").output_for_node("key") == "b"
    try:
        static_job.execute_in_process(partition_key="z")
    except dg.DagsterUnknownPartitionError as exc:
        assert str(exc) == "Could not find a partition with key `z`."
    else:
        raise AssertionError("expected DagsterUnknownPartitionError")


@dg.op
def module_one() -> int:
    return 1


@dg.op
def module_inc(x: int) -> int:
    return x + 1


@dg.job
def module_level_job():
    module_inc(module_one())


def test_execute_job_with_instance_for_test_reads_outputs_through_io_manager():
    with dg.instance_for_test() as instance:
        result = dg.execute_job(dg.reconstructable(module_level_job), instance=instance)
        assert result.success
        assert result.output_for_node("module_inc") == 2
        assert instance.get_run_by_id(result.run_id).status == dg.DagsterRunStatus.SUCCESS
        assert [e.step_key for e in result.get_step_success_events()] == ["module_one", "module_inc"]


def test_unconnected_input_with_input_manager_key_is_loaded_by_that_manager():
    class Loader(dg.InputManager):
        def load_input(self, context):
            return 42

    @dg.op(ins={"x": dg.In(input_manager_key="loader")})
    def uses(x):
        return x

    @dg.job(resource_defs={"loader": dg.InputManagerDefinition(resource_fn=lambda _: Loader())})
    def loading():
        uses()

    result = loading.execute_in_process()
    assert result.output_for_node("uses") == 42
    messages = [e.message for e in result.all_events if e.event_type_value == "LOADED_INPUT"]
    assert messages == ['Loaded input "x" using input manager "loader"']


def test_op_selection_inside_a_graph_uses_dotted_names():
    @dg.graph
    def inner():
        return add_one.alias("second")(add_one(one()))

    @dg.job
    def outer():
        add_one.alias("after")(inner())

    result = outer.execute_in_process(op_selection=["inner.one", "inner.add_one"])
    assert [e.step_key for e in result.all_events if e.is_step_start] == ["inner.one", "inner.add_one"]
    result = outer.execute_in_process(op_selection=["inner*"])
    assert [e.step_key for e in result.all_events if e.is_step_start][-1] == "after"
    try:
        outer.execute_in_process(op_selection=["inner.missing"])
    except dg.DagsterInvalidSubsetError as exc:
        assert str(exc) == "Node missing was selected, but no node named missing was found."
    else:
        raise AssertionError("expected DagsterInvalidSubsetError")


def test_a_custom_executor_plugs_into_the_run_worker_through_the_executor_interface(tmp_path):
    from orchestra._core.active import ActiveExecution
    from orchestra._core.execute import Executor, execute_run

    class RecordingExecutor(Executor):
        """Runs ready steps in batches, as a parallel executor would, recording each batch."""

        def __init__(self):
            self.batches = []

        def execute(self, run_context, plan):
            with run_context.step_worker() as (init_events, worker):
                yield from init_events
                active = ActiveExecution(plan)
                while not active.is_complete:
                    batch = active.get_steps_to_execute()
                    self.batches.append([s.key for s in batch])
                    for step in batch:
                        for event in worker.run_step(step, active.retry_number(step.key), active.known):
                            active.handle_event(event)
                            yield event
                    for event in active.plan_events_iterator(run_context):
                        active.handle_event(event)
                        yield event

    @dg.job
    def diamond():
        top = one()
        add(add_one.alias("left")(top), double.alias("right")(top))

    instance = dg.DagsterInstance.local_temp(str(tmp_path))
    run = instance.create_run(job_name="diamond")
    executor = RecordingExecutor()
    final = execute_run(diamond, dagster_run=run, instance=instance, executor=executor)
    assert final.status == dg.DagsterRunStatus.SUCCESS
    assert executor.batches == [["one"], ["left", "right"], ["add"]]
    stored = [e.dagster_event.event_type_value for e in instance.all_logs(run.run_id) if e.dagster_event]
    assert stored.count("STEP_SUCCESS") == 4 and stored[-1] == "PIPELINE_SUCCESS"
