"""Dagster programs about resources (function, configurable, nested, configured), with Dagster 1.13's values."""

import pydantic
import pytest

import orchestra as dg


def _steps(result):
    out = {}
    for event in result.all_events:
        out.setdefault(event.step_key, []).append(event.event_type_value)
    return out


class Creds(dg.ConfigurableResource):
    user: str
    password: str


class Db(dg.ConfigurableResource):
    creds: Creds
    host: str = "localhost"

    def query(self, q):
        return f"{self.creds.user}@{self.host}:{q}"


@dg.op
def query_op(db: Db) -> str:
    return db.query("select 1")


@dg.op(required_resource_keys={"db"})
def query_by_key(context) -> str:
    return context.resources.db.query("2")


def test_nested_configurable_resource_reads_env_var_at_run_time(monkeypatch):
    monkeypatch.setenv("COMPAT_USER", "alice")

    @dg.job(resource_defs={"db": Db(creds=Creds(user=dg.EnvVar("COMPAT_USER"), password="p"), host="h")})
    def j():
        query_op()
        query_by_key()

    result = j.execute_in_process()
    assert result.success
    assert _steps(result)[None] == [
        "PIPELINE_START", "ENGINE_EVENT", "RESOURCE_INIT_STARTED", "RESOURCE_INIT_SUCCESS", "LOGS_CAPTURED",
        "ENGINE_EVENT", "PIPELINE_SUCCESS",
    ]
    assert result.output_for_node("query_op") == "alice@h:select 1"
    assert result.output_for_node("query_by_key") == "alice@h:2"
    assert Db(creds=Creds(user="u", password="p")).query("z") == "u@localhost:z"


def test_missing_env_var_of_a_nested_resource_is_a_config_error(monkeypatch):
    monkeypatch.delenv("COMPAT_MISSING_X", raising=False)

    @dg.job(resource_defs={"db": Db(creds=Creds(user=dg.EnvVar("COMPAT_MISSING_X"), password="p"))})
    def j():
        query_op()

    # Dagster's message reads "Error in config for nested resource"
    with pytest.raises(dg.DagsterInvalidConfigError, match="^Error in config for"):
        j.execute_in_process()


def test_required_nested_resource_left_out_fails_resource_initialisation():
    with pytest.raises(pydantic.ValidationError):
        Db(host="x")

    @dg.job(resource_defs={"db": Db.configure_at_launch(), "creds": Creds(user="bob", password="x")})
    def j():
        query_op()

    with pytest.raises(dg.DagsterResourceFunctionError, match="^Error executing resource_fn on ResourceDefinition db"):
        j.execute_in_process(run_config={"resources": {"db": {"config": {"host": "zz"}}}})


def test_generator_resources_with_dependencies_are_torn_down_after_the_run():
    log = []

    @dg.resource(config_schema={"prefix": str})
    def conn(init_context):
        log.append("open " + init_context.resource_config["prefix"])
        try:
            yield init_context.resource_config["prefix"]
        finally:
            log.append("close")

    @dg.resource(required_resource_keys={"conn"})
    def client(init_context):
        return init_context.resources.conn + "-client"

    @dg.op(required_resource_keys={"client"})
    def use(context):
        log.append("use")
        return context.resources.client

    @dg.job(resource_defs={"conn": conn, "client": client})
    def j():
        use()

    result = j.execute_in_process(run_config={"resources": {"conn": {"config": {"prefix": "p"}}}})
    assert _steps(result)["use"] == [
        "RESOURCE_INIT_STARTED", "RESOURCE_INIT_SUCCESS", "STEP_START", "STEP_OUTPUT", "HANDLED_OUTPUT", "STEP_SUCCESS"
    ]
    assert result.output_for_node("use") == "p-client"
    assert log == ["open p", "use", "close"]
    with dg.build_resources({"conn": conn, "client": client}, resource_config={"conn": {"config": {"prefix": "b"}}}) as res:
        assert res.client == "b-client"
    assert log == ["open p", "use", "close", "open b", "close"]


def test_resource_that_raises_fails_the_run_with_resource_init_failure():
    @dg.resource
    def broken(_):
        raise ValueError("nope")

    @dg.op(required_resource_keys={"b"})
    def x(context):
        return 1

    @dg.job(resource_defs={"b": broken})
    def j():
        x()

    with pytest.raises(dg.DagsterResourceFunctionError, match="^Error executing resource_fn on ResourceDefinition b"):
        j.execute_in_process()
    result = j.execute_in_process(raise_on_error=False)
    assert not result.success
    assert _steps(result) == {
        None: ["PIPELINE_START", "ENGINE_EVENT", "PIPELINE_FAILURE"],
        "x": ["RESOURCE_INIT_STARTED", "RESOURCE_INIT_FAILURE"],
    }


def test_configured_resources_and_values_resources():
    @dg.resource(config_schema={"url": str, "port": int})
    def svc(init_context):
        return f'{init_context.resource_config["url"]}:{init_context.resource_config["port"]}'

    @dg.configured(svc, config_schema={"port": int})
    def portable(cfg):
        return {"url": "h", "port": cfg["port"]}

    @dg.op(required_resource_keys={"s", "p"})
    def use(context):
        return context.resources.s + "|" + context.resources.p

    @dg.job(resource_defs={"s": svc.configured({"url": "localhost", "port": 80}), "p": portable})
    def j():
        use()

    assert j.execute_in_process(run_config={"resources": {"p": {"config": {"port": 9}}}}).output_for_node("use") == "localhost:80|h:9"

    @dg.op(required_resource_keys={"values"})
    def read_values(context):
        return dict(context.resources.values)

    @dg.job(resource_defs={"values": dg.make_values_resource(user=str, limit=dg.Field(int, default_value=10))})
    def j2():
        read_values()

    result = j2.execute_in_process(run_config={"resources": {"values": {"config": {"user": "u"}}}})
    assert result.output_for_node("read_values") == {"user": "u", "limit": 10}

    @dg.job(resource_defs={"values": dg.make_values_resource()})
    def j3():
        read_values()

    result = j3.execute_in_process(run_config={"resources": {"values": {"config": {"anything": [1]}}}})
    assert result.output_for_node("read_values") == {"anything": [1]}


def test_configurable_resource_lifecycle_and_run_config_override():
    events = []

    class Warehouse(dg.ConfigurableResource):
        schema_name: str = "public"
        timeout: int = 5
        _secret: str = "s"

        def setup_for_execution(self, context):
            self._secret = "set-up"

        def teardown_after_execution(self, context):
            events.append(f"teardown {self.schema_name}")

    @dg.op
    def wh(w: Warehouse) -> str:
        return f"{w.schema_name}/{w.timeout}/{w._secret}"

    @dg.job(resource_defs={"w": Warehouse(timeout=9)})
    def j():
        wh()

    # run config for a configured instance replaces its values (fields left out take the class defaults)
    assert j.execute_in_process(run_config={"resources": {"w": {"config": {"schema_name": "raw"}}}}).output_for_node("wh") == "raw/5/set-up"
    assert j.execute_in_process().output_for_node("wh") == "public/9/set-up"
    assert events == ["teardown raw", "teardown public"]
    with pytest.raises(pydantic.ValidationError, match="1 validation error for Warehouse"):
        Warehouse(timeout="x")
    with pytest.raises(dg.DagsterInvalidInvocationError, match="is a Pythonic resource and does not support item assignment"):
        Warehouse().timeout = 3
