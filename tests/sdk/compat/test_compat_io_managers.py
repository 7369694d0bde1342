"""Dagster programs about IO managers and input managers, with Dagster 1.13's values."""

import os

import pytest

import orchestra as dg


def _steps(result):
    out = {}
    for event in result.all_events:
        out.setdefault(event.step_key, []).append(event.event_type_value)
    return out


def test_custom_io_manager_with_config_stores_and_loads_by_step_and_output():
    store = {}
    seen = []

    class MyIO(dg.IOManager):
        def handle_output(self, context, obj):
            store[(context.step_key, context.name)] = obj
            seen.append(("handle", context.step_key, context.name, context.has_asset_key, context.metadata))

        def load_input(self, context):
            seen.append(("load", context.name, context.upstream_output.step_key, context.upstream_output.name))
            return store[(context.upstream_output.step_key, context.upstream_output.name)]

    @dg.io_manager(config_schema={"suffix": dg.Field(str, default_value="!")})
    def my_io(init_context):
        seen.append(("init", init_context.resource_config))
        return MyIO()

    @dg.op(out=dg.Out(metadata={"m": 1}))
    def a():
        return 1

    @dg.op
    def b(x):
        return x + 1

    @dg.job(resource_defs={"io_manager": my_io})
    def j():
        b(a())

    result = j.execute_in_process()
    assert result.output_for_node("b") == 2
    assert seen == [
        ("init", {"suffix": "!"}),
        ("handle", "a", "result", False, {"m": 1}),
        ("load", "x", "a", "result"),
        ("handle", "b", "result", False, {}),
    ]
    assert sorted(store.items()) == [(("a", "result"), 1), (("b", "result"), 2)]


def test_configurable_io_manager_under_a_custom_key():
    store = {}

    class CfgIO(dg.ConfigurableIOManager):
        base: str

        def handle_output(self, context, obj):
            store[self.base + context.name] = obj

        def load_input(self, context):
            return store[self.base + context.upstream_output.name]

    @dg.op(out=dg.Out(io_manager_key="cio"))
    def c():
        return 10

    @dg.op
    def b(x):
        return x + 1

    @dg.job(resource_defs={"cio": CfgIO(base="b/")})
    def j():
        b(c())

    result = j.execute_in_process()
    assert (result.output_for_node("c"), result.output_for_node("b")) == (10, 11)
    assert store["b/result"] == 10


def test_failing_handle_output_fails_the_step_after_its_output_event():
    class BadIO(dg.IOManager):
        def handle_output(self, context, obj):
            raise RuntimeError("disk full")

        def load_input(self, context):
            return 1

    @dg.op
    def a():
        return 1

    @dg.job(resource_defs={"io_manager": dg.IOManagerDefinition.hardcoded_io_manager(BadIO())})
    def j():
        a()

    result = j.execute_in_process(raise_on_error=False)
    assert _steps(result)["a"] == ["RESOURCE_INIT_STARTED", "RESOURCE_INIT_SUCCESS", "STEP_START", "STEP_OUTPUT", "STEP_FAILURE"]
    with pytest.raises(RuntimeError, match="disk full"):
        j.execute_in_process()


@dg.op
def make_dict() -> dict:
    return {"k": 1}


@dg.op
def read_dict(d: dict) -> int:
    return d["k"] + 1


def test_fs_io_manager_writes_one_file_per_step_output_under_the_run_id(tmp_path):
    @dg.job(resource_defs={"io_manager": dg.fs_io_manager.configured({"base_dir": str(tmp_path)})})
    def j():
        read_dict(make_dict())

    result = j.execute_in_process()
    assert result.output_for_node("read_dict") == 2
    assert sorted(os.listdir(tmp_path / result.run_id)) == ["make_dict", "read_dict"]
    assert os.listdir(tmp_path / result.run_id / "make_dict") == ["result"]

    @dg.job(resource_defs={"io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path))})
    def j2():
        read_dict(make_dict())

    result = j2.execute_in_process()
    assert result.success and (tmp_path / result.run_id / "read_dict" / "result").exists()


def test_io_manager_event_messages_for_mem_and_default_io_managers():
    @dg.job(resource_defs={"io_manager": dg.mem_io_manager})
    def j():
        read_dict(make_dict())

    result = j.execute_in_process()
    assert [e.message for e in result.all_events if e.event_type_value in ("HANDLED_OUTPUT", "LOADED_INPUT")] == [
        'Handled output "result" using IO manager "io_manager"',
        'Loaded input "d" using input manager "io_manager", from output "result" of step "make_dict"',
        'Handled output "result" using IO manager "io_manager"',
    ]


def test_configurable_io_manager_factory_and_input_manager():
    class Adapter(dg.ConfigurableIOManagerFactory):
        prefix: str

        def create_io_manager(self, context):
            store = {}

            class M(dg.IOManager):
                def handle_output(self, ctx, obj):
                    store[ctx.name] = obj

                def load_input(self, ctx):
                    return store[ctx.upstream_output.name]

            return M()

    @dg.job(resource_defs={"io_manager": Adapter(prefix="p")})
    def j():
        read_dict(make_dict())

    assert j.execute_in_process().output_for_node("read_dict") == 2

    class InMgr(dg.InputManager):
        def load_input(self, context):
            return {"k": 100}

    @dg.input_manager
    def in_mgr():
        return InMgr()

    @dg.op(ins={"d": dg.In(input_manager_key="im")})
    def c(d):
        return d["k"]

    @dg.job(resource_defs={"im": in_mgr})
    def j2():
        c()

    result = j2.execute_in_process()
    assert _steps(result)["c"] == [
        "RESOURCE_INIT_STARTED", "RESOURCE_INIT_SUCCESS", "STEP_START", "LOADED_INPUT", "STEP_INPUT", "STEP_OUTPUT",
        "HANDLED_OUTPUT", "STEP_SUCCESS",
    ]
    assert result.output_for_node("c") == 100


def test_io_contexts_expose_types_metadata_and_upstream_output():
    seen = []

    class Inspecting(dg.IOManager):
        def __init__(self):
            self.store = {}

        def handle_output(self, context: dg.OutputContext, obj):
            seen.append(("out", context.name, context.step_key, context.op_def.name, context.dagster_type.display_name,
                         dict(context.definition_metadata or {}), context.has_partition_key, context.mapping_key))
            context.add_output_metadata({"stored": True})
            self.store[tuple(context.get_identifier())] = obj

        def load_input(self, context: dg.InputContext):
            up = context.upstream_output
            seen.append(("in", context.name, context.dagster_type.display_name, dict(context.definition_metadata or {}),
                         up.name, up.step_key, dict(up.definition_metadata or {}), context.op_def.name))
            return self.store[tuple(up.get_identifier())]

    @dg.op(out=dg.Out(int, metadata={"owner": "me"}))
    def produce() -> int:
        return 5

    @dg.op(ins={"v": dg.In(int, metadata={"in_meta": 1})})
    def consume(v):
        return v + 1

    @dg.job(resource_defs={"io_manager": Inspecting()})
    def j():
        consume(produce())

    result = j.execute_in_process()
    assert result.output_for_node("consume") == 6
    assert seen == [
        ("out", "result", "produce", "produce", "Int", {"owner": "me"}, False, None),
        ("in", "v", "Int", {"in_meta": 1}, "result", "produce", {"owner": "me"}, "consume"),
        ("out", "result", "consume", "consume", "Any", {}, False, None),
    ]
    handled = next(e for e in result.all_events if e.event_type_value == "HANDLED_OUTPUT")
    assert sorted(handled.event_specific_data.metadata) == ["stored"]
    loaded = next(e for e in result.all_events if e.event_type_value == "LOADED_INPUT")
    assert (loaded.event_specific_data.input_name, loaded.event_specific_data.manager_key) == ("v", "io_manager")


def test_failing_load_input_is_a_load_input_error_and_raises_the_user_error():
    class BadLoad(dg.IOManager):
        def handle_output(self, context, obj):
            pass

        def load_input(self, context):
            raise KeyError("gone")

    @dg.op
    def produce() -> int:
        return 5

    @dg.op
    def consume(v):
        return v

    @dg.job(resource_defs={"io_manager": BadLoad()})
    def j():
        consume(produce())

    result = j.execute_in_process(raise_on_error=False)
    assert _steps(result)["consume"] == ["STEP_START", "STEP_FAILURE"]
    error = result.get_step_failure_events()[0].event_specific_data.error
    assert error.cls_name == "DagsterExecutionLoadInputError"
    assert error.message.splitlines()[0].split(": ", 1)[-1] == 'Error occurred while loading input "v" of step "consume":'
    with pytest.raises(KeyError, match="gone"):
        j.execute_in_process()
    output_context = dg.build_output_context(name="result", step_key="s")
    assert dg.build_input_context(upstream_output=output_context).upstream_output.name == "result"
