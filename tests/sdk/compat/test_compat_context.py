"""Dagster programs about op contexts, direct invocation, logging, events/metadata and the ephemeral
instance, with Dagster 1.13's values."""

import logging

import pytest

import orchestra as dg


def _steps(result):
    out = {}
    for event in result.all_events:
        out.setdefault(event.step_key, []).append(event.event_type_value)
    return out


@dg.op
def logs(context):
    logger = dg.get_dagster_logger()
    logger.info("from dagster logger")
    logger.warning("warn %s", 3)
    context.log.debug("debug msg")
    context.log.error("err msg")
    context.log.info("info msg")
    logging.getLogger("random").info("not captured")
    return 1


def test_context_log_and_get_dagster_logger_land_in_the_run_log():
    instance = dg.DagsterInstance.ephemeral()

    @dg.job
    def j():
        logs()

    result = j.execute_in_process(instance=instance)
    assert _steps(result)["logs"] == [
        "RESOURCE_INIT_STARTED", "RESOURCE_INIT_SUCCESS", "STEP_START", "STEP_OUTPUT", "HANDLED_OUTPUT", "STEP_SUCCESS"
    ]
    user = [(e.level, e.user_message) for e in instance.all_logs(result.run_id) if e.dagster_event is None]
    assert user == [(20, "from dagster logger"), (30, "warn 3"), (10, "debug msg"), (40, "err msg"), (20, "info msg")]
    logger = dg.get_dagster_logger()
    assert (type(logger).__name__, logger.name) == ("Logger", "dagster.builtin")
    assert dg.get_dagster_logger("custom").name == "dagster.builtin.custom"
    context = dg.build_op_context()
    context.log.info("direct")
    assert logs(context) == 1


class Api(dg.ConfigurableResource):
    base: str

    def get(self, path):
        return self.base + path


@dg.op(config_schema={"path": str}, required_resource_keys={"api"})
def fetch(context) -> str:
    return context.resources.api.get(context.op_config["path"])


def test_build_op_context_direct_invocation_with_resources_and_config():
    assert fetch(dg.build_op_context(resources={"api": Api(base="http://x")}, op_config={"path": "/y"})) == "http://x/y"
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="^resource with key 'api' required by op 'fetch' was not provided."):
        fetch(dg.build_op_context(op_config={"path": "/y"}))
    with pytest.raises(dg.DagsterInvalidConfigError, match="^Error in config for op"):
        fetch(dg.build_op_context(resources={"api": Api(base="b")}))
    with pytest.raises(dg.DagsterInvalidInvocationError, match="^Decorated function 'fetch' has context argument, but no context was provided when invoking."):
        fetch()


def test_direct_invocation_with_config_class_resource_params_and_inputs():
    class Cfg(dg.Config):
        n: int = 2

    @dg.op
    def pyop(context: dg.OpExecutionContext, config: Cfg, api: Api, x: int) -> int:
        return x * config.n + len(api.base)

    assert pyop(dg.build_op_context(resources={"api": Api(base="ab")}), config=Cfg(n=3), x=5) == 17
    assert pyop(context=dg.build_op_context(resources={"api": Api(base="abc")}), x=1, config=Cfg()) == 5
    with pytest.raises(dg.DagsterInvalidInvocationError, match='^No value provided for required input "x".'):
        pyop(dg.build_op_context(resources={"api": Api(base="ab")}), config=Cfg(n=3))

    @dg.op
    def no_ctx(a: int, b: int = 4) -> int:
        return a + b

    assert (no_ctx(1), no_ctx(1, 2), no_ctx(a=3)) == (5, 3, 7)
    with pytest.raises(dg.DagsterInvalidInvocationError, match='^No value provided for required input "a".'):
        no_ctx()
    with pytest.raises(dg.DagsterInvalidInvocationError, match="^Too many input arguments were provided for op 'no_ctx'."):
        no_ctx(1, 2, 3)

    @dg.op(ins={"x": dg.In(int)})
    def typed_in(x):
        return x

    with pytest.raises(dg.DagsterTypeCheckDidNotPass, match='^Type check failed for op "typed_in" input "x" - expected type "Int".'):
        typed_in("s")

    @dg.op
    def raises():
        raise ValueError("direct fail")

    with pytest.raises(ValueError, match="direct fail"):
        raises()


def test_direct_invocation_of_generators_and_output_metadata():
    @dg.op(out={"a": dg.Out(), "b": dg.Out()})
    def multi():
        yield dg.Output(1, "a")
        yield dg.Output(2, "b")

    result = multi()
    assert type(result).__name__ == "generator"
    assert [(o.output_name, o.value) for o in result] == [("a", 1), ("b", 2)]

    @dg.op
    def gen():
        yield dg.Output(5)

    assert [o.value for o in gen()] == [5]

    @dg.op
    def with_meta(context):
        context.add_output_metadata({"rows": 10})
        return 1

    context = dg.build_op_context()
    assert with_meta(context) == 1
    assert context.get_output_metadata("result") == {"rows": 10}
    assert (dg.build_op_context().run_id, dg.build_op_context().op_config) == ("EPHEMERAL", None)
    with dg.build_op_context(resources={"api": Api(base="w")}) as entered:
        assert entered.resources.api.base == "w"


def test_ephemeral_instance_get_runs_filters_and_all_logs():
    @dg.op
    def a() -> int:
        return 1

    @dg.op
    def fail(x):
        raise Exception("bad")

    @dg.job(tags={"owner": "me"})
    def ok_job():
        a()

    @dg.job
    def bad_job():
        fail(a())

    instance = dg.DagsterInstance.ephemeral()
    r1 = ok_job.execute_in_process(instance=instance)
    r2 = bad_job.execute_in_process(instance=instance, raise_on_error=False)
    r3 = ok_job.execute_in_process(instance=instance, tags={"x": "y"})
    runs = instance.get_runs()
    assert [r.job_name for r in runs] == ["ok_job", "bad_job", "ok_job"]
    assert [r.status for r in runs] == [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.SUCCESS]
    assert [r.run_id for r in runs] == [r3.run_id, r2.run_id, r1.run_id]
    assert len(instance.get_runs(filters=dg.RunsFilter(job_name="ok_job"))) == 2
    assert len(instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))) == 1
    assert len(instance.get_runs(filters=dg.RunsFilter(tags={"x": "y"}))) == 1
    assert instance.get_runs(limit=1)[0].run_id == r3.run_id
    assert instance.get_run_by_id(r2.run_id).status == dg.DagsterRunStatus.FAILURE
    assert instance.get_run_by_id("nope") is None
    assert sorted(instance.get_run_by_id(r1.run_id).tags) == ["owner"]
    records = instance.all_logs(r2.run_id)
    assert [e.dagster_event.event_type_value for e in records if e.dagster_event] == [
        "PIPELINE_START", "ENGINE_EVENT", "RESOURCE_INIT_STARTED", "RESOURCE_INIT_SUCCESS", "LOGS_CAPTURED",
        "STEP_START", "STEP_OUTPUT", "HANDLED_OUTPUT", "STEP_SUCCESS", "STEP_START", "LOADED_INPUT", "STEP_INPUT",
        "STEP_FAILURE", "ENGINE_EVENT", "PIPELINE_FAILURE",
    ]
    assert len(instance.all_logs(r2.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)) == 1
    assert len(instance.all_logs(r2.run_id, of_type={dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.STEP_SUCCESS})) == 2
    assert (instance.get_runs_count(), instance.get_runs_count(filters=dg.RunsFilter(job_name="bad_job"))) == (3, 1)
    run_records = instance.get_run_records(filters=dg.RunsFilter(job_name="ok_job"))
    assert (len(run_records), type(run_records[0]).__name__, run_records[0].dagster_run.job_name) == (2, "RunRecord", "ok_job")
    first = records[0]
    assert (type(first).__name__, first.run_id == r2.run_id, first.job_name, first.step_key) == ("EventLogEntry", True, "bad_job", None)
    instance.delete_run(r1.run_id)
    assert instance.get_runs_count() == 2
    assert (instance.has_run(r1.run_id), instance.has_run(r2.run_id)) == (False, True)
    assert len(instance.get_records_for_run(r2.run_id).records) == len(records)
    with dg.instance_for_test() as test_instance:
        assert ok_job.execute_in_process(instance=test_instance).success
        assert len(test_instance.get_runs()) == 1


def test_user_events_and_output_metadata_become_typed_metadata_values():
    @dg.op(out=dg.Out(metadata={"static": "s"}))
    def emits(context):
        context.log_event(dg.AssetMaterialization(asset_key="tbl", description="made", metadata={"rows": 5}))
        yield dg.ExpectationResult(success=True, label="non_empty", metadata={"n": 1})
        yield dg.AssetObservation(asset_key=dg.AssetKey(["a", "b"]), metadata={"size": 3})
        yield dg.Output([1, 2], metadata={
            "count": 2, "ratio": 0.5, "md": dg.MetadataValue.md("# hi"), "js": dg.MetadataValue.json({"a": 1}),
            "flag": True, "nothing": None,
            "tbl": dg.MetadataValue.table(records=[dg.TableRecord({"x": 1})], schema=dg.TableSchema(columns=[dg.TableColumn("x", "int")])),
        })

    @dg.job
    def j():
        emits()

    result = j.execute_in_process()
    assert _steps(result)["emits"] == [
        "RESOURCE_INIT_STARTED", "RESOURCE_INIT_SUCCESS", "STEP_START", "ASSET_MATERIALIZATION", "STEP_EXPECTATION_RESULT",
        "ASSET_OBSERVATION", "STEP_OUTPUT", "HANDLED_OUTPUT", "STEP_SUCCESS",
    ]
    output = next(e for e in result.all_events if e.event_type_value == "STEP_OUTPUT")
    metadata = output.event_specific_data.metadata
    assert {k: type(v).__name__ for k, v in metadata.items()} == {
        "count": "IntMetadataValue", "flag": "BoolMetadataValue", "js": "JsonMetadataValue", "md": "MarkdownMetadataValue",
        "nothing": "NullMetadataValue", "ratio": "FloatMetadataValue", "tbl": "TableMetadataValue",
    }
    assert (metadata["count"].value, metadata["ratio"].value, metadata["md"].value, metadata["js"].data,
            metadata["flag"].value, metadata["nothing"].value) == (2, 0.5, "# hi", {"a": 1}, True, None)
    assert [(m.asset_key.path, m.description, m.metadata["rows"].value) for m in result.asset_materializations_for_node("emits")] == [
        (["tbl"], "made", 5)
    ]
    expectation = next(e for e in result.all_events if e.event_type_value == "STEP_EXPECTATION_RESULT")
    assert (expectation.event_specific_data.expectation_result.label, expectation.event_specific_data.expectation_result.success) == ("non_empty", True)
    assert result.asset_observations_for_node("emits")[0].asset_key.to_user_string() == "a/b"


def test_metadata_values_and_invalid_output_metadata():
    assert (dg.AssetKey("x").path, dg.AssetKey(["a", "b"]).to_user_string(), dg.AssetKey.from_user_string("a/b").path) == (
        ["x"], "a/b", ["a", "b"]
    )
    assert (repr(dg.MetadataValue.int(3)), repr(dg.MetadataValue.text("t"))) == ("IntMetadataValue(value=3)", "TextMetadataValue(text='t')")
    assert (dg.MetadataValue.path("/p").value, dg.MetadataValue.url("u").value, dg.MetadataValue.float(1.5).value) == ("/p", "u", 1.5)
    assert dg.MetadataValue.timestamp(0.0).value == 0.0
    assert dg.Output(1, metadata={"a": 1}).metadata == {"a": dg.MetadataValue.int(1)}
    with pytest.raises(dg.DagsterError, match='^Could not resolve the metadata value for "bad" to a known type.') as info:
        dg.Output(1, metadata={"bad": object()})
    assert type(info.value).__name__ == "DagsterInvalidMetadata"
    assert dg.ExpectationResult(True).label == "result"

    @dg.op
    def add_meta(context) -> int:
        context.add_output_metadata({"late": 1})
        return 3

    @dg.job
    def j2():
        add_meta()

    result = j2.execute_in_process()
    output = next(e for e in result.all_events if e.event_type_value == "STEP_OUTPUT")
    assert sorted(output.event_specific_data.metadata) == ["late"]
    handled = next(e for e in result.all_events if e.event_type_value == "HANDLED_OUTPUT")
    assert (handled.event_specific_data.output_name, handled.event_specific_data.manager_key) == ("result", "io_manager")


def test_op_context_properties_inside_a_run():
    @dg.op(tags={"kind": "compute"}, description="does things")
    def props(context: dg.OpExecutionContext):
        return {
            "op_name": context.op.name,
            "op_def_tags": dict(context.op_def.tags),
            "desc": context.op_def.description,
            "job": context.job_name,
            "has_tag": context.has_tag("team"),
            "tag": context.get_tag("team"),
            "run_tags": {k: v for k, v in context.run.tags.items() if not k.startswith("dagster/")},
            "retry": context.retry_number,
            "mapping": context.get_mapping_key(),
            "handle": str(context.op_handle),
            "has_partition": context.has_partition_key,
            "run_config": context.run_config,
            "is_run_id_ok": context.run_id == context.run.run_id,
            "selected": sorted(context.selected_output_names),
        }

    @dg.job(tags={"team": "t1"})
    def j():
        props()

    assert j.execute_in_process().output_for_node("props") == {
        "op_name": "props", "op_def_tags": {"kind": "compute"}, "desc": "does things", "job": "j", "has_tag": True,
        "tag": "t1", "run_tags": {"team": "t1"}, "retry": 0, "mapping": None, "handle": "props",
        "has_partition": False, "run_config": {}, "is_run_id_ok": True, "selected": ["result"],
    }
    assert (j.tags, j.run_tags) == ({"team": "t1"}, {"team": "t1"})
    assert (props.tags, props.name, props.description, props.required_resource_keys, props.retry_policy) == (
        {"kind": "compute"}, "props", "does things", frozenset(), None
    )

    @dg.op(ins={"a": dg.In(int, description="an int", default_value=3)}, out=dg.Out(str, description="s"))
    def defaults(a):
        return str(a)

    assert (defaults.ins["a"].description, defaults.outs["result"].description) == ("an int", "s")

    @dg.job
    def j2():
        defaults()

    assert j2.execute_in_process().output_for_node("defaults") == "3"
    assert j2.execute_in_process(run_config={"ops": {"defaults": {"inputs": {"a": 9}}}}).output_for_node("defaults") == "9"


def test_custom_logger_named_in_run_config_receives_the_run_log():
    captured = []

    class ListHandler(logging.Handler):
        def emit(self, record):
            captured.append((record.levelname, record.getMessage()))

    @dg.logger(config_schema={"level": dg.Field(str, default_value="INFO")}, description="list logger")
    def list_logger(init_context):
        python_logger = logging.getLogger("compat_list_logger")
        python_logger.handlers = [ListHandler()]
        python_logger.setLevel(init_context.logger_config["level"])
        python_logger.propagate = False
        return python_logger

    @dg.op
    def hello(context):
        context.log.info("hello there")
        context.log.debug("quiet")
        return 1

    @dg.job(logger_defs={"lst": list_logger})
    def j():
        hello()

    result = j.execute_in_process(run_config={"loggers": {"lst": {"config": {}}}})
    assert captured == [("INFO", f"j - {result.run_id} - hello - hello there")]
    captured.clear()
    assert j.execute_in_process().success and captured == []  # not named in run config: the console is used
    j.execute_in_process(run_config={"loggers": {"lst": {"config": {"level": "DEBUG"}}}})
    assert any(level == "DEBUG" for level, _ in captured) and any("quiet" in m for _, m in captured)
    assert (list_logger.description, type(list_logger).__name__) == ("list logger", "LoggerDefinition")
    context = dg.build_init_logger_context(logger_config={"level": "WARNING"})
    assert (list_logger.logger_fn(context).level, context.logger_config) == (30, {"level": "WARNING"})
    for bad in ({"lst": {"config": {"level": 3}}}, {"console": {"config": {}}}):
        with pytest.raises(dg.DagsterInvalidConfigError, match="^Error in config for job j"):
            j.execute_in_process(run_config={"loggers": bad})
