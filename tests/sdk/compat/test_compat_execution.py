"""Dagster programs about graphs, outputs, dynamic mapping, selection and inputs, with Dagster 1.13's values."""

import asyncio

import pytest

import orchestra as dg

IO_STEP = ["STEP_START", "LOADED_INPUT", "STEP_INPUT", "STEP_OUTPUT", "HANDLED_OUTPUT", "STEP_SUCCESS"]
SOURCE_STEP = ["STEP_START", "STEP_OUTPUT", "HANDLED_OUTPUT", "STEP_SUCCESS"]


def _steps(result):
    out = {}
    for event in result.all_events:
        out.setdefault(event.step_key, []).append(event.event_type_value)
    return out


def _error(result):
    error = result.get_step_failure_events()[0].event_specific_data.error
    return error.cls_name, error.message.splitlines()[0].split(": ", 1)[-1]


def test_optional_output_not_yielded_skips_its_downstream_ops():
    @dg.op(out={"a": dg.Out(int), "b": dg.Out(int, is_required=False)})
    def branch(flag: bool):
        yield dg.Output(1, "a")
        if flag:
            yield dg.Output(2, "b")

    @dg.op
    def flagger() -> bool:
        return False

    @dg.op
    def on_a(x: int) -> int:
        return x * 10

    @dg.op
    def on_b(x: int) -> int:
        return x * 100

    @dg.op
    def final(x: int, y: int) -> int:
        return x + y

    @dg.job
    def j():
        a, b = branch(flagger())
        final(on_a(a), on_b(b))

    result = j.execute_in_process()
    assert result.success
    steps = _steps(result)
    assert steps["branch"] == IO_STEP
    assert steps["on_b"] == ["STEP_SKIPPED"] and steps["final"] == ["STEP_SKIPPED"]
    assert result.output_for_node("branch", "a") == 1
    assert result.output_for_node("on_a") == 10
    with pytest.raises(dg.DagsterInvariantViolationError, match="^No outputs found for output 'b' from node 'branch'."):
        result.output_for_node("branch", "b")
    with pytest.raises(dg.DagsterInvariantViolationError, match="^branch has no output named result."):
        result.output_for_node("branch")


def test_multiple_outputs_returned_as_tuple_and_their_errors():
    @dg.op(out={"x": dg.Out(), "y": dg.Out()})
    def two():
        return 1, 2

    @dg.op
    def final(x: int, y: int) -> int:
        return x + y

    @dg.job
    def j():
        x, y = two()
        final(x, y)

    result = j.execute_in_process()
    assert _steps(result)["two"] == ["STEP_START", "STEP_OUTPUT", "HANDLED_OUTPUT", "STEP_OUTPUT", "HANDLED_OUTPUT", "STEP_SUCCESS"]
    assert result.output_for_node("final") == 3

    @dg.op(out={"x": dg.Out(), "y": dg.Out()})
    def two_bad():
        return 1

    @dg.op(out={"a": dg.Out(int), "b": dg.Out(int)})
    def missing_required():
        yield dg.Output(1, "a")

    @dg.job
    def j_bad():
        two_bad()
        missing_required()

    result = j_bad.execute_in_process(raise_on_error=False)
    steps = _steps(result)
    assert steps["two_bad"][-2:] == ["STEP_START", "STEP_FAILURE"]
    assert steps["missing_required"][-4:] == ["STEP_START", "STEP_OUTPUT", "HANDLED_OUTPUT", "STEP_FAILURE"]
    failures = {e.step_key: e.event_specific_data.error for e in result.get_step_failure_events()}
    assert failures["two_bad"].cls_name == "DagsterInvariantViolationError"
    assert failures["two_bad"].message.split(": ", 1)[1].startswith(
        'op "two_bad" has multiple outputs, but only one output was returned of type <class \'int\'>.'
    )
    assert failures["missing_required"].cls_name == "DagsterStepOutputNotFoundError"
    assert failures["missing_required"].message.split(": ", 1)[1].startswith(
        'Core compute for op "missing_required" did not return an output for non-optional output "b"'
    )


def test_dynamic_out_mapped_over_a_nested_graph_and_collected():
    @dg.op(out=dg.DynamicOut())
    def files():
        for name in ["a", "bb", "ccc"]:
            yield dg.DynamicOutput(name, mapping_key=name)

    @dg.op
    def length(s: str) -> int:
        return len(s)

    @dg.op
    def plus_one(n: int) -> int:
        return n + 1

    @dg.graph
    def per_file(s):
        return plus_one(length(s))

    @dg.op
    def total(values: list[int]) -> int:
        return sum(values)

    @dg.job
    def j():
        total(files().map(per_file).collect())

    result = j.execute_in_process()
    steps = _steps(result)
    assert steps["files"] == ["STEP_START", *["STEP_OUTPUT", "HANDLED_OUTPUT"] * 3, "STEP_SUCCESS"]
    assert steps["per_file.length[bb]"] == IO_STEP and steps["per_file.plus_one[ccc]"] == IO_STEP
    assert steps["total"] == ["STEP_START", "LOADED_INPUT", "LOADED_INPUT", "LOADED_INPUT", "STEP_INPUT", "STEP_OUTPUT",
                              "HANDLED_OUTPUT", "STEP_SUCCESS"]
    assert result.output_for_node("total") == 9
    assert result.output_for_node("per_file") == {"a": 2, "bb": 3, "ccc": 4}
    assert result.output_for_node("files") == {"a": "a", "bb": "bb", "ccc": "ccc"}

    @dg.job
    def j2():
        files().map(lambda f: plus_one(length(f))).collect()

    assert j2.execute_in_process().output_for_node("plus_one") == {"a": 2, "bb": 3, "ccc": 4}

    @dg.op(out=dg.DynamicOut())
    def none_out():
        return
        yield

    @dg.job
    def j3():
        total(none_out().map(length).collect())

    result = j3.execute_in_process()
    assert _steps(result)["none_out"] == ["STEP_START", "STEP_SUCCESS"]
    assert _steps(result)["total"] == ["STEP_START", "STEP_INPUT", "STEP_OUTPUT", "HANDLED_OUTPUT", "STEP_SUCCESS"]
    assert result.output_for_node("total") == 0


def test_dynamic_output_key_errors():
    @dg.op(out=dg.DynamicOut())
    def dup():
        yield dg.DynamicOutput(1, mapping_key="k")
        yield dg.DynamicOutput(2, mapping_key="k")

    @dg.op
    def plus_one(n: int) -> int:
        return n + 1

    @dg.job
    def j():
        dup().map(plus_one)

    result = j.execute_in_process(raise_on_error=False)
    assert _steps(result)["dup"] == ["STEP_START", "STEP_OUTPUT", "HANDLED_OUTPUT", "STEP_FAILURE"]
    assert _error(result) == (
        "DagsterInvariantViolationError", 'Compute for op "dup" yielded a DynamicOutput with mapping_key "k" multiple times.'
    )
    with pytest.raises(dg.DagsterInvalidDefinitionError) as info:
        dg.DynamicOutput(1, mapping_key="bad key!")
    assert str(info.value) == '"bad key!" is not a valid name in Dagster. Names must be in regex ^[A-Za-z0-9_]+$.'


@dg.op(config_schema={"n": int})
def make(context) -> int:
    return context.op_config["n"]


@dg.op(config_schema={"factor": int})
def scale(context, x: int) -> int:
    return x * context.op_config["factor"]


@dg.op
def show_it(v: int) -> str:
    return f"v={v}"


def test_graph_config_mapping_and_job_config_defaults_and_mapping():
    @dg.graph(config=dg.ConfigMapping(
        config_fn=lambda cfg: {"make": {"config": {"n": cfg["base"]}}, "scale": {"config": {"factor": cfg["base"] * 2}}},
        config_schema={"base": int},
    ))
    def sub():
        return scale(make())

    @dg.job
    def j():
        show_it(sub())

    result = j.execute_in_process(run_config={"ops": {"sub": {"config": {"base": 3}}}})
    assert _steps(result)["sub.make"] == SOURCE_STEP and _steps(result)["sub.scale"] == IO_STEP
    assert (result.output_for_node("sub"), result.output_for_node("show_it"), result.output_for_node("sub.scale")) == (18, "v=18", 18)
    with pytest.raises(dg.DagsterInvalidConfigError, match="^Error in config for job j"):
        j.execute_in_process(run_config={"ops": {"sub": {"config": {"base": "x"}}}})

    @dg.job(config={"ops": {"sub": {"config": {"base": 5}}}})
    def j_default():
        show_it(sub())

    assert j_default.execute_in_process().output_for_node("show_it") == "v=50"
    assert j_default.execute_in_process(run_config={"ops": {"sub": {"config": {"base": 1}}}}).output_for_node("show_it") == "v=2"

    @dg.job(config=dg.ConfigMapping(config_fn=lambda c: {"ops": {"sub": {"config": {"base": c["x"] + 1}}}}, config_schema={"x": int}))
    def j_mapped():
        show_it(sub())

    assert j_mapped.execute_in_process(run_config={"x": 9}).output_for_node("show_it") == "v=200"
    with pytest.raises(dg.DagsterInvalidConfigError, match="^Error in config mapping"):
        j_mapped.execute_in_process(run_config={"ops": {}})


def test_graph_with_a_config_dict_fixes_its_ops_config():
    @dg.graph
    def plain():
        return scale(make())

    job = plain.to_job(config={"ops": {"make": {"config": {"n": 2}}, "scale": {"config": {"factor": 4}}}})
    assert job.execute_in_process().output_for_node("scale") == 8

    @dg.graph(config={"make": {"config": {"n": 7}}, "scale": {"config": {"factor": 1}}})
    def preset():
        return scale(make())

    @dg.job
    def j():
        show_it(preset())

    assert j.execute_in_process().output_for_node("show_it") == "v=7"


def test_graph_config_mapping_that_raises_is_a_config_mapping_function_error():
    def bad(cfg):
        raise ValueError("mapping broke")

    @dg.graph(config=dg.ConfigMapping(config_fn=bad))
    def broken():
        make()

    @dg.job
    def j4():
        broken()

    with pytest.raises(dg.DagsterConfigMappingFunctionError) as info:
        j4.execute_in_process()
    assert str(info.value) == (
        "The config mapping function on graph 'broken' in job 'j4' has thrown an unexpected error during its "
        'execution. The definition is instantiated at stack "broken".'
    )


@dg.op
def a() -> int:
    return 1


@dg.op
def b(x: int) -> int:
    return x + 1


@dg.op
def c(x: int) -> int:
    return x * 3


@dg.op
def d(context, y: int) -> dict:
    tags = {k: v for k, v in context.run.tags.items() if not k.startswith("dagster/")}
    return {"y": y, "tags": tags, "job": context.job_name, "op": context.op.name}


@dg.job(tags={"team": "data"})
def chain():
    d(c(b(a())))


def test_op_selection_runs_a_subset_with_config_inputs_for_cut_edges():
    result = chain.execute_in_process(op_selection=["*c"])
    assert sorted(n.name for n in result.job_def.nodes) == ["a", "b", "c"]
    assert result.job_def.name == "chain"
    assert result.output_for_node("c") == 6
    result = chain.execute_in_process(op_selection=["b+"], run_config={"ops": {"b": {"inputs": {"x": 5}}}})
    assert _steps(result)["b"] == ["STEP_START", "STEP_INPUT", "STEP_OUTPUT", "HANDLED_OUTPUT", "STEP_SUCCESS"]
    assert result.output_for_node("c") == 18
    with pytest.raises(dg.DagsterInvalidSubsetError, match=r"^No qualified ops to execute found for op_selection=\['nonexistent'\]"):
        chain.execute_in_process(op_selection=["nonexistent"])
    with pytest.raises(dg.DagsterInvalidSubsetError, match=r"^No qualified ops to execute found for op_selection=\['c', 'bogus'\]"):
        chain.execute_in_process(op_selection=["c", "bogus"])


def test_job_tags_and_run_tags_reach_the_run():
    result = chain.execute_in_process(tags={"extra": "1"})
    assert result.output_for_node("d") == {"y": 6, "tags": {"team": "data", "extra": "1"}, "job": "chain", "op": "d"}
    assert (result.dagster_run.tags.get("team"), result.dagster_run.tags.get("extra")) == ("data", "1")
    assert chain.execute_in_process(tags={"team": "override"}).output_for_node("d")["tags"] == {"team": "override"}

    @dg.op
    def tags_of(context) -> dict:
        return {k: v for k, v in context.run.tags.items() if not k.startswith("dagster/")}

    @dg.job(run_tags={"rt": "1"}, tags={"t": "2"})
    def j():
        tags_of()

    assert j.execute_in_process().output_for_node("tags_of") == {"rt": "1"}
    assert (j.tags, j.run_tags) == ({"t": "2"}, {"rt": "1"})


def test_input_values_and_config_inputs_for_top_level_graph_inputs():
    @dg.op
    def needs(x: int, y: str) -> str:
        return f"{x}{y}"

    @dg.graph
    def g(x, y):
        return needs(x, y)

    job = g.to_job()
    result = job.execute_in_process(input_values={"x": 3, "y": "z"})
    assert _steps(result)["needs"] == [
        "RESOURCE_INIT_STARTED", "RESOURCE_INIT_SUCCESS", "STEP_START", "STEP_INPUT", "STEP_INPUT", "STEP_OUTPUT",
        "HANDLED_OUTPUT", "STEP_SUCCESS",
    ]
    assert result.output_value() == "3z"
    with pytest.raises(dg.DagsterInvalidConfigError, match="^Error in config for job g"):
        job.execute_in_process()

    @dg.job
    def j3():
        needs()

    assert j3.execute_in_process(run_config={"ops": {"needs": {"inputs": {"x": 4, "y": {"value": "w"}}}}}).output_for_node("needs") == "4w"
    with pytest.raises(dg.DagsterInvalidConfigError):
        j3.execute_in_process(run_config={"ops": {"needs": {"inputs": {"x": "notint", "y": "w"}}}})


@dg.op
def add_one(x: int) -> int:
    return x + 1


@dg.op
def seed() -> int:
    return 3


def test_nested_graphs_with_named_graph_outputs():
    @dg.op
    def mult(x: int, y: int) -> int:
        return x * y

    @dg.op(out={"lo": dg.Out(int), "hi": dg.Out(int)})
    def split(x: int):
        return x - 1, x + 1

    @dg.graph(out={"low": dg.GraphOut(), "high": dg.GraphOut()})
    def inner(x):
        lo, hi = split(add_one(x))
        return {"low": lo, "high": hi}

    @dg.graph
    def middle(x):
        low, high = inner(x)
        return mult(low, high)

    @dg.job
    def j():
        middle(seed())

    result = j.execute_in_process()
    assert sorted(k for k in _steps(result) if k) == ["middle.inner.add_one", "middle.inner.split", "middle.mult", "seed"]
    assert result.output_for_node("middle") == 15
    assert result.output_for_node("middle.inner", "high") == 5
    assert sorted(n.name for n in j.graph.nodes) == ["middle", "seed"]
    assert sorted(j.graph.node_named("middle").definition.node_names()) == ["inner", "mult"]
    assert result.is_node_success("middle") and result.is_node_success("seed")


def test_graph_inputs_to_job_and_graph_execute_in_process():
    @dg.graph(ins={"x": dg.GraphIn(description="input")})
    def g2(x):
        return add_one(add_one(x))

    job = g2.to_job(name="g2_job", input_values={"x": 10})
    result = job.execute_in_process()
    assert (job.name, result.output_value(), result.output_for_node("add_one_2")) == ("g2_job", 12, 12)
    result = g2.execute_in_process(input_values={"x": 1})
    assert (result.output_value(), result.job_def.name) == (3, "g2")


def test_failure_inside_a_graph_skips_the_rest_and_names_the_inner_node():
    @dg.op
    def fails(x):
        raise ValueError("x")

    @dg.graph
    def g3(x):
        return add_one(fails(x))

    @dg.job
    def j3():
        g3(seed())

    result = j3.execute_in_process(raise_on_error=False)
    assert _steps(result)["g3.fails"] == ["STEP_START", "LOADED_INPUT", "STEP_INPUT", "STEP_FAILURE"]
    assert "g3.add_one" not in _steps(result)
    assert result.is_node_failed("g3.fails") and not result.is_node_skipped("g3.add_one")
    assert result.get_failed_step_keys() == {"g3.fails"}
    with pytest.raises(dg.DagsterInvariantViolationError, match="^No outputs found for output 'result' from node 'g3.add_one'."):
        result.output_for_node("g3")


def test_aliased_ops_and_fan_in():
    @dg.op
    def aliased(x: int) -> int:
        return x

    @dg.job
    def j4():
        v = seed()
        aliased.alias("first")(v)
        aliased.alias("second")(add_one(v))
        aliased(v)

    result = j4.execute_in_process()
    assert [result.output_for_node(n) for n in ("first", "second", "aliased")] == [3, 4, 3]
    result = j4.execute_in_process(op_selection=["second"], run_config={"ops": {"second": {"inputs": {"x": 7}}}})
    assert _steps(result)["second"] == [
        "RESOURCE_INIT_STARTED", "RESOURCE_INIT_SUCCESS", "STEP_START", "STEP_INPUT", "STEP_OUTPUT", "HANDLED_OUTPUT", "STEP_SUCCESS"
    ]
    assert result.output_for_node("second") == 7

    @dg.op
    def mult(x: int, y: int) -> int:
        return x * y

    @dg.job
    def fan_in():
        mult.alias("m")(seed(), add_one.alias("plus")(seed.alias("seed2")()))

    assert fan_in.execute_in_process().output_for_node("m") == 12


def test_nothing_dependencies_order_ops_and_nothing_output_is_none():
    order = []

    @dg.op(out=dg.Out(dg.Nothing))
    def step_a():
        order.append("a")

    @dg.op(out=dg.Out(dg.Nothing))
    def step_b():
        order.append("b")

    @dg.op(ins={"after": dg.In(dg.Nothing)})
    def step_c() -> str:
        order.append("c")
        return "c done"

    @dg.job
    def j():
        step_c(after=[step_a(), step_b()])

    result = j.execute_in_process()
    assert _steps(result)["step_a"] == ["STEP_START", "STEP_OUTPUT", "STEP_SUCCESS"]
    assert _steps(result)["step_c"] == SOURCE_STEP
    assert result.output_for_node("step_c") == "c done"
    assert result.output_for_node("step_a") is None
    assert sorted(order[:2]) == ["a", "b"] and order[2] == "c"


def test_async_ops_and_async_generators():
    @dg.op
    async def fetch(context) -> int:
        await asyncio.sleep(0.001)
        return 7

    @dg.op
    async def agen():
        yield dg.Output(1)

    @dg.job
    def j():
        fetch()
        agen()

    result = j.execute_in_process()
    assert _steps(result)["agen"] == SOURCE_STEP
    assert (result.output_for_node("fetch"), result.output_for_node("agen")) == (7, 1)
    # direct invocation of an async op returns a coroutine, as in Dagster
    coroutine = fetch(dg.build_op_context())
    assert asyncio.iscoroutine(coroutine)
    assert asyncio.run(coroutine) == 7


def test_invalid_yields_fail_the_step():
    @dg.op
    def yields_bad():
        yield 5

    @dg.op(out={"a": dg.Out(), "b": dg.Out()})
    def undefined_out():
        yield dg.Output(1, "zzz")

    @dg.op
    def twice():
        yield dg.Output(1)
        yield dg.Output(2)

    @dg.job
    def j():
        yields_bad()
        undefined_out()
        twice()

    result = j.execute_in_process(raise_on_error=False)
    failures = {e.step_key: e.event_specific_data.error for e in result.get_step_failure_events()}
    assert {k: v.cls_name for k, v in failures.items()} == {
        "yields_bad": "DagsterInvariantViolationError",
        "undefined_out": "DagsterInvariantViolationError",
        "twice": "DagsterInvariantViolationError",
    }
    assert failures["yields_bad"].message.split(": ", 1)[1].startswith(
        "Compute function for op \"yields_bad\" yielded a value of type <class 'int'> rather than an instance of Output"
    )
    assert failures["undefined_out"].message.splitlines()[0].split(": ", 1)[1] == (
        "Core compute for op \"undefined_out\" returned an output \"zzz\" that does not exist. The available outputs are ['a', 'b']"
    )
    assert failures["twice"].message.splitlines()[0].split(": ", 1)[1] == 'Compute for op "twice" returned an output "result" multiple times'


def test_execute_job_with_reconstructable_job(tmp_path):
    from tests.sdk.compat import _reconstructable_job

    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        job = dg.reconstructable(_reconstructable_job.sq_job)
        with dg.execute_job(job, instance=instance, run_config={"ops": {"base": {"config": {"n": 4}}}}) as result:
            assert (type(result).__name__, result.success, result.output_for_node("square")) == ("JobExecutionResult", True, 16)
            assert sorted(e.step_key for e in result.get_step_success_events()) == ["base", "square"]
            assert result.dagster_run.status == dg.DagsterRunStatus.SUCCESS
        with dg.execute_job(job, instance=instance, op_selection=["base"]) as result:
            assert (result.success, result.output_for_node("base")) == (True, 2)
        assert len(instance.get_runs()) == 2
    with pytest.raises(dg.DagsterInvariantViolationError, match="^Reconstructable target can not be a lambda"):
        dg.reconstructable(lambda: None)


def test_job_metadata_optional_input_default_and_validate_run_config():
    from typing import Optional

    @dg.op(ins={"x": dg.In(Optional[int], default_value=None)})  # noqa: UP045 - as in Dagster's docs
    def opt_in(x):
        return x

    @dg.job(description="desc", metadata={"owner": "me"})
    def j():
        opt_in()

    assert j.execute_in_process().output_for_node("opt_in") is None
    assert (j.description, sorted(j.metadata)) == ("desc", ["owner"])
    assert dg.validate_run_config(j) == {
        "ops": {"opt_in": {"config": None, "inputs": {}, "outputs": None}},
        "execution": {"multi_or_in_process_executor": {"multiprocess": {"max_concurrent": None, "retries": {"enabled": {}}}}},
        "resources": {"io_manager": {"config": None}},
        "loggers": {},
    }


def test_resources_passed_to_execute_in_process_override_or_complete_the_job():
    @dg.op(required_resource_keys={"r"})
    def use_r(context):
        return context.resources.r

    @dg.job(resource_defs={"r": dg.ResourceDefinition.hardcoded_resource("orig")})
    def j2():
        use_r()

    assert j2.execute_in_process().output_for_node("use_r") == "orig"
    assert j2.execute_in_process(resources={"r": "override"}).output_for_node("use_r") == "override"

    @dg.job
    def j3():
        use_r()

    with pytest.raises(dg.DagsterInvalidDefinitionError, match="^resource with key 'r' required by op 'use_r' was not provided."):
        j3.execute_in_process()
    assert j3.execute_in_process(resources={"r": "given"}).output_for_node("use_r") == "given"


def test_a_job_body_may_not_return_an_output():
    with pytest.raises(dg.DagsterInvalidDefinitionError, match=r"^Returned a single output \(add_one.result\) in @job"):

        @dg.job
        def returns():
            return add_one(seed())


def test_result_event_accessors_and_run_event_type_aliases():
    @dg.job
    def j():
        seed()

    result = j.execute_in_process()
    success = result.get_run_success_event()
    assert (success.event_type, success.event_type_value) == (dg.DagsterEventType.RUN_SUCCESS, "PIPELINE_SUCCESS")
    assert dg.DagsterEventType.PIPELINE_SUCCESS is dg.DagsterEventType.RUN_SUCCESS
    assert [e.event_type for e in result.all_events][:2] == [dg.DagsterEventType.RUN_START, dg.DagsterEventType.ENGINE_EVENT]
    assert (result.all_node_events[0].event_type_value, len(result.events_for_node("seed"))) == ("STEP_START", 4)
    assert result.filter_events(lambda e: e.is_step_success)[0].step_key == "seed"
    assert (j.get_subset(op_selection=["seed"]).name, type(j.get_subset(op_selection=["seed"])).__name__) == ("j", "JobDefinition")
    assert dg.file_relative_path("/a/b/c.py", "d/e.txt") == "/a/b/d/e.txt"


def test_graph_to_job_with_resources_retry_policy_hooks_and_nested_op_selection():
    calls = []

    @dg.op(config_schema={"n": int})
    def make_n(context) -> int:
        return context.op_config["n"]

    @dg.op(required_resource_keys={"mult"})
    def times(context, x: int) -> int:
        calls.append(context.retry_number)
        if context.retry_number == 0:
            raise ValueError("once")
        return x * context.resources.mult

    @dg.graph
    def sub():
        return times(make_n())

    @dg.op
    def final(v: int) -> int:
        return v + 1

    @dg.graph
    def top():
        final(sub())

    @dg.success_hook
    def hk(context):
        calls.append("hook:" + context.op.name)

    job = top.to_job(
        name="top_job", resource_defs={"mult": dg.ResourceDefinition.hardcoded_resource(10)},
        op_retry_policy=dg.RetryPolicy(max_retries=1), hooks={hk}, tags={"t": "1"}, description="d",
    )
    run_config = {"ops": {"sub": {"ops": {"make_n": {"config": {"n": 2}}}}}}
    result = job.execute_in_process(run_config=run_config)
    steps = _steps(result)
    assert steps["sub.times"] == [
        "STEP_START", "LOADED_INPUT", "STEP_INPUT", "STEP_UP_FOR_RETRY", "HOOK_SKIPPED", "STEP_RESTARTED", "LOADED_INPUT",
        "STEP_INPUT", "STEP_OUTPUT", "HANDLED_OUTPUT", "STEP_SUCCESS", "HOOK_COMPLETED",
    ]
    assert steps["final"][-1] == "HOOK_COMPLETED"
    assert result.output_for_node("final") == 21
    assert sorted(map(str, calls)) == ["0", "1", "hook:final", "hook:make_n", "hook:times"]
    assert (job.name, job.tags, job.description, job.graph.name) == ("top_job", {"t": "1"}, "d", "top")
    result = job.execute_in_process(op_selection=["sub.make_n"], run_config={"ops": {"sub": {"ops": {"make_n": {"config": {"n": 5}}}}}})
    assert _steps(result)["sub.make_n"][0] == "RESOURCE_INIT_STARTED"
    assert result.output_for_node("sub.make_n") == 5
    result = job.execute_in_process(op_selection=["sub"], run_config={"ops": {"sub": {"ops": {"make_n": {"config": {"n": 5}}}}}})
    assert sorted(e.step_key for e in result.get_step_success_events()) == ["sub.make_n", "sub.times"]
    with pytest.raises(dg.DagsterInvalidSubsetError, match="^Node nothere was selected, but no node named nothere was found."):
        job.execute_in_process(op_selection=["sub.nothere"])
    assert type(job.with_hooks({hk})).__name__ == "JobDefinition"


def test_dynamic_outputs_with_metadata_multiple_dynamic_outputs_and_a_failing_mapped_step():
    @dg.op(out=dg.DynamicOut(int))
    def nums():
        for i in range(3):
            yield dg.DynamicOutput(i, mapping_key=f"k{i}", metadata={"i": i})

    @dg.op(out={"even": dg.DynamicOut(is_required=False), "odd": dg.DynamicOut(is_required=False)})
    def split():
        for i in range(4):
            yield dg.DynamicOutput(i, output_name="even" if i % 2 == 0 else "odd", mapping_key=str(i))

    @dg.op
    def sq(x: int) -> int:
        return x * x

    @dg.op
    def add(a: int, b: int) -> int:
        return a + b

    @dg.op
    def total(xs: list) -> int:
        return sum(xs)

    @dg.job
    def j():
        o = seed()
        total(nums().map(lambda n: add(sq(n), o)).collect())
        even, odd = split()
        total.alias("even_total")(even.map(sq).collect())
        total.alias("odd_total")(odd.collect())

    result = j.execute_in_process()
    assert [result.output_for_node(n) for n in ("total", "even_total", "odd_total")] == [14, 4, 4]
    assert result.output_for_node("sq") == {"k0": 0, "k1": 1, "k2": 4}
    assert sorted(k for k in {e.step_key for e in result.all_events} if k) == [
        "add[k0]", "add[k1]", "add[k2]", "even_total", "nums", "odd_total", "seed", "split", "sq[k0]", "sq[k1]", "sq[k2]",
        "sq_2[0]", "sq_2[2]", "total",
    ]
    outputs = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT" and e.step_key == "nums"]
    assert [(e.event_specific_data.mapping_key, sorted(e.event_specific_data.metadata)) for e in outputs] == [
        ("k0", ["i"]), ("k1", ["i"]), ("k2", ["i"])
    ]

    @dg.op
    def fail_on_one(x: int) -> int:
        if x == 1:
            raise ValueError("one")
        return x

    @dg.job
    def j2():
        total(nums().map(fail_on_one).collect())

    result = j2.execute_in_process(raise_on_error=False)
    steps = _steps(result)
    assert steps["fail_on_one[k1]"] == ["STEP_START", "LOADED_INPUT", "STEP_INPUT", "STEP_FAILURE"]
    assert steps["fail_on_one[k2]"] == IO_STEP
    assert "total" not in steps
    assert result.output_for_node("fail_on_one") == {"k0": 0, "k2": 2}
