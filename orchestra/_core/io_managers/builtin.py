"""The built-in IO managers: in-memory, pickling filesystem (`fs_io_manager`, the job default)
and its custom-path variant; path-based storage itself lives in `upath`."""

from __future__ import annotations

import atexit
import os
from collections.abc import Mapping
from typing import Any

from orchestra._core.io_managers.base import IOManager, io_manager
from orchestra._core.io_managers.contexts import InputContext, OutputContext
from orchestra._core.io_managers.upath import PICKLE_PROTOCOL, PickledObjectFilesystemIOManager, path_metadata
from orchestra._core.io_managers.upath import UPathIOManager as UPathIOManager  # re-export
from orchestra._errors import DagsterInvariantViolationError

# --- storage directory ------------------------------------------------------------------------------

_temp_dirs: list[str] = []


def _remove_temp_dirs() -> None:
    if not _temp_dirs:
        return
    import shutil  # here, not at import: a code location that never stores a value never needs it

    for path in _temp_dirs:
        shutil.rmtree(path, ignore_errors=True)


atexit.register(_remove_temp_dirs)


def default_storage_dir(instance: Any) -> str:
    """Where filesystem IO managers write when no `base_dir` is configured.

    The instance's storage directory when there is one; otherwise `$ORCHESTRA_HOME/storage`; and
    without a home a fresh temporary directory (removed at exit), as Dagster's ephemeral instance.
    """
    storage_directory = getattr(instance, "storage_directory", None)
    if callable(storage_directory):
        return str(storage_directory())
    home = os.environ.get("ORCHESTRA_HOME")
    if home:
        return os.path.join(home, "storage")
    import tempfile

    path = tempfile.mkdtemp(prefix="orchestra-storage-")
    _temp_dirs.append(path)
    return path


# --- in memory -------------------------------------------------------------------------------------


class InMemoryIOManager(IOManager):
    """Keeps outputs in a dict keyed by output identifier, for the life of the manager (one run).

    Example:
        ```python
        dg.materialize([a, b], resources={"io_manager": dg.InMemoryIOManager()})
        ```
    """

    def __init__(self) -> None:
        self.values: dict[tuple[Any, ...], Any] = {}

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        self.values[tuple(context.get_identifier())] = obj

    def load_input(self, context: InputContext) -> Any:
        return self.values[tuple(context.get_identifier())]


@io_manager(description="Built-in IO manager that stores and retrieves values in memory.")
def mem_io_manager(_init_context: Any) -> InMemoryIOManager:
    """Built-in IO manager that stores and retrieves values in memory."""
    return InMemoryIOManager()


mem_io_manager._dagster_maintained = True


def _base_dir_from(init_context: Any) -> str:
    config = init_context.resource_config or {}
    return config.get("base_dir") or default_storage_dir(init_context.instance)


def _string_source_field(is_required: bool) -> Any:
    from orchestra._config import Field, StringSource

    return Field(StringSource, is_required=is_required)


class _LazySchema(Mapping[str, Any]):
    """A `{name: Field}` schema built on first use, so defining built-ins needs no config import."""

    def __init__(self, build: Any):
        self._build = build
        self._fields: dict[str, Any] | None = None

    def _get(self) -> dict[str, Any]:
        if self._fields is None:
            self._fields = self._build()
        return self._fields

    def __getitem__(self, key: str) -> Any:
        return self._get()[key]

    def __iter__(self) -> Any:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


@io_manager(
    config_schema=_LazySchema(lambda: {"base_dir": _string_source_field(False)}),
    description="Built-in filesystem IO manager that stores and retrieves values using pickling.",
)
def fs_io_manager(init_context: Any) -> PickledObjectFilesystemIOManager:
    """Built-in filesystem IO manager that pickles outputs under `base_dir`.

    `base_dir` defaults to the instance's storage directory. Op outputs go to
    `<base_dir>/<run_id>/<step_key>/<output>`, assets to `<base_dir>/<asset key path>`.

    Example:
        ```python
        @dg.job(resource_defs={"io_manager": dg.fs_io_manager.configured({"base_dir": "/tmp/out"})})
        def my_job():
            op_b(op_a())
        ```
    """
    return PickledObjectFilesystemIOManager(base_dir=_base_dir_from(init_context))


fs_io_manager._dagster_maintained = True


@io_manager(description="Built-in filesystem IO manager that stores and retrieves values using pickling.")
def default_job_io_manager(init_context: Any) -> IOManager:
    """The IO manager a job uses under `io_manager` when none is given: pickling to the instance's
    storage. `DAGSTER_DEFAULT_IO_MANAGER_MODULE`/`_ATTRIBUTE` name a replacement definition, as in
    Dagster (`DAGSTER_DEFAULT_IO_MANAGER_SILENCE_FAILURES` falls back on errors)."""
    module_name = os.getenv("DAGSTER_DEFAULT_IO_MANAGER_MODULE")
    attribute_name = os.getenv("DAGSTER_DEFAULT_IO_MANAGER_ATTRIBUTE")
    if module_name and attribute_name:
        import importlib
        import warnings

        from orchestra._core.io_managers.base import IOManagerDefinition
        from orchestra._core.resources.initialization import build_resources

        try:
            replacement = getattr(importlib.import_module(module_name), attribute_name)
            if not isinstance(replacement, IOManagerDefinition):
                raise DagsterInvariantViolationError(
                    "DAGSTER_DEFAULT_IO_MANAGER_MODULE and DAGSTER_DEFAULT_IO_MANAGER_ATTRIBUTE must specify "
                    "an IOManagerDefinition"
                )
            with build_resources({"io_manager": replacement}, instance=init_context.instance) as built:
                return built.io_manager
        except Exception as exc:
            if not os.getenv("DAGSTER_DEFAULT_IO_MANAGER_SILENCE_FAILURES"):
                raise
            warnings.warn(
                f"Failed to load io manager override with module: {module_name} attribute: {attribute_name}: "
                f"{exc}\nFalling back to default io manager.",
                stacklevel=2,
            )
    return PickledObjectFilesystemIOManager(base_dir=default_storage_dir(init_context.instance))


default_job_io_manager._dagster_maintained = True


# --- custom path -----------------------------------------------------------------------------------


class CustomPathPickledObjectFilesystemIOManager(IOManager):
    """Pickles each output to `<base_dir>/<Out metadata "path">`."""

    def __init__(self, base_dir: str | None = None):
        self.base_dir = base_dir
        self.write_mode = "wb"
        self.read_mode = "rb"

    def _get_path(self, path: str) -> str:
        return os.path.join(self.base_dir or "", path)

    @staticmethod
    def _metadata_path(metadata: Mapping[str, Any] | None) -> str:
        path = (metadata or {}).get("path")
        if not isinstance(path, str):
            raise DagsterInvariantViolationError(
                f'custom_path_fs_io_manager needs a string "path" in the output metadata, got {path!r}'
            )
        return path

    def handle_output(self, context: OutputContext, obj: Any) -> Any:
        filepath = self._get_path(self._metadata_path(context.definition_metadata))
        os.makedirs(os.path.dirname(filepath) or ".", exist_ok=True)
        context.log.debug(f"Writing file at: {filepath}")
        import pickle  # here, not at import: building jobs (a code location loading) stores nothing

        with open(filepath, self.write_mode) as file:
            pickle.dump(obj, file, PICKLE_PROTOCOL)
        try:
            import orchestra

            return orchestra.AssetMaterialization(
                asset_key=orchestra.AssetKey([context.job_name, context.step_key, context.name]),
                metadata={"path": path_metadata(os.path.abspath(filepath))},
            )
        except (AttributeError, DagsterInvariantViolationError):
            return None

    def load_input(self, context: InputContext) -> Any:
        upstream = context.upstream_output
        filepath = self._get_path(self._metadata_path(upstream.definition_metadata if upstream else None))
        context.log.debug(f"Loading file from: {filepath}")
        import pickle

        with open(filepath, self.read_mode) as file:
            return pickle.load(file)


@io_manager(config_schema=_LazySchema(lambda: {"base_dir": _string_source_field(True)}))
def custom_path_fs_io_manager(init_context: Any) -> CustomPathPickledObjectFilesystemIOManager:
    """Built-in IO manager pickling each output to `<base_dir>/<path>`, `path` taken from the
    output's metadata.

    Example:
        ```python
        @dg.op(out=dg.Out(metadata={"path": "sample/output"}))
        def sample():
            return [1, 2]

        @dg.job(resource_defs={"io_manager": dg.custom_path_fs_io_manager.configured({"base_dir": "/tmp"})})
        def my_job():
            sample()
        ```
    """
    return CustomPathPickledObjectFilesystemIOManager(base_dir=init_context.resource_config.get("base_dir"))


custom_path_fs_io_manager._dagster_maintained = True
