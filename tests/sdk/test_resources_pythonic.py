"""`ConfigurableResource`, `ConfigurableResourceFactory`, `configure_at_launch`, nested resources and EnvVar."""

import contextlib

import pytest
from pydantic import PrivateAttr

import orchestra as dg


class Counter(dg.ConfigurableResource):
    """Counts calls."""

    start: int = 0
    label: str = "c"

    def bump(self) -> int:
        return self.start + 1


def test_configurable_resource_instance_is_usable_directly_and_frozen():
    counter = Counter(start=4)
    assert counter.bump() == 5
    assert counter.label == "c"
    with pytest.raises(dg.DagsterInvalidInvocationError, match="does not support item assignment"):
        counter.start = 9


def test_get_resource_definition_is_cached_and_has_class_docstring():
    counter = Counter(start=1)
    definition = counter.get_resource_definition()
    assert isinstance(definition, dg.ResourceDefinition)
    assert definition is counter.get_resource_definition()
    assert definition.description == "Counts calls."


def test_build_resources_gives_configured_copy_of_the_resource():
    with dg.build_resources({"counter": Counter(start=2)}) as resources:
        assert isinstance(resources.counter, Counter)
        assert resources.counter.start == 2
        assert resources.counter.bump() == 3


def test_run_config_for_a_configured_instance_replaces_its_values():
    # As in Dagster: the instance's values are the default of the whole config section, so run
    # config replaces them and fields it leaves out take the class defaults.
    with dg.build_resources(
        {"counter": Counter(start=2)}, resource_config={"counter": {"config": {"label": "x"}}}
    ) as resources:
        assert (resources.counter.start, resources.counter.label) == (0, "x")


def test_configure_at_launch_takes_config_from_run_config():
    class Api(dg.ConfigurableResource):
        url: str
        retries: int = 3

    partial = Api.configure_at_launch()
    with dg.build_resources({"api": partial}, resource_config={"api": {"config": {"url": "http://x"}}}) as r:
        assert (r.api.url, r.api.retries) == ("http://x", 3)
    with pytest.raises(dg.DagsterInvalidConfigError):
        with dg.build_resources({"api": partial}):
            pass


def test_configure_at_launch_keeps_given_values_as_defaults():
    class Api(dg.ConfigurableResource):
        url: str
        retries: int = 3

    with dg.build_resources({"api": Api.configure_at_launch(url="u")}) as r:
        assert r.api.url == "u"


def test_env_var_is_resolved_at_initialisation(monkeypatch):
    class Secret(dg.ConfigurableResource):
        token: str

    monkeypatch.setenv("ORCH_TEST_TOKEN", "s3cret")
    with dg.build_resources({"secret": Secret(token=dg.EnvVar("ORCH_TEST_TOKEN"))}) as r:
        assert r.secret.token == "s3cret"


def test_missing_env_var_is_a_config_error(monkeypatch):
    class Secret(dg.ConfigurableResource):
        token: str

    monkeypatch.delenv("ORCH_TEST_MISSING", raising=False)
    with pytest.raises(dg.DagsterInvalidConfigError):
        with dg.build_resources({"secret": Secret(token=dg.EnvVar("ORCH_TEST_MISSING"))}):
            pass


def test_setup_and_teardown_bracket_use_and_private_attrs_can_be_set():
    log = []

    class Conn(dg.ConfigurableResource):
        dsn: str
        _handle: str = PrivateAttr(default="")

        def setup_for_execution(self, context):
            self._handle = f"open:{self.dsn}"
            log.append("setup")

        def teardown_after_execution(self, context):
            log.append(f"teardown {self._handle}")

    with pytest.raises(RuntimeError):
        with dg.build_resources({"conn": Conn(dsn="db")}) as r:
            assert r.conn._handle == "open:db"
            raise RuntimeError("op failed")
    assert log == ["setup", "teardown open:db"]


def test_yield_for_execution_can_be_overridden():
    log = []

    class Wrapped(dg.ConfigurableResource):
        @contextlib.contextmanager
        def yield_for_execution(self, context):
            log.append("before")
            yield self
            log.append("after")

    with dg.build_resources({"w": Wrapped()}) as r:
        assert isinstance(r.w, Wrapped)
    assert log == ["before", "after"]


def test_nested_fully_configured_resource_is_built_inside_the_outer_one():
    log = []

    class Inner(dg.ConfigurableResource):
        x: int

        def setup_for_execution(self, context):
            log.append(("setup inner", self.x))

        def teardown_after_execution(self, context):
            log.append(("teardown inner", self.x))

    class Outer(dg.ConfigurableResource):
        inner: Inner
        y: str

    with dg.build_resources({"outer": Outer(inner=Inner(x=3), y="q")}) as r:
        assert r.outer.inner.x == 3
        assert r.outer.y == "q"
        assert log == [("setup inner", 3)]
    assert log == [("setup inner", 3), ("teardown inner", 3)]


def test_nested_resource_field_is_not_part_of_the_config_schema():
    class Inner(dg.ConfigurableResource):
        x: int

    class Outer(dg.ConfigurableResource):
        inner: Inner
        y: str

    fields = Outer(inner=Inner(x=1), y="a").get_resource_definition().config_field.config_type.fields
    assert set(fields) == {"y"}


def test_nested_partial_resource_is_shared_with_its_top_level_key():
    class Inner(dg.ConfigurableResource):
        x: int

    class Outer(dg.ConfigurableResource):
        inner: Inner

    inner = Inner.configure_at_launch()
    with dg.build_resources(
        {"inner": inner, "outer": Outer(inner=inner)}, resource_config={"inner": {"config": {"x": 5}}}
    ) as r:
        assert r.outer.inner is r.inner
        assert r.inner.x == 5


def test_nested_partial_resource_missing_at_top_level_is_a_definition_error():
    class Inner(dg.ConfigurableResource):
        x: int

    class Outer(dg.ConfigurableResource):
        inner: Inner

    with pytest.raises(dg.DagsterInvalidDefinitionError, match="top level resource"):
        with dg.build_resources({"outer": Outer(inner=Inner.configure_at_launch())}):
            pass


def test_resource_dependency_holds_a_function_resource():
    @dg.resource
    def credentials(_):
        return "creds"

    class Client(dg.ConfigurableResource):
        credentials: dg.ResourceDependency[str]

    with dg.build_resources({"client": Client(credentials=credentials)}) as r:
        assert r.client.credentials == "creds"


def test_resource_factory_create_resource_is_what_ops_receive():
    class Database:
        def __init__(self, uri):
            self.uri = uri

    from orchestra._core.resources.pythonic import ConfigurableResourceFactory

    class DatabaseResource(ConfigurableResourceFactory[Database]):
        uri: str

        def create_resource(self, context) -> Database:
            return Database(self.uri)

    with dg.build_resources({"db": DatabaseResource(uri="sqlite://")}) as r:
        assert isinstance(r.db, Database)
        assert r.db.uri == "sqlite://"


def test_from_resource_context_builds_from_function_resource_config():
    class Writer(dg.ConfigurableResource):
        prefix: str

    @dg.resource(config_schema=Writer.to_config_schema())
    def writer(context):
        return Writer.from_resource_context(context)

    with dg.build_resources({"w": writer}, resource_config={"w": {"config": {"prefix": ">"}}}) as r:
        assert isinstance(r.w, Writer)
        assert r.w.prefix == ">"


def test_from_resource_context_rejects_resources_with_teardown():
    class WithTeardown(dg.ConfigurableResource):
        def teardown_after_execution(self, context):
            pass

    with pytest.raises(dg.DagsterInvariantViolationError, match="from_resource_context_cm"):
        WithTeardown.from_resource_context(dg.build_init_resource_context())


def test_from_resource_context_cm_runs_teardown():
    log = []

    class WithTeardown(dg.ConfigurableResource):
        def teardown_after_execution(self, context):
            log.append("down")

    with WithTeardown.from_resource_context_cm(dg.build_init_resource_context()) as value:
        assert isinstance(value, WithTeardown)
    assert log == ["down"]


def test_resource_class_parameter_annotation_counts_as_resource_param():
    from orchestra._core.resources.initialization import resource_params

    def compute(counter: Counter, n: int):
        return None

    assert resource_params(compute) == ["counter"]


def test_attach_different_object_to_op_context():
    from orchestra._core.resources.initialization import op_context_resources

    class Raw(dg.ConfigurableResource, dg.IAttachDifferentObjectToOpContext):
        name: str

        def get_object_to_set_on_execution_context(self):
            return f"raw-{self.name}"

    with dg.build_resources({"r": Raw(name="a")}) as r:
        assert isinstance(r.r, Raw)
        assert op_context_resources(r).r == "raw-a"


def test_resource_defined_in_a_function_may_use_local_config_and_resource_classes():
    class Settings(dg.Config):
        level: int = 1

    class Inner(dg.ConfigurableResource):
        settings: Settings

    class Outer(dg.ConfigurableResource):
        inner: Inner
        extra: Settings

    outer = Outer(inner=Inner(settings=Settings(level=2)), extra=Settings())
    with dg.build_resources({"outer": outer}) as r:
        assert r.outer.inner.settings.level == 2
        assert r.outer.extra.level == 1
