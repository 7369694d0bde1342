"""Dagster programs about op config and Config classes, with the values Dagster 1.13 produced."""

import os
from enum import Enum
from typing import Literal

import pytest
from pydantic import Field

import orchestra as dg


def _steps(result):
    out = {}
    for event in result.all_events:
        out.setdefault(event.step_key, []).append(event.event_type_value)
    return out


def test_config_schema_op_reads_op_config_with_defaults_and_noneable():
    @dg.op(config_schema={"n": int, "name": dg.Field(str, default_value="x"), "opt": dg.Field(dg.Noneable(int), is_required=False)})
    def emit(context):
        context.log.info("hi")
        return (context.op_config["n"], context.op_config["name"], context.op_config.get("opt"))

    @dg.op
    def double(v):
        return v[0] * 2

    @dg.job
    def j():
        double(emit())

    result = j.execute_in_process(run_config={"ops": {"emit": {"config": {"n": 3}}}})
    assert result.success
    assert _steps(result)["emit"] == ["STEP_START", "STEP_OUTPUT", "HANDLED_OUTPUT", "STEP_SUCCESS"]
    assert _steps(result)["double"] == ["STEP_START", "LOADED_INPUT", "STEP_INPUT", "STEP_OUTPUT", "HANDLED_OUTPUT", "STEP_SUCCESS"]
    assert result.output_for_node("emit") == (3, "x", None)
    assert result.output_for_node("double") == 6
    assert j.execute_in_process(run_config={"ops": {"emit": {"config": {"n": 1, "opt": None}}}}).output_for_node("emit") == (1, "x", None)


@pytest.mark.parametrize(
    "run_config",
    [
        {"ops": {"emit": {"config": {"n": "a"}}}},
        {"ops": {"emit": {"config": {}}}},
        None,
        {"ops": {"emit": {"config": {"n": 1, "bogus": 2}}}},
    ],
)
def test_invalid_op_config_raises_config_error_for_the_job(run_config):
    @dg.op(config_schema={"n": int})
    def emit(context):
        return context.op_config["n"]

    @dg.job
    def j():
        emit()

    with pytest.raises(dg.DagsterInvalidConfigError, match="^Error in config for job j"):
        j.execute_in_process(run_config=run_config)


class Color(Enum):
    RED = "red"
    BLUE = "blue"


class Inner(dg.Config):
    a: int = 1
    tags: list[str] = []


class MyConfig(dg.Config):
    name: str
    color: Color = Color.RED
    limit: int | None = None
    inner: Inner = Inner()
    mapping: dict[str, int] = {}


@dg.op
def use_config(config: MyConfig) -> str:
    return f"{config.name}-{config.color.value}-{config.limit}-{config.inner.a}-{config.inner.tags}-{config.mapping}"


@dg.job
def config_job():
    use_config()


def test_config_class_with_nested_config_enum_optional_and_defaults():
    result = config_job.execute_in_process(
        run_config=dg.RunConfig(ops={"use_config": MyConfig(name="n", color=Color.BLUE, inner=Inner(a=5, tags=["t"]))})
    )
    assert result.output_for_node("use_config") == "n-blue-None-5-['t']-{}"
    assert _steps(result)["use_config"] == [
        "RESOURCE_INIT_STARTED", "RESOURCE_INIT_SUCCESS", "STEP_START", "STEP_OUTPUT", "HANDLED_OUTPUT", "STEP_SUCCESS"
    ]
    result = config_job.execute_in_process(
        run_config={"ops": {"use_config": {"config": {"name": "z", "color": "RED", "limit": 4, "mapping": {"k": 2}}}}}
    )
    assert result.output_for_node("use_config") == "z-red-4-1-[]-{'k': 2}"
    assert use_config(MyConfig(name="direct")) == "direct-red-None-1-[]-{}"


@pytest.mark.parametrize(
    "config",
    [{"name": "z", "color": "GREEN"}, {"color": "RED"}, {"name": "z", "inner": {"a": "x"}}],
)
def test_config_class_rejects_bad_enum_missing_field_and_bad_nested_type(config):
    with pytest.raises(dg.DagsterInvalidConfigError, match="^Error in config for job config_job"):
        config_job.execute_in_process(run_config={"ops": {"use_config": {"config": config}}})


def test_run_config_object_converts_config_instances_to_a_dict():
    config = dg.RunConfig(ops={"use_config": MyConfig(name="q")}).to_config_dict()["ops"]["use_config"]["config"]
    assert sorted(config) == ["color", "inner", "mapping", "name"]
    assert config["color"] == "RED"


def test_config_field_types_env_sources_selector_permissive_and_map():
    @dg.op(config_schema={
        "items": [int],
        "mode": dg.Enum("Mode", [dg.EnumValue("FAST"), dg.EnumValue("SLOW")]),
        "sel": dg.Selector({"a": int, "b": str}),
        "perm": dg.Permissive({"req": str}),
        "src": dg.StringSource,
        "isrc": dg.IntSource,
        "maybe": dg.Field(dg.Noneable(str), default_value=None),
        "arr": dg.Array(dg.Shape({"x": int})),
        "m": dg.Map(str, int),
        "anyval": dg.Field(dg.Any, is_required=False),
        "f": dg.Field(float, default_value=1.5, description="a float"),
    })
    def use(context):
        return context.op_config

    @dg.job
    def j():
        use()

    os.environ["COMPAT_CT_SRC"] = "from-env"
    os.environ["COMPAT_CT_INT"] = "42"
    config = {"items": [1, 2], "mode": "FAST", "sel": {"b": "x"}, "perm": {"req": "r", "extra": 1},
              "src": {"env": "COMPAT_CT_SRC"}, "isrc": {"env": "COMPAT_CT_INT"}, "arr": [{"x": 1}], "m": {"k": 2}}
    out = j.execute_in_process(run_config={"ops": {"use": {"config": config}}}).output_for_node("use")
    assert sorted(out.items()) == [
        ("arr", [{"x": 1}]), ("f", 1.5), ("isrc", 42), ("items", [1, 2]), ("m", {"k": 2}), ("maybe", None),
        ("mode", "FAST"), ("perm", {"req": "r", "extra": 1}), ("sel", {"b": "x"}), ("src", "from-env"),
    ]
    assert dg.validate_run_config(j, {"ops": {"use": {"config": config}}})["ops"]["use"]["config"]["f"] == 1.5

    def messages(**changes):
        with pytest.raises(dg.DagsterInvalidConfigError) as info:
            j.execute_in_process(run_config={"ops": {"use": {"config": {**config, **changes}}}})
        assert str(info.value).splitlines()[0] == "Error in config for job j"
        return sorted(str(error.message).splitlines()[0] for error in info.value.errors)

    at = "at path root:ops:use:config"
    assert messages(items=["a"]) == [
        f'Invalid scalar {at}:items[0]. Value "a" of type "<class \'str\'>" is not valid for expected type "Int".'
    ]
    assert messages(mode="MEDIUM") == [f"Value {at}:mode not in enum type Mode got MEDIUM"]
    assert messages(sel={"a": 1, "b": "x"}) == [
        f"You can only specify a single field {at}:sel. You specified ['a', 'b']. The available fields are ['a', 'b']"
    ]
    assert messages(sel={}) == [
        f"Must specify a field {at}:sel if more than one field is defined. Defined fields: ['a', 'b']"
    ]
    assert messages(perm={}) == [
        f'Missing required config entry "req" {at}:perm. You must provide this value in your run config. '
        "Example config for the missing entry: {'req': '...'}"
    ]
    assert messages(isrc={"env": "COMPAT_CT_SRC"}) == [
        f"Post processing {at}:isrc of original value {{'env': 'COMPAT_CT_SRC'}} failed:"
    ]
    assert messages(arr=[{"y": 1}]) == [
        f'Missing required config entry "x" {at}:arr[0]. You must provide this value in your run config. '
        "Example config for the missing entry: {'x': 0}",
        f'Received unexpected config entry "y" {at}:arr[0]. Expected: "{{ x: Int }}".',
    ]
    assert messages(m={"k": "v"}) == [
        f'Invalid scalar {at}:m:\'k\':value. Value "v" of type "<class \'str\'>" is not valid for expected type "Int".'
    ]
    assert messages(f="x") == [
        f'Invalid scalar {at}:f. Value "x" of type "<class \'str\'>" is not valid for expected type "Float".'
    ]
    assert messages(items=1) == [f'Value {at}:items must be list. Expected: "[Int]"']
    with pytest.raises(dg.DagsterInvalidConfigError):
        dg.validate_run_config(j, {"ops": {"use": {"config": {}}}})
    with pytest.raises(dg.DagsterInvalidConfigError, match="^Invalid default_value for Field"):
        dg.Field(int, default_value="x")


class Item(dg.Config):
    sku: str
    qty: int = 1


class Order(dg.Config):
    """An order."""

    customer: str = Field(description="who")
    items: list[Item]
    note: str | None = None
    priority: Literal["low", "high"] = "low"
    discount: float = 0.0


@dg.op
def place(config: Order) -> str:
    return f"{config.customer}:{[(i.sku, i.qty) for i in config.items]}:{config.note}:{config.priority}:{config.discount}"


@dg.job
def order_job():
    place()


def test_config_class_with_list_of_nested_configs_literal_and_pydantic_field():
    result = order_job.execute_in_process(
        run_config={"ops": {"place": {"config": {"customer": "c", "items": [{"sku": "a"}, {"sku": "b", "qty": 3}]}}}}
    )
    assert result.output_for_node("place") == "c:[('a', 1), ('b', 3)]:None:low:0.0"
    result = order_job.execute_in_process(
        run_config=dg.RunConfig({"place": Order(customer="d", items=[Item(sku="z")], priority="high", discount=2)})
    )
    assert result.output_for_node("place") == "d:[('z', 1)]:None:high:2.0"
    order = Order(customer="c", items=[])
    assert (order.priority, order.note, Order.__doc__) == ("low", None, "An order.")


@pytest.mark.parametrize(
    "config",
    [
        {"items": []},
        {"customer": "c", "items": [{"qty": 1}]},
        {"customer": "c", "items": [], "priority": "mid"},
        {"customer": 3, "items": []},
        {"customer": "c", "items": [], "discount": "much"},
        {"customer": "c", "items": [], "extra": 1},
    ],
)
def test_config_class_validation_errors_are_config_errors(config):
    with pytest.raises(dg.DagsterInvalidConfigError, match="^Error in config for job order_job"):
        order_job.execute_in_process(run_config={"ops": {"place": {"config": config}}})


def test_config_class_instances_validate_and_are_frozen():
    import pydantic

    with pytest.raises(pydantic.ValidationError):
        Order(customer="c")
    with pytest.raises(pydantic.ValidationError):
        Item(sku=1)
    with pytest.raises(dg.DagsterInvalidInvocationError):
        Order(customer="c", items=[]).customer = "x"


def test_permissive_config_keeps_undeclared_keys():
    class Perm(dg.PermissiveConfig):
        a: int = 0

    @dg.op
    def perm(config: Perm) -> str:
        return str(sorted(config.model_dump().items()))

    @dg.job
    def j():
        perm()

    result = j.execute_in_process(run_config={"ops": {"perm": {"config": {"a": 1, "zz": "q"}}}})
    assert result.output_for_node("perm") == "[('a', 1), ('zz', 'q')]"


def test_configured_ops_fix_or_map_their_config():
    @dg.op(config_schema={"a": int, "b": int})
    def adder(context) -> int:
        return context.op_config["a"] + context.op_config["b"]

    fixed = adder.configured({"a": 1, "b": 2}, name="fixed_adder")

    @dg.configured(adder, config_schema={"a": int})
    def half(cfg):
        return {"a": cfg["a"], "b": 100}

    @dg.job
    def j():
        fixed()
        half()

    result = j.execute_in_process(run_config={"ops": {"half": {"config": {"a": 5}}}})
    assert (result.output_for_node("fixed_adder"), result.output_for_node("half")) == (3, 105)
    with pytest.raises(dg.DagsterInvalidConfigError, match="^Error in config for job j"):
        j.execute_in_process()
    # config given for an op whose config is fixed is accepted (and ignored)
    assert j.execute_in_process(
        run_config={"ops": {"half": {"config": {"a": 5}}, "fixed_adder": {"config": {"a": 1}}}}
    ).success


def test_config_class_fields_accept_env_sources_and_env_var_reads_the_environment(monkeypatch):
    class Cfg(dg.Config):
        token: str
        n: int = 1
        names: list[str] = ["a"]

    @dg.op
    def use(config: Cfg) -> str:
        return f"{config.token}-{config.n}-{config.names}"

    @dg.job
    def j():
        use()

    monkeypatch.setenv("COMPAT_CFG_TOKEN", "secret")
    monkeypatch.delenv("COMPAT_UNSET_X", raising=False)
    assert j.execute_in_process(run_config={"ops": {"use": {"config": {"token": {"env": "COMPAT_CFG_TOKEN"}}}}}).output_for_node("use") == "secret-1-['a']"
    with pytest.raises(dg.DagsterInvalidConfigError, match="^Error in config for job j"):
        j.execute_in_process(run_config={"ops": {"use": {"config": {"token": {"env": "COMPAT_UNSET_X"}}}}})
    config = Cfg(token="t", n=2)
    assert (config.n, config.names, config.model_dump()) == (2, ["a"], {"token": "t", "n": 2, "names": ["a"]})
    assert (dg.EnvVar("COMPAT_CFG_TOKEN").get_value(), dg.EnvVar("COMPAT_UNSET_X").get_value(default="d")) == ("secret", "d")
    assert dg.EnvVar.int("CFG_N").env_var_name == "CFG_N"

    @dg.op(config_schema={"s": dg.StringSource, "i": dg.Field(dg.IntSource, is_required=False)})
    def sources(context):
        return context.op_config

    @dg.job
    def j2():
        sources()

    monkeypatch.setenv("COMPAT_CFG_I", "7")
    result = j2.execute_in_process(run_config={"ops": {"sources": {"config": {"s": "plain", "i": {"env": "COMPAT_CFG_I"}}}}})
    assert result.output_for_node("sources") == {"s": "plain", "i": 7}
