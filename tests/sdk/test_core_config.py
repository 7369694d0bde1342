"""Run config: validated against the job's schema before any op runs, errors carry their paths."""

import pytest

import orchestra as dg

ran = []


@dg.op(config_schema={"n": int})
def configured(context):
    ran.append(context.op_config)
    return context.op_config["n"]


@dg.graph
def wrapper():
    return configured()


@dg.job
def config_job():
    configured.alias("top")()
    wrapper()


def test_op_config_reaches_context_op_config_including_nested_graphs():
    result = config_job.execute_in_process(
        run_config={"ops": {"top": {"config": {"n": 1}}, "wrapper": {"ops": {"configured": {"config": {"n": 2}}}}}}
    )
    assert result.output_for_node("top") == 1
    assert result.output_for_node("wrapper.configured") == 2
    assert result.output_for_node("wrapper") == 2


def test_invalid_config_lists_every_error_with_its_path_before_any_op_runs():
    ran.clear()
    with pytest.raises(dg.DagsterInvalidConfigError) as info:
        config_job.execute_in_process(
            run_config={"ops": {"top": {"config": {"n": "x"}}, "wrapper": {"ops": {"configured": {"config": {}}}}}}
        )
    assert ran == []
    message = str(info.value)
    assert message.startswith("Error in config for job config_job")
    assert 'Missing required config entry "n" at path root:ops:wrapper:ops:configured:config.' in message
    assert 'Invalid scalar at path root:ops:top:config:n. Value "x" of type "<class \'str\'>" is not valid for expected type "Int".' in message
    assert len(info.value.errors) == 2


def test_unknown_op_in_config_is_reported():
    with pytest.raises(dg.DagsterInvalidConfigError) as info:
        config_job.execute_in_process(run_config={"ops": {"nope": {}}})
    assert 'Received unexpected config entry "nope" at path root:ops.' in str(info.value)


def test_missing_ops_section_is_reported_at_the_root():
    with pytest.raises(dg.DagsterInvalidConfigError, match='Missing required config entry "ops" at the root'):
        config_job.execute_in_process()


def test_invalid_config_creates_no_run():
    instance = dg.DagsterInstance.ephemeral()
    with pytest.raises(dg.DagsterInvalidConfigError):
        config_job.execute_in_process(run_config={"ops": {}}, instance=instance)
    assert instance.get_runs() == []


def test_config_defaults_are_filled():
    @dg.op(config_schema={"greeting": dg.Field(str, default_value="hi"), "times": dg.Field(int, default_value=2)})
    def greet(context):
        return context.op_config["greeting"] * context.op_config["times"]

    @dg.job
    def greeting():
        greet()

    assert greeting.execute_in_process().output_for_node("greet") == "hihi"


def test_pythonic_config_parameter_gets_an_instance_and_op_config_the_dict():
    class Settings(dg.Config):
        factor: int = 3
        name: str

    @dg.op
    def scaled(context, config: Settings) -> str:
        assert context.op_config == {"factor": config.factor, "name": config.name}
        return config.name * config.factor

    @dg.job
    def pythonic():
        scaled()

    result = pythonic.execute_in_process(run_config={"ops": {"scaled": {"config": {"name": "x"}}}})
    assert result.output_for_node("scaled") == "xxx"
    result = pythonic.execute_in_process(run_config=dg.RunConfig(ops={"scaled": Settings(name="y", factor=1)}))
    assert result.output_for_node("scaled") == "y"
    with pytest.raises(dg.DagsterInvalidConfigError, match="root:ops:scaled:config"):
        pythonic.execute_in_process(run_config={"ops": {"scaled": {"config": {"factor": 1}}}})


def test_job_config_dict_is_the_default_run_config():
    @dg.job(config={"ops": {"configured": {"config": {"n": 7}}}})
    def defaulted():
        configured()

    assert defaulted.execute_in_process().output_for_node("configured") == 7


def test_resource_config_is_validated_with_path():
    @dg.resource(config_schema={"url": str})
    def database(init_context):
        return init_context.resource_config["url"]

    @dg.op(required_resource_keys={"db"})
    def read(context):
        return context.resources.db

    @dg.job(resource_defs={"db": database})
    def with_resource():
        read()

    result = with_resource.execute_in_process(run_config={"resources": {"db": {"config": {"url": "sqlite://"}}}})
    assert result.output_for_node("read") == "sqlite://"
    with pytest.raises(dg.DagsterInvalidConfigError, match="root:resources:db:config"):
        with_resource.execute_in_process(run_config={"resources": {"db": {"config": {"url": 1}}}})


def test_execution_block_validates_against_the_default_executor():
    @dg.job
    def plain():
        configured()

    ops = {"configured": {"config": {"n": 1}}}
    config = dg.validate_run_config(plain, {"ops": ops, "execution": {"config": {"multiprocess": {"max_concurrent": 2}}}})
    assert config["execution"] == {"multi_or_in_process_executor": {"multiprocess": {"max_concurrent": 2, "retries": {"enabled": {}}}}}
    assert config["ops"] == {"configured": {"config": {"n": 1}, "inputs": {}, "outputs": None}}
    with pytest.raises(dg.DagsterInvalidConfigError, match='unexpected config entry "bogus" at path root:execution:config'):
        dg.validate_run_config(plain, {"ops": ops, "execution": {"config": {"bogus": {}}}})
    result = plain.execute_in_process(run_config={"ops": ops, "execution": {"config": {"multiprocess": {}}}})
    assert result.success


def test_in_process_executor_job_validates_its_own_shape():
    @dg.job(executor_def=dg.in_process_executor)
    def serial():
        configured()

    ops = {"configured": {"config": {"n": 1}}}
    config = dg.validate_run_config(serial, {"ops": ops, "execution": {"config": {"retries": {"disabled": {}}}}})
    assert config["execution"]["in_process"]["retries"] == {"disabled": {}}
    with pytest.raises(dg.DagsterInvalidConfigError):
        dg.validate_run_config(serial, {"ops": ops, "execution": {"config": {"multiprocess": {}}}})


def test_loggers_console_level_is_accepted():
    @dg.job
    def quiet():
        configured()

    result = quiet.execute_in_process(run_config={
        "ops": {"configured": {"config": {"n": 1}}}, "loggers": {"console": {"config": {"log_level": "WARNING"}}},
    })
    assert result.success


def test_validate_run_config_returns_defaults_for_resources():
    @dg.op
    def simple():
        return 1

    @dg.job
    def job_simple():
        simple()

    config = dg.validate_run_config(job_simple)
    assert config["resources"] == {"io_manager": {"config": None}}
    assert config["ops"] == {"simple": {"config": None, "inputs": {}, "outputs": None}}


def test_op_selection_config_schema_covers_only_selected_ops():
    @dg.op
    def free():
        return 1

    @dg.job
    def mixed():
        configured()
        free()

    assert mixed.execute_in_process(op_selection=["free"]).success


def test_graph_config_mapping_maps_outer_config_to_inner_ops():
    @dg.graph(config=dg.ConfigMapping(config_fn=lambda cfg: {"configured": {"config": {"n": cfg["x"] * 2}}},
                                      config_schema={"x": int}))
    def mapped():
        return configured()

    @dg.job
    def uses_mapping():
        mapped()

    result = uses_mapping.execute_in_process(run_config={"ops": {"mapped": {"config": {"x": 3}}}})
    assert result.output_for_node("mapped") == 6
    with pytest.raises(dg.DagsterInvalidConfigError, match="root:ops:mapped:config:x"):
        uses_mapping.execute_in_process(run_config={"ops": {"mapped": {"config": {"x": "no"}}}})


def test_job_config_mapping_takes_the_whole_run_config():
    @dg.job(config=dg.ConfigMapping(config_fn=lambda cfg: {"ops": {"configured": {"config": {"n": cfg["y"]}}}},
                                    config_schema={"y": int}))
    def mapped_job():
        configured()

    assert mapped_job.execute_in_process(run_config={"y": 4}).output_for_node("configured") == 4
    with pytest.raises(dg.DagsterInvalidConfigError, match="Error in config mapping"):
        mapped_job.execute_in_process(run_config={"y": "s"})


def test_configured_op_with_fixed_config_and_with_an_outer_schema():
    @dg.op(config_schema={"n": int, "m": dg.Field(int, default_value=1)})
    def base(context):
        return context.op_config

    fixed = base.configured({"n": 5}, name="fixed")

    @dg.configured(base, config_schema={"x": int})
    def scaled(cfg):
        return {"n": cfg["x"] * 10}

    @dg.job
    def uses_configured():
        fixed()
        scaled()

    result = uses_configured.execute_in_process(run_config={"ops": {"scaled": {"config": {"x": 2}}}})
    assert result.output_for_node("fixed") == {"n": 5, "m": 1}
    assert result.output_for_node("scaled") == {"n": 20, "m": 1}
    assert (fixed.name, scaled.name, base.name) == ("fixed", "scaled", "base")
    with pytest.raises(dg.DagsterInvalidConfigError, match="root:ops:scaled:config:x"):
        uses_configured.execute_in_process(run_config={"ops": {"scaled": {"config": {"x": "s"}}}})
