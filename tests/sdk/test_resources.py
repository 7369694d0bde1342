"""Function resources, `ResourceDefinition`, init contexts, `build_resources` and initialisation order."""

from __future__ import annotations

import contextlib
from unittest import mock

import pytest

import orchestra as dg
from orchestra._core.resources.initialization import (
    coerce_to_resource_definitions,
    initialize_resources,
    resource_init_order,
    resource_params,
)


def test_resource_decorator_bare_and_with_args_builds_definitions():
    @dg.resource
    def bare(_):
        """Docstring becomes the description."""
        return 1

    @dg.resource(config_schema={"x": int}, description="d", required_resource_keys={"other"}, version="1")
    def configured_one(context):
        return context.resource_config["x"]

    assert isinstance(bare, dg.ResourceDefinition)
    assert bare.description == "Docstring becomes the description."
    assert bare.__name__ == "bare"
    assert configured_one.description == "d"
    assert configured_one.required_resource_keys == {"other"}
    assert configured_one.version == "1"


def test_resource_function_with_required_extra_param_is_rejected():
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="expects only a single positional required"):

        @dg.resource
        def bad(context, extra):
            return 1


def test_build_resources_gives_attribute_access_and_unknown_key_error():
    @dg.resource
    def the_resource():
        return "foo"

    with dg.build_resources({"from_def": the_resource, "from_val": "bar"}) as resources:
        assert resources.from_def == "foo"
        assert resources.from_val == "bar"
        assert resources._asdict() == {"from_def": "foo", "from_val": "bar"}
        with pytest.raises(dg.DagsterUnknownResourceError, match="Unknown resource `missing`"):
            _ = resources.missing
        assert not hasattr(resources, "missing")


def test_resource_config_is_validated_and_defaults_filled():
    @dg.resource(config_schema={"x": int, "y": dg.Field(str, default_value="dflt", is_required=False)})
    def res(context):
        return context.resource_config

    with dg.build_resources({"r": res}, resource_config={"r": {"config": {"x": 3}}}) as resources:
        assert resources.r == {"x": 3, "y": "dflt"}


def test_missing_required_resource_config_raises_invalid_config_error():
    @dg.resource(config_schema={"x": int})
    def res(context):
        return 1

    with pytest.raises(dg.DagsterInvalidConfigError, match='Missing required config entry "r"'):
        with dg.build_resources({"r": res}):
            pass
    with pytest.raises(dg.DagsterInvalidConfigError, match="root:r:config:x"):
        with dg.build_resources({"r": res}, resource_config={"r": {"config": {"x": "no"}}}):
            pass


def test_generator_resource_teardown_runs_after_block_even_when_body_raises():
    log = []

    @dg.resource
    def gen(_):
        log.append("setup")
        try:
            yield "value"
        finally:
            log.append("teardown")

    with pytest.raises(RuntimeError):
        with dg.build_resources({"gen": gen}) as resources:
            assert resources.gen == "value"
            raise RuntimeError("op failed")
    assert log == ["setup", "teardown"]


def test_code_after_yield_runs_even_without_try_finally_when_body_raises():
    log = []

    @dg.resource
    def gen(_):
        yield 1
        log.append("teardown")

    with pytest.raises(ValueError):
        with dg.build_resources({"gen": gen}):
            raise ValueError("boom")
    assert log == ["teardown"]


def test_contextmanager_resource_is_entered_and_exited():
    log = []

    @dg.resource
    @contextlib.contextmanager
    def cm_resource(_):
        log.append("enter")
        yield "cm"
        log.append("exit")

    with dg.build_resources({"cm": cm_resource}) as resources:
        assert resources.cm == "cm"
        assert log == ["enter"]
    assert log == ["enter", "exit"]


def test_resources_initialise_in_dependency_order_and_tear_down_in_reverse():
    log = []

    def make(name, deps=()):
        @dg.resource(required_resource_keys=set(deps))
        def _res(context):
            for dep in deps:
                assert getattr(context.resources, dep) == dep
            log.append(f"up {name}")
            yield name
            log.append(f"down {name}")

        return _res

    defs = {"c": make("c", ["b"]), "b": make("b", ["a"]), "a": make("a")}
    with dg.build_resources(defs) as resources:
        assert (resources.a, resources.b, resources.c) == ("a", "b", "c")
    assert log == ["up a", "up b", "up c", "down c", "down b", "down a"]


def test_resource_context_only_exposes_required_resources():
    @dg.resource
    def a(_):
        return 1

    @dg.resource(required_resource_keys={"a"})
    def b(context):
        with pytest.raises(dg.DagsterUnknownResourceError):
            _ = context.resources.c
        return context.resources.a + 1

    @dg.resource
    def c(_):
        return 3

    with dg.build_resources({"a": a, "b": b, "c": c}) as resources:
        assert resources.b == 2


def test_cycle_between_resources_is_a_definition_error_naming_the_key():
    @dg.resource(required_resource_keys={"b"})
    def a(_):
        return "a"

    @dg.resource(required_resource_keys={"a"})
    def b(_):
        return "b"

    with pytest.raises(dg.DagsterInvalidDefinitionError, match="transitively depends on itself"):
        resource_init_order({"a": a, "b": b})
    # Dagster raises DagsterInvariantViolationError here; both catch it.
    with pytest.raises(dg.DagsterInvariantViolationError):
        with dg.build_resources({"a": a, "b": b}):
            pass


def test_missing_required_resource_key_names_both_keys():
    @dg.resource(required_resource_keys={"b"})
    def a(_):
        return "a"

    with pytest.raises(
        dg.DagsterInvalidDefinitionError,
        match="Resource with key 'b' required by resource with key 'a', but not provided.",
    ):
        resource_init_order({"a": a})


def test_init_error_is_wrapped_in_resource_function_error_naming_the_resource():
    @dg.resource
    def bad(_):
        raise ValueError("boom")

    with pytest.raises(dg.DagsterResourceFunctionError) as exc_info:
        with dg.build_resources({"bad": bad}):
            pass
    assert str(exc_info.value) == "Error executing resource_fn on ResourceDefinition bad"
    assert isinstance(exc_info.value.user_exception, ValueError)
    assert isinstance(exc_info.value.__cause__, ValueError)


def test_already_built_resources_are_torn_down_when_a_later_one_fails():
    log = []

    @dg.resource
    def good(_):
        yield "good"
        log.append("good torn down")

    @dg.resource(required_resource_keys={"good"})
    def bad(_):
        raise ValueError("boom")

    with pytest.raises(dg.DagsterResourceFunctionError):
        with dg.build_resources({"good": good, "bad": bad}):
            pass
    assert log == ["good torn down"]


def test_teardown_error_is_reported_and_does_not_stop_other_teardowns():
    log = []
    errors = []

    @dg.resource
    def first(_):
        yield 1
        log.append("first down")

    @dg.resource
    def second(_):
        yield 2
        raise RuntimeError("teardown failed")

    defs = coerce_to_resource_definitions({"first": first, "second": second})
    with initialize_resources(defs, {}, on_teardown_error=lambda key, err: errors.append((key, err))):
        pass
    assert log == ["first down"]
    assert [key for key, _ in errors] == ["second"]
    assert isinstance(errors[0][1], dg.DagsterResourceFunctionError)


def test_initialize_resources_exposes_run_id_instance_and_log():
    seen = {}
    instance = object()

    @dg.resource
    def probe(context):
        seen.update(run_id=context.run_id, instance=context.instance, key=context.resource_key)
        context.log.info("hello")
        return 1

    with initialize_resources({"probe": probe}, {}, run_id="abc", instance=instance) as resources:
        assert resources.probe == 1
    assert seen == {"run_id": "abc", "instance": instance, "key": "probe"}


def test_initialize_resources_with_keys_builds_only_needed_resources():
    built = []

    def make(name, deps=()):
        @dg.resource(required_resource_keys=set(deps))
        def _res(_):
            built.append(name)
            return name

        return _res

    defs = {"a": make("a"), "b": make("b", ["a"]), "unused": make("unused")}
    with initialize_resources(defs, {}, keys={"b"}) as resources:
        assert resources.b == "b"
    assert built == ["a", "b"]


def test_hardcoded_none_string_mock_resources():
    with dg.build_resources(
        {
            "hard": dg.ResourceDefinition.hardcoded_resource({"k": 1}),
            "none": dg.ResourceDefinition.none_resource(),
            "mock": dg.ResourceDefinition.mock_resource(),
            "string": dg.ResourceDefinition.string_resource(),
        },
        resource_config={"string": {"config": "hello"}},
    ) as resources:
        assert resources.hard == {"k": 1}
        assert resources.none is None
        assert isinstance(resources.mock, mock.MagicMock)
        assert resources.string == "hello"


def test_make_values_resource_returns_its_config():
    values = dg.make_values_resource(my_str=str, my_int=int)
    with dg.build_resources(
        {"globals": values}, resource_config={"globals": {"config": {"my_str": "a", "my_int": 2}}}
    ) as resources:
        assert resources.globals == {"my_str": "a", "my_int": 2}
    with dg.build_resources({"any": dg.make_values_resource()}, resource_config={"any": {"config": {"x": [1]}}}) as r:
        assert r.any == {"x": [1]}


def test_configured_with_constant_and_with_function():
    @dg.resource(config_schema={"x": int})
    def res(context):
        return context.resource_config["x"]

    constant = res.configured({"x": 7})
    with dg.build_resources({"r": constant}) as resources:
        assert resources.r == 7

    @dg.configured(res, config_schema={"y": int})
    def tenfold(config):
        return {"x": config["y"] * 10}

    assert isinstance(tenfold, dg.ResourceDefinition)
    with dg.build_resources({"r": tenfold}, resource_config={"r": {"config": {"y": 4}}}) as resources:
        assert resources.r == 40


def test_configured_value_that_does_not_fit_parent_schema_fails():
    @dg.resource(config_schema={"x": int})
    def res(context):
        return context.resource_config["x"]

    with pytest.raises(dg.DagsterInvalidConfigError):
        with dg.build_resources({"r": res.configured({"x": "not an int"})}):
            pass


def test_direct_invocation_with_init_context():
    @dg.resource(config_schema={"x": int})
    def res(context):
        return context.resource_config["x"] + 1

    assert res(dg.build_init_resource_context(config={"x": 1})) == 2
    with pytest.raises(dg.DagsterInvalidInvocationError, match="no context was provided"):
        res()
    with pytest.raises(dg.DagsterInvalidConfigError):
        res(dg.build_init_resource_context(config={"x": "no"}))

    @dg.resource
    def no_context():
        return "plain"

    assert no_context() == "plain"
    with pytest.raises(dg.DagsterInvalidInvocationError):
        no_context(dg.build_init_resource_context())


def test_direct_invocation_of_generator_resource_returns_context_manager_without_teardown():
    log = []

    @dg.resource
    def gen(_):
        log.append("up")
        yield "v"
        log.append("down")

    with gen(dg.build_init_resource_context()) as value:
        assert value == "v"
    # As in Dagster, invoking a generator resource directly runs only its set-up half.
    assert log == ["up"]


def test_build_init_resource_context_provides_required_resources():
    @dg.resource(required_resource_keys={"dep"})
    def needs_dep(context):
        return context.resources.dep * 2

    assert needs_dep(dg.build_init_resource_context(resources={"dep": 21})) == 42
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="resource with key 'dep' required was not provided"):
        needs_dep(dg.build_init_resource_context())


def test_build_init_resource_context_with_generator_resource_needs_with_block():
    log = []

    @dg.resource
    def gen(_):
        yield "g"
        log.append("down")

    context = dg.build_init_resource_context(resources={"gen": gen})
    with pytest.raises(dg.DagsterInvariantViolationError, match="outside of context manager scope"):
        _ = context.resources
    with dg.build_init_resource_context(resources={"gen": gen}) as ctx:
        assert ctx.resources.gen == "g"
    assert "down" in log


def test_init_context_properties_outside_a_run():
    context = dg.build_init_resource_context(config={"a": 1})
    assert context.resource_config == {"a": 1}
    assert context.run_id is None
    assert context.run is None
    assert context.log is not None
    with pytest.raises(dg.DagsterInvariantViolationError):
        _ = context.resource_def


def test_coerce_to_resource_definitions_accepts_every_kind():
    class Manager(dg.IOManager):
        def handle_output(self, context, obj):
            pass

        def load_input(self, context):
            return None

    @dg.resource
    def fn_resource(_):
        return 1

    defs = coerce_to_resource_definitions({"fn": fn_resource, "io": Manager(), "plain": object()})
    assert defs["fn"] is fn_resource
    assert isinstance(defs["io"], dg.IOManagerDefinition)
    assert isinstance(defs["plain"], dg.ResourceDefinition)


def test_resource_params_finds_resource_annotated_parameters():
    class Client:
        pass

    def compute(context, client: dg.ResourceParam[Client], value: int, other: dg.ResourceParam[str]):
        return None

    assert resource_params(compute) == ["client", "other"]


def test_resource_param_is_annotated_with_dagster_marker():
    import typing

    hint = dg.ResourceParam[str]
    assert typing.get_origin(hint) is typing.Annotated
    assert typing.get_args(hint) == (str, "resource_param")


def test_resource_config_field_for_untyped_resource_accepts_any_config():
    @dg.resource
    def untyped(context):
        return context.resource_config

    field = untyped.config_field
    assert field.is_required is False
    with dg.build_resources({"u": untyped}, resource_config={"u": {"config": {"anything": [1, 2]}}}) as r:
        assert r.u == {"anything": [1, 2]}


def test_function_resources_and_builtin_io_managers_do_not_import_pydantic_or_django():
    import subprocess
    import sys

    code = (
        "import sys, orchestra as dg\n"
        "dg.resource; dg.ResourceDefinition; dg.build_resources; dg.io_manager; dg.fs_io_manager\n"
        "dg.mem_io_manager; dg.InputContext; dg.OutputContext; dg.build_init_resource_context\n"
        "with dg.build_resources({'io': dg.mem_io_manager, 'v': 1}) as r: r.v\n"
        "assert 'pydantic' not in sys.modules, 'pydantic imported'\n"
        "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules), 'django imported'\n"
        "dg.ConfigurableResource\n"
        "assert 'pydantic' in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_initialized_resources_remember_each_config_and_requirements():
    @dg.resource(config_schema={"p": dg.Field(str, default_value="d")}, required_resource_keys={"aux"})
    def manager(context):
        return context.resource_config["p"]

    defs = coerce_to_resource_definitions({"io_manager": manager, "aux": 0, "other": 1})
    with initialize_resources(defs, {}) as resources:
        assert resources.resource_config_for("io_manager") == {"p": "d"}
        assert resources.required_by("io_manager")._asdict() == {"aux": 0}
        with pytest.raises(dg.DagsterUnknownResourceError):
            _ = resources.required_by("io_manager").other
