"""`UPathIOManager`, the base for IO managers storing each output at a path, and the pickling
`PickledObjectFilesystemIOManager` built on it."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from orchestra._core.io_managers.base import IOManager
from orchestra._core.io_managers.contexts import InputContext, OutputContext
from orchestra._errors import DagsterInvariantViolationError


def _run_coroutine(coroutine: Any) -> Any:
    import asyncio  # only for async `load_from_path`; importing it costs ~20 ms

    return asyncio.run(coroutine)


PICKLE_PROTOCOL = 4  # Dagster pickles with protocol 4; files stay readable by either library.


def path_metadata(path: Any) -> Any:
    try:
        import orchestra

        return orchestra.MetadataValue.path(str(path))
    except AttributeError:
        return str(path)


def _path_class() -> Any:
    try:
        from upath import UPath  # type: ignore[import-not-found]
    except ImportError:
        return Path
    return UPath


def escape_leading_slash(segment: str) -> str:
    """Keep a partition key joinable as a relative path (`"/x"` and `"x"` stay distinct)."""
    return "%2F" + segment[1:] if segment.startswith("/") else segment


def escape_dotdot_segments(value: str) -> str:
    """Escape whole `..` segments so a partition key cannot climb out of the base directory."""
    return "/".join("%2E%2E" if part == ".." else part for part in value.split("/"))


def _relative_parts(path: Any) -> tuple[str, ...]:
    parts = tuple(p for p in path.parts if p != "/")
    if path.is_absolute() and parts:
        parts = ("%2F" + parts[0],) + parts[1:]
    return parts


def _partition_path_segment(partition_key: Any) -> str:
    # A multi-dimensional key is stored one directory per dimension, dimensions in name order.
    by_dimension = getattr(partition_key, "keys_by_dimension", None)
    if by_dimension:
        return "/".join(value for _name, value in sorted(by_dimension.items()))
    return str(partition_key)


class UPathIOManager(IOManager):
    """Base for IO managers that store each output at a path under `base_path`.

    Subclasses implement `dump_to_path` and `load_from_path` (which may be `async`). Ops are
    stored at `<base>/<run_id>/<step_key>/<output>`, assets at `<base>/<asset/key/path>`, and
    partitioned assets at `<base>/<asset/key/path>/<partition>`; loading several partitions gives
    a `{partition_key: value}` dict. `base_path` is a `pathlib.Path`, or a `upath.UPath` when
    universal-pathlib is installed.

    Example:
        ```python
        class JsonIOManager(dg.UPathIOManager):
            extension = ".json"

            def dump_to_path(self, context, obj, path):
                path.write_text(json.dumps(obj))

            def load_from_path(self, context, path):
                return json.loads(path.read_text())
        ```
    """

    extension: str | None = None

    def __init__(self, base_path: Any = None):
        if self.extension and "." not in self.extension:
            raise DagsterInvariantViolationError(f"extension must start with '.', got {self.extension!r}")
        if base_path is None or isinstance(base_path, str):
            base_path = _path_class()(base_path or ".")
        self._base_path = base_path

    # --- to override -------------------------------------------------------------------------------

    def dump_to_path(self, context: OutputContext, obj: Any, path: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement dump_to_path")

    def load_from_path(self, context: InputContext, path: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement load_from_path")

    def get_metadata(self, context: OutputContext, obj: Any) -> dict[str, Any]:
        """Extra metadata for the stored output."""
        return {}

    def make_safe_partition_path(self, base_path: Any, partition: str) -> Any:
        return base_path / escape_leading_slash(partition)

    def get_path_for_partition(self, context: InputContext | OutputContext, path: Any, partition: str) -> Any:
        return self.make_safe_partition_path(path, partition)

    def get_asset_relative_path(self, context: InputContext | OutputContext) -> Any:
        return _path_class()(*context.asset_key.path)

    def get_op_output_relative_path(self, context: InputContext | OutputContext) -> Any:
        return _path_class()(*context.get_identifier())

    def get_loading_input_log_message(self, path: Any) -> str:
        return f"Loading file from: {path} using {type(self).__name__}..."

    def get_writing_output_log_message(self, path: Any) -> str:
        return f"Writing file at: {path} using {type(self).__name__}..."

    def get_loading_input_partition_log_message(self, path: Any, partition_key: str) -> str:
        return f"Loading partition {partition_key} from {path} using {type(self).__name__}..."

    def get_missing_partition_log_message(self, partition_key: str) -> str:
        return (
            f"Couldn't load partition {partition_key} and skipped it because the input metadata includes "
            "allow_missing_partitions=True"
        )

    def path_exists(self, path: Any) -> bool:
        return path.exists()

    def unlink(self, path: Any) -> None:
        path.unlink()

    def make_directory(self, path: Any) -> None:
        path.mkdir(parents=True, exist_ok=True)

    @property
    def fs(self) -> Any:
        """The fsspec filesystem of `base_path`."""
        if hasattr(self._base_path, "fs"):
            return self._base_path.fs
        from fsspec.implementations.local import LocalFileSystem  # type: ignore[import-not-found]

        return LocalFileSystem()

    @property
    def storage_options(self) -> dict[str, Any]:
        return dict(getattr(self._base_path, "storage_options", {}) or {})

    # --- paths -------------------------------------------------------------------------------------

    def _with_extension(self, path: Any) -> Any:
        return path.with_suffix(path.suffix + self.extension) if self.extension else path

    def _get_path_without_extension(self, context: InputContext | OutputContext) -> Any:
        if context.has_asset_key:
            relative = self.get_asset_relative_path(context)
        else:
            relative = self.get_op_output_relative_path(context)
        return self._base_path.joinpath(*_relative_parts(relative))

    def _get_path(self, context: InputContext | OutputContext) -> Any:
        return self._with_extension(self._get_path_without_extension(context))

    def _get_paths_for_partitions(self, context: InputContext | OutputContext) -> dict[str, Any]:
        if not context.has_asset_partitions:
            raise TypeError("Detected a partitioned input or output, but the asset is not partitioned")
        asset_path = self._get_path_without_extension(context)
        return {
            key: self._with_extension(self.get_path_for_partition(context, asset_path, _partition_path_segment(key)))
            for key in context.asset_partition_keys
        }

    def has_output(self, context: OutputContext) -> bool:
        return self.path_exists(self._get_path(context))

    # --- storing -----------------------------------------------------------------------------------

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        if context.has_asset_partitions:
            paths = self._get_paths_for_partitions(context)
            if len(paths) != 1:
                raise DagsterInvariantViolationError(
                    f"The current IO manager {type(self)} does not support persisting an output associated "
                    "with multiple partitions. Launch the backfill with a multi-run backfill policy, or set "
                    "the return type of your asset/op to `None` to opt out of IO managers."
                )
            path = next(iter(paths.values()))
            parent = path.parent
            if parent.exists() and parent.is_file():
                # The asset used to be unpartitioned: its file becomes the partitions' directory.
                context.log.warning(
                    f"Found file at {parent} believed to correspond with previously non-partitioned version "
                    f"of {context.asset_key}. Removing {parent} and replacing with directory for partitioned data files."
                )
                parent.unlink()
        else:
            path = self._get_path(context)
        self.make_directory(path.parent)
        context.log.debug(self.get_writing_output_log_message(path))
        self.dump_to_path(context=context, obj=obj, path=path)
        # A None value usually means the op wrote its data elsewhere; a path would mislead.
        metadata: dict[str, Any] = {"path": path_metadata(path)} if obj is not None else {}
        metadata.update(self.get_metadata(context=context, obj=obj))
        if metadata:
            context.add_output_metadata(metadata)

    # --- loading -----------------------------------------------------------------------------------

    def load_input(self, context: InputContext) -> Any:
        if not context.has_asset_key or not context.has_asset_partitions:
            path = self._get_path(context)
            context.log.debug(self.get_loading_input_log_message(path))
            obj = self.load_from_path(context=context, path=path)
            if inspect.iscoroutine(obj):
                obj = _run_coroutine(obj)
            return obj
        keys = context.asset_partition_keys
        if not keys:
            return None
        return self.load_partitions(context)

    def _allow_missing_partitions(self, context: InputContext) -> bool:
        return bool((context.definition_metadata or {}).get("allow_missing_partitions", False))

    def _load_partition(self, context: InputContext, partition_key: str, path: Any) -> Any:
        context.log.debug(self.get_loading_input_partition_log_message(path, partition_key))
        try:
            obj = self.load_from_path(context=context, path=path)
            if inspect.iscoroutine(obj):
                obj = _run_coroutine(obj)
            return obj
        except FileNotFoundError:
            if self._allow_missing_partitions(context):
                context.log.warning(self.get_missing_partition_log_message(partition_key))
                return None
            raise

    def load_partitions(self, context: InputContext) -> Any:
        """Load one partition as its value, several as `{partition_key: value}`."""
        paths = self._get_paths_for_partitions(context)
        keys = context.asset_partition_keys
        if len(keys) == 1:
            return self._load_partition(context, keys[0], paths[keys[0]])
        values = {}
        for key in keys:
            value = self._load_partition(context, key, paths[key])
            if value is not None:
                values[key] = value
        return values


class PickledObjectFilesystemIOManager(UPathIOManager):
    """Pickles each output to a file under `base_dir` (no file extension, like Dagster)."""

    extension: str | None = ""

    def __init__(self, base_dir: str | None = None, **kwargs: Any):
        self.base_dir = base_dir
        path_cls = _path_class()
        super().__init__(base_path=path_cls(base_dir, **kwargs) if kwargs else path_cls(base_dir or "."))

    def make_safe_partition_path(self, base_path: Any, partition: str) -> Any:
        return base_path / escape_dotdot_segments(escape_leading_slash(partition))

    def dump_to_path(self, context: OutputContext, obj: Any, path: Any) -> None:
        import pickle  # here, not at import: building jobs (a code location loading) stores nothing

        try:
            with path.open("wb") as file:
                pickle.dump(obj, file, PICKLE_PROTOCOL)
        except (AttributeError, RecursionError, ImportError, pickle.PicklingError, TypeError) as exc:
            described = f"{type(obj)} exceeds recursion limit and" if isinstance(exc, RecursionError) else str(obj)
            raise DagsterInvariantViolationError(
                f"Object {described} is not picklable. You are currently using the fs_io_manager. You will "
                "need to use a different io manager to continue using this output. For example, you can use "
                "the mem_io_manager with the in_process_executor."
            ) from exc

    def load_from_path(self, context: InputContext, path: Any) -> Any:
        import pickle

        with path.open("rb") as file:
            return pickle.load(file)
