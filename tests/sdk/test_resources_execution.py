"""Resources and IO managers inside real runs (`execute_in_process`, `materialize`)."""

import pytest

import orchestra as dg


def test_generator_resource_teardown_runs_when_an_op_fails():
    log = []

    @dg.resource
    def tracked(_):
        log.append("setup")
        yield "value"
        log.append("teardown")

    @dg.op(required_resource_keys={"tracked"})
    def boom(context):
        assert context.resources.tracked == "value"
        raise ValueError("op failed")

    @dg.job(resource_defs={"tracked": tracked})
    def failing_job():
        boom()

    result = failing_job.execute_in_process(raise_on_error=False)
    assert not result.success
    assert log == ["setup", "teardown"]


def test_configurable_resource_teardown_runs_when_an_op_fails():
    log = []

    class Tracked(dg.ConfigurableResource):
        name: str

        def setup_for_execution(self, context):
            log.append(f"setup {self.name}")

        def teardown_after_execution(self, context):
            log.append(f"teardown {self.name}")

    @dg.op
    def boom(tracked: Tracked):
        raise ValueError(tracked.name)

    @dg.job(resource_defs={"tracked": Tracked(name="t")})
    def failing_job():
        boom()

    result = failing_job.execute_in_process(raise_on_error=False)
    assert not result.success
    assert log == ["setup t", "teardown t"]


def test_resource_init_failure_fails_the_run_with_resource_function_error():
    @dg.resource
    def broken(_):
        raise ConnectionError("no db")

    @dg.op(required_resource_keys={"broken"})
    def uses(context):
        return 1

    @dg.job(resource_defs={"broken": broken})
    def broken_job():
        uses()

    with pytest.raises(dg.DagsterResourceFunctionError):
        broken_job.execute_in_process()
    assert not broken_job.execute_in_process(raise_on_error=False).success


def test_function_resource_depending_on_another_in_a_job():
    @dg.resource(config_schema={"url": str})
    def connection(context):
        return {"url": context.resource_config["url"]}

    @dg.resource(required_resource_keys={"connection"})
    def client(context):
        return f"client({context.resources.connection['url']})"

    @dg.op(required_resource_keys={"client"})
    def call(context):
        return context.resources.client

    @dg.job(resource_defs={"connection": connection, "client": client})
    def calling_job():
        call()

    result = calling_job.execute_in_process(run_config={"resources": {"connection": {"config": {"url": "db://x"}}}})
    assert result.success
    assert result.output_for_node("call") == "client(db://x)"


def test_configurable_resource_with_nested_partial_resource_in_a_job():
    class Credentials(dg.ConfigurableResource):
        user: str

    class Client(dg.ConfigurableResource):
        credentials: Credentials

        def who(self) -> str:
            return self.credentials.user

    credentials = Credentials.configure_at_launch()

    @dg.op
    def ask(client: Client) -> str:
        return client.who()

    @dg.job(resource_defs={"credentials": credentials, "client": Client(credentials=credentials)})
    def asking_job():
        ask()

    result = asking_job.execute_in_process(run_config={"resources": {"credentials": {"config": {"user": "ann"}}}})
    assert result.success
    assert result.output_for_node("ask") == "ann"


def test_configure_at_launch_resource_takes_run_config():
    class Api(dg.ConfigurableResource):
        base_url: str
        retries: int = 2

    @dg.asset
    def fetched(api: Api) -> str:
        return f"{api.base_url}:{api.retries}"

    result = dg.materialize(
        [fetched],
        resources={"api": Api.configure_at_launch()},
        run_config={"resources": {"api": {"config": {"base_url": "https://x"}}}},
    )
    assert result.success
    assert result.output_for_node("fetched") == "https://x:2"


def test_env_var_in_resource_config_is_resolved_in_the_run(monkeypatch):
    class Secret(dg.ConfigurableResource):
        token: str

    monkeypatch.setenv("ORCH_E2E_TOKEN", "tok-123")

    @dg.asset
    def secret_value(secret: Secret) -> str:
        return secret.token

    result = dg.materialize([secret_value], resources={"secret": Secret(token=dg.EnvVar("ORCH_E2E_TOKEN"))})
    assert result.success
    assert result.output_for_node("secret_value") == "tok-123"


def test_env_var_in_function_resource_string_source(monkeypatch):
    monkeypatch.setenv("ORCH_E2E_NAME", "from-env")

    @dg.resource(config_schema={"name": dg.StringSource})
    def named(context):
        return context.resource_config["name"]

    @dg.op(required_resource_keys={"named"})
    def read(context):
        return context.resources.named

    @dg.job(resource_defs={"named": named})
    def env_job():
        read()

    result = env_job.execute_in_process(run_config={"resources": {"named": {"config": {"name": {"env": "ORCH_E2E_NAME"}}}}})
    assert result.output_for_node("read") == "from-env"


def test_resource_param_injects_plain_resource_by_parameter_name():
    @dg.asset
    def greeting(prefix: dg.ResourceParam[str]) -> str:
        return prefix + "world"

    result = dg.materialize([greeting], resources={"prefix": "hello "})
    assert result.output_for_node("greeting") == "hello world"


def test_fs_io_manager_persists_op_outputs_per_run(tmp_path):
    @dg.op
    def produce() -> int:
        return 41

    @dg.op
    def consume(x: int) -> int:
        return x + 1

    @dg.job(resource_defs={"io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path))})
    def pipeline():
        consume(produce())

    first = pipeline.execute_in_process()
    second = pipeline.execute_in_process()
    assert first.output_for_node("consume") == 42
    for result in (first, second):
        assert (tmp_path / result.run_id / "produce" / "result").is_file()
        assert (tmp_path / result.run_id / "consume" / "result").is_file()


def test_fs_io_manager_persists_assets_across_runs(tmp_path):
    @dg.asset
    def upstream() -> list:
        return [1, 2, 3]

    @dg.asset
    def downstream(upstream: list) -> int:
        return sum(upstream)

    io_manager = dg.FilesystemIOManager(base_dir=str(tmp_path))
    assert dg.materialize([upstream], resources={"io_manager": io_manager}).success
    assert (tmp_path / "upstream").is_file()
    # A later run loads `upstream` from disk without recomputing it.
    result = dg.materialize([upstream, downstream], selection=[downstream], resources={"io_manager": io_manager})
    assert result.success
    assert result.output_for_node("downstream") == 6


def test_custom_io_manager_sees_asset_keys_and_identifiers():
    seen = {}

    class Recorder(dg.ConfigurableIOManager):
        def handle_output(self, context, obj):
            seen[tuple(context.asset_key.path)] = obj

        def load_input(self, context):
            return seen[tuple(context.asset_key.path)]

    @dg.asset(key_prefix=["warehouse"])
    def table() -> int:
        return 7

    @dg.asset
    def report(table: int) -> int:
        return table * 2

    result = dg.materialize([table, report], resources={"io_manager": Recorder()})
    assert result.success
    assert seen == {("warehouse", "table"): 7, ("report",): 14}


def test_unknown_resource_key_on_context_raises_in_op():
    @dg.op
    def reads(context):
        return context.resources.not_there

    @dg.job
    def lonely():
        reads()

    result = lonely.execute_in_process(raise_on_error=False)
    assert not result.success


def test_configure_at_launch_resource_in_a_job_with_run_config():
    class Api(dg.ConfigurableResource):
        base_url: str
        retries: int = 2

    @dg.op
    def fetch(api: Api) -> str:
        return f"{api.base_url}:{api.retries}"

    @dg.job(resource_defs={"api": Api.configure_at_launch()})
    def fetching():
        fetch()

    result = fetching.execute_in_process(run_config={"resources": {"api": {"config": {"base_url": "u", "retries": 5}}}})
    assert result.output_for_node("fetch") == "u:5"
    with pytest.raises(dg.DagsterInvalidConfigError):
        fetching.execute_in_process()


def test_env_var_configurable_resource_in_a_job(monkeypatch):
    class Secret(dg.ConfigurableResource):
        token: str

    monkeypatch.setenv("ORCH_E2E_JOB_TOKEN", "job-tok")

    @dg.op
    def reveal(secret: Secret) -> str:
        return secret.token

    @dg.job(resource_defs={"secret": Secret(token=dg.EnvVar("ORCH_E2E_JOB_TOKEN"))})
    def revealing():
        reveal()

    assert revealing.execute_in_process().output_for_node("reveal") == "job-tok"


def test_resource_param_in_an_op_receives_the_resource_of_its_name():
    @dg.op
    def greet(prefix: dg.ResourceParam[str]) -> str:
        return prefix + "there"

    @dg.job(resource_defs={"prefix": "hi "})
    def greeting():
        greet()

    assert greeting.execute_in_process().output_for_node("greet") == "hi there"


def test_io_manager_resource_config_and_required_resources_in_a_job():
    stored = {}

    class Store(dg.IOManager):
        def __init__(self, prefix):
            self.prefix = prefix

        def handle_output(self, context, obj):
            stored[context.name] = f"{self.prefix}{obj}"

        def load_input(self, context):
            return stored[context.upstream_output.name]

    @dg.resource
    def prefix_source(_):
        return "p:"

    @dg.io_manager(required_resource_keys={"prefix_source"})
    def store(init_context):
        return Store(init_context.resources.prefix_source)

    @dg.op
    def produce() -> int:
        return 1

    @dg.op
    def consume(value) -> str:
        return value

    @dg.job(resource_defs={"io_manager": store, "prefix_source": prefix_source})
    def storing():
        consume(produce())

    result = storing.execute_in_process()
    assert result.success
    assert result.output_for_node("consume") == "p:1"
