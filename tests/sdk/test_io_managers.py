"""IO managers: contexts, builders, the built-in managers and their on-disk layout."""

import os
import pickle

import pytest

import orchestra as dg


def test_output_context_built_without_arguments_raises_on_missing_properties():
    context = dg.build_output_context()
    assert context.run_id == "__EPHEMERAL_RUN_ID"
    assert context.definition_metadata == {}
    assert context.mapping_key is None
    assert context.config is None
    assert context.resource_config == {}
    assert context.has_asset_key is False
    assert context.has_partition_key is False
    assert context.has_asset_partitions is False
    with pytest.raises(dg.DagsterInvariantViolationError, match="Attempting to access step_key"):
        _ = context.step_key
    with pytest.raises(dg.DagsterInvariantViolationError):
        context.get_identifier()


def test_output_context_identifiers_for_op_and_asset_outputs():
    op_output = dg.build_output_context(step_key="s", name="n", run_id="r")
    assert op_output.get_identifier() == ["r", "s", "n"]
    dynamic = dg.build_output_context(step_key="s", name="n", run_id="r", mapping_key="m")
    assert dynamic.get_identifier() == ["r", "s", "n", "m"]
    asset_output = dg.build_output_context(step_key="s", name="n", asset_key=["x", "y"])
    assert asset_output.has_asset_key
    assert asset_output.get_asset_identifier() == ["x", "y"]


def test_partition_key_on_asset_output_makes_single_partition_scope():
    context = dg.build_output_context(step_key="s", name="n", asset_key="a", partition_key="p")
    assert context.has_partition_key
    assert context.partition_key == "p"
    assert context.has_asset_partitions
    assert context.asset_partition_key == "p"
    assert context.asset_partition_keys == ["p"]
    assert tuple(context.asset_partition_key_range) == ("p", "p")
    assert context.get_asset_identifier() == ["a", "p"]


def test_input_context_identifier_comes_from_upstream_output():
    upstream = dg.build_output_context(step_key="s", name="n")
    context = dg.build_input_context(upstream_output=upstream, asset_key=["x", "y"])
    assert context.get_identifier() == ["__EPHEMERAL_RUN_ID", "s", "n"]
    assert context.get_asset_identifier() == ["x", "y"]
    assert context.has_asset_partitions is False
    assert context.upstream_output is upstream


def test_input_context_without_upstream_or_asset_raises():
    context = dg.build_input_context()
    assert context.upstream_output is None
    assert context.has_input_name is False
    assert context.definition_metadata == {}
    with pytest.raises(dg.DagsterInvariantViolationError, match="upstream_output not defined"):
        context.get_identifier()
    with pytest.raises(dg.DagsterInvariantViolationError, match="no asset is associated with this input"):
        _ = context.asset_key
    with pytest.raises(Exception, match="partition"):
        _ = context.partition_key


def test_add_output_metadata_rejects_duplicate_keys():
    context = dg.build_output_context()
    context.add_output_metadata({"a": 1})
    with pytest.raises(Exception, match="already have metadata"):
        context.add_output_metadata({"a": 2})
    assert set(context.get_logged_metadata()) == {"a"}
    assert set(context.consume_logged_metadata()) == {"a"}
    assert context.consume_logged_metadata() == {}


def test_contexts_build_resources_and_generator_resources_need_with_block():
    log = []

    @dg.resource
    def gen(_):
        yield "g"
        log.append("down")

    with dg.build_output_context(resources={"gen": gen, "plain": 1}) as context:
        assert context.resources.gen == "g"
        assert context.resources.plain == 1
    assert log == ["down"]
    outside = dg.build_input_context(resources={"gen": gen})
    with pytest.raises(dg.DagsterInvariantViolationError, match="context manager scope"):
        _ = outside.resources


def test_in_memory_io_manager_round_trips_by_identifier():
    manager = dg.InMemoryIOManager()
    output = dg.build_output_context(step_key="s", name="result")
    manager.handle_output(output, [1, 2])
    assert manager.load_input(dg.build_input_context(upstream_output=output)) == [1, 2]
    assert manager.values == {("__EPHEMERAL_RUN_ID", "s", "result"): [1, 2]}


def test_mem_io_manager_definition_builds_fresh_manager():
    with dg.build_resources({"io_manager": dg.mem_io_manager}) as resources:
        assert isinstance(resources.io_manager, dg.InMemoryIOManager)
    assert isinstance(dg.mem_io_manager, dg.IOManagerDefinition)


def test_fs_io_manager_pickles_op_outputs_under_run_step_output(tmp_path):
    with dg.build_resources({"io_manager": dg.fs_io_manager.configured({"base_dir": str(tmp_path)})}) as r:
        output = dg.build_output_context(step_key="produce", name="result", run_id="run1")
        r.io_manager.handle_output(output, {"k": 1})
        path = tmp_path / "run1" / "produce" / "result"
        assert pickle.loads(path.read_bytes()) == {"k": 1}
        assert r.io_manager.load_input(dg.build_input_context(upstream_output=output)) == {"k": 1}


def test_fs_io_manager_stores_assets_at_key_path_and_records_path_metadata(tmp_path):
    manager = dg.FilesystemIOManager(base_dir=str(tmp_path))
    with dg.build_resources({"io_manager": manager}) as r:
        output = dg.build_output_context(step_key="s", name="result", asset_key=["one", "two", "three"])
        r.io_manager.handle_output(output, "v")
        assert (tmp_path / "one" / "two" / "three").is_file()
        metadata = output.get_logged_metadata()
        assert "path" in metadata
        assert str(tmp_path / "one" / "two" / "three") in str(metadata["path"])


def test_fs_io_manager_persists_assets_across_managers(tmp_path):
    with dg.build_resources({"io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path))}) as r:
        r.io_manager.handle_output(dg.build_output_context(asset_key="numbers"), [1, 2, 3])
    with dg.build_resources({"io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path))}) as r:
        assert r.io_manager.load_input(dg.build_input_context(asset_key="numbers")) == [1, 2, 3]


def test_fs_io_manager_no_path_metadata_for_none(tmp_path):
    with dg.build_resources({"io": dg.FilesystemIOManager(base_dir=str(tmp_path))}) as r:
        output = dg.build_output_context(asset_key="nothing")
        r.io.handle_output(output, None)
        assert output.get_logged_metadata() == {}


def test_fs_io_manager_partitioned_asset_is_a_directory_of_partitions(tmp_path):
    with dg.build_resources({"io": dg.FilesystemIOManager(base_dir=str(tmp_path))}) as r:
        for key in ["2024-01-01", "2024-01-02"]:
            r.io.handle_output(dg.build_output_context(asset_key="daily", partition_key=key), key.upper())
        assert sorted(os.listdir(tmp_path / "daily")) == ["2024-01-01", "2024-01-02"]
        single = dg.build_input_context(asset_key="daily", partition_key="2024-01-02")
        assert r.io.load_input(single) == "2024-01-02"


def test_fs_io_manager_default_base_dir_uses_instance_storage_directory(tmp_path):
    class Instance:
        def storage_directory(self):
            return str(tmp_path / "storage")

    with dg.build_resources({"io": dg.FilesystemIOManager()}, instance=Instance()) as r:
        r.io.handle_output(dg.build_output_context(asset_key="a"), 1)
    assert (tmp_path / "storage" / "a").is_file()


def test_build_resources_without_instance_uses_an_ephemeral_instance_storage(monkeypatch, tmp_path):
    # As Dagster's build_resources: an ephemeral instance, so not the home's storage.
    monkeypatch.setenv("ORCHESTRA_HOME", str(tmp_path))
    with dg.build_resources({"io": dg.FilesystemIOManager()}) as r:
        assert r.io.base_dir.endswith("storage")
        assert not r.io.base_dir.startswith(str(tmp_path))


def test_fs_io_manager_without_instance_uses_orchestra_home_storage(tmp_path, monkeypatch):
    from orchestra._core.resources.initialization import coerce_to_resource_definitions, initialize_resources

    monkeypatch.setenv("ORCHESTRA_HOME", str(tmp_path))
    defs = coerce_to_resource_definitions({"io": dg.fs_io_manager})
    with initialize_resources(defs, {}, instance=None) as r:
        r.io.handle_output(dg.build_output_context(asset_key="a"), 1)
    assert (tmp_path / "storage" / "a").is_file()


def test_fs_io_manager_without_instance_or_home_uses_a_temporary_directory(monkeypatch):
    from orchestra._core.resources.initialization import coerce_to_resource_definitions, initialize_resources

    monkeypatch.delenv("ORCHESTRA_HOME", raising=False)
    defs = coerce_to_resource_definitions({"io": dg.FilesystemIOManager()})
    with initialize_resources(defs, {}, instance=None) as r:
        assert os.path.isdir(r.io.base_dir)


def test_unpicklable_output_raises_invariant_violation(tmp_path):
    with dg.build_resources({"io": dg.FilesystemIOManager(base_dir=str(tmp_path))}) as r:
        with pytest.raises(dg.DagsterInvariantViolationError, match="is not picklable"):
            r.io.handle_output(dg.build_output_context(asset_key="bad"), lambda: None)


def test_custom_path_fs_io_manager_uses_output_metadata_path(tmp_path):
    definition = dg.custom_path_fs_io_manager.configured({"base_dir": str(tmp_path)})
    with dg.build_resources({"io": definition}) as r:
        output = dg.build_output_context(step_key="s", name="result", definition_metadata={"path": "sub/out"})
        r.io.handle_output(output, 42)
        assert pickle.loads((tmp_path / "sub" / "out").read_bytes()) == 42
        assert r.io.load_input(dg.build_input_context(upstream_output=output)) == 42


def test_custom_path_fs_io_manager_requires_base_dir():
    with pytest.raises(dg.DagsterInvalidConfigError):
        with dg.build_resources({"io": dg.custom_path_fs_io_manager}):
            pass


def test_io_manager_decorator_with_config():
    class Store(dg.IOManager):
        def __init__(self, prefix):
            self.prefix = prefix
            self.data = {}

        def handle_output(self, context, obj):
            self.data[context.name] = f"{self.prefix}{obj}"

        def load_input(self, context):
            return self.data[context.upstream_output.name]

    @dg.io_manager(config_schema={"prefix": str})
    def store(init_context):
        return Store(init_context.resource_config["prefix"])

    assert isinstance(store, dg.IOManagerDefinition)
    with dg.build_resources({"io": store}, resource_config={"io": {"config": {"prefix": "p-"}}}) as r:
        output = dg.build_output_context(name="x")
        r.io.handle_output(output, 1)
        assert r.io.load_input(dg.build_input_context(upstream_output=output)) == "p-1"


def test_bare_io_manager_decorator():
    @dg.io_manager
    def plain(_):
        return dg.InMemoryIOManager()

    assert isinstance(plain, dg.IOManagerDefinition)
    assert plain.__name__ == "plain"


def test_io_manager_instance_is_wrapped_as_hardcoded_definition():
    manager = dg.InMemoryIOManager()
    with dg.build_resources({"io_manager": manager}) as r:
        assert r.io_manager is manager
    assert isinstance(dg.IOManagerDefinition.hardcoded_io_manager(manager), dg.IOManagerDefinition)


def test_io_manager_subclass_must_implement_both_methods():
    class Half(dg.IOManager):
        def handle_output(self, context, obj):
            pass

    with pytest.raises(TypeError):
        Half()


def test_configurable_io_manager_is_config_and_io_manager(tmp_path):
    class TextIOManager(dg.ConfigurableIOManager):
        root: str

        def handle_output(self, context, obj):
            (tmp_path / self.root).mkdir(exist_ok=True)
            (tmp_path / self.root / context.asset_key.path[-1]).write_text(obj)

        def load_input(self, context):
            return (tmp_path / self.root / context.asset_key.path[-1]).read_text()

    manager = TextIOManager(root="texts")
    assert isinstance(manager, dg.IOManager)
    assert isinstance(manager.get_resource_definition(), dg.IOManagerDefinition)
    with dg.build_resources({"io_manager": manager}) as r:
        r.io_manager.handle_output(dg.build_output_context(asset_key="hello"), "hi")
        assert r.io_manager.load_input(dg.build_input_context(asset_key="hello")) == "hi"


def test_configurable_io_manager_factory_creates_manager():
    class Factory(dg.ConfigurableIOManagerFactory):
        label: str

        def create_io_manager(self, context):
            manager = dg.InMemoryIOManager()
            manager.label = self.label
            return manager

    with dg.build_resources({"io": Factory.configure_at_launch()}, resource_config={"io": {"config": {"label": "L"}}}) as r:
        assert isinstance(r.io, dg.InMemoryIOManager)
        assert r.io.label == "L"


def test_configurable_legacy_io_manager_adapter_wraps_function_io_manager():
    @dg.io_manager(config_schema={"label": str})
    def legacy(init_context):
        manager = dg.InMemoryIOManager()
        manager.label = init_context.resource_config["label"]
        return manager

    class Adapter(dg.ConfigurableLegacyIOManagerAdapter):
        label: str

        @property
        def wrapped_io_manager(self):
            return legacy

    with dg.build_resources({"io": Adapter(label="old")}) as r:
        assert r.io.label == "old"


def test_upath_io_manager_subclass_gets_extension_and_partition_dicts(tmp_path):
    from pathlib import Path

    class TextManager(dg.UPathIOManager):
        extension = ".txt"

        def dump_to_path(self, context, obj, path):
            path.write_text(obj)

        def load_from_path(self, context, path):
            return path.read_text()

    manager = TextManager(base_path=Path(tmp_path))
    manager.handle_output(dg.build_output_context(asset_key=["a", "b"]), "x")
    assert (tmp_path / "a" / "b.txt").read_text() == "x"
    assert manager.load_input(dg.build_input_context(asset_key=["a", "b"])) == "x"
    for key in ["p1", "p2"]:
        manager.handle_output(dg.build_output_context(asset_key="parts", partition_key=key), key)
    assert sorted(os.listdir(tmp_path / "parts")) == ["p1.txt", "p2.txt"]


def test_input_manager_decorator_loads_value():
    @dg.input_manager
    def five(_context):
        return 5

    assert isinstance(five, dg.InputManagerDefinition)
    with dg.build_resources({"loader": five}) as r:
        assert isinstance(r.loader, dg.InputManager)
        assert r.loader.load_input(dg.build_input_context()) == 5


def test_io_manager_definition_configured_keeps_type():
    @dg.io_manager(config_schema={"x": int})
    def manager(_):
        return dg.InMemoryIOManager()

    assert isinstance(manager.configured({"x": 1}), dg.IOManagerDefinition)


class _DailyKeys:
    """A minimal daily partitions definition (duck-typed) for context tests."""

    def get_partition_keys_in_range(self, key_range):
        import datetime

        start = datetime.date.fromisoformat(key_range.start)
        end = datetime.date.fromisoformat(key_range.end)
        return [(start + datetime.timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]

    def time_window_for_partition_key(self, key):
        import datetime
        from collections import namedtuple

        window = namedtuple("TimeWindow", "start end")
        start = datetime.datetime.fromisoformat(key)
        return window(start, start + datetime.timedelta(days=1))


def test_partition_key_range_expands_with_partitions_def_and_spans_a_time_window():
    from collections import namedtuple

    key_range = namedtuple("PartitionKeyRange", "start end")("2024-01-01", "2024-01-03")
    context = dg.build_input_context(asset_key="a", asset_partitions_def=_DailyKeys(), asset_partition_key_range=key_range)
    assert context.asset_partition_keys == ["2024-01-01", "2024-01-02", "2024-01-03"]
    assert tuple(context.asset_partition_key_range) == ("2024-01-01", "2024-01-03")
    window = context.asset_partitions_time_window
    assert (window.start.day, window.end.day) == (1, 4)
    with pytest.raises(dg.DagsterInvariantViolationError, match="number of partitions != 1"):
        _ = context.asset_partition_key


def test_fs_io_manager_loads_several_partitions_as_dict(tmp_path):
    from collections import namedtuple

    with dg.build_resources({"io": dg.FilesystemIOManager(base_dir=str(tmp_path))}) as r:
        for key in ["2024-01-01", "2024-01-02"]:
            r.io.handle_output(dg.build_output_context(asset_key="daily", partition_key=key), key[-2:])
        key_range = namedtuple("PartitionKeyRange", "start end")("2024-01-01", "2024-01-02")
        context = dg.build_input_context(asset_key="daily", asset_partitions_def=_DailyKeys(), asset_partition_key_range=key_range)
        assert r.io.load_input(context) == {"2024-01-01": "01", "2024-01-02": "02"}
