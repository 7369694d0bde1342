"""`InputContext` and `OutputContext`: what IO managers receive (the execution core builds them;
tests use `builders`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from orchestra._core.io_managers.io_context_base import (
    PartitionScope,
    ResourcesHolder,
    coerce_asset_key,
    invalid_metadata_error,
    normalize_metadata,
)
from orchestra._errors import DagsterInvariantViolationError


class OutputContext(ResourcesHolder, PartitionScope):
    """Describes the output an IO manager's `handle_output` is storing.

    Build one for tests with `build_output_context`.

    Example:
        ```python
        class MyIOManager(dg.IOManager):
            def handle_output(self, context: dg.OutputContext, obj):
                path = "/".join(context.get_asset_identifier() if context.has_asset_key else context.get_identifier())
                context.add_output_metadata({"path": path})
        ```
    """

    def __init__(
        self,
        *,
        step_key: str | None = None,
        name: str | None = None,
        job_name: str | None = None,
        run_id: str | None = None,
        definition_metadata: Mapping[str, Any] | None = None,
        mapping_key: str | None = None,
        config: Any = None,
        dagster_type: Any = None,
        log_manager: Any = None,
        version: str | None = None,
        resource_config: Mapping[str, Any] | None = None,
        resources: Any = None,
        op_def: Any = None,
        asset_key: Any = None,
        partition_key: str | None = None,
        asset_partition_keys: Sequence[str] | None = None,
        asset_partition_key_range: Any = None,
        asset_partitions_def: Any = None,
        asset_spec: Any = None,
        output_metadata: Mapping[str, Any] | None = None,
        step_context: Any = None,
        instance: Any = None,
        warn_on_step_context_use: bool = False,
        metadata: Mapping[str, Any] | None = None,
    ):
        self._step_key = step_key
        self._name = name
        self._job_name = job_name
        self._run_id = run_id
        self._definition_metadata = dict(definition_metadata or metadata or {})
        self._mapping_key = mapping_key
        self._config = config
        self._dagster_type = dagster_type
        self._log = log_manager
        self._version = version
        self._resource_config = resource_config
        self._op_def = op_def
        self._asset_key = coerce_asset_key(asset_key)
        self._partition_key = partition_key
        self._asset_partition_keys = list(asset_partition_keys) if asset_partition_keys is not None else None
        self._asset_partition_key_range = asset_partition_key_range
        self._asset_partitions_def = asset_partitions_def
        self._asset_spec = asset_spec
        self._output_metadata = dict(output_metadata or {})
        self._step_context = step_context
        self._instance = instance
        self._warn_on_step_context_use = warn_on_step_context_use
        self._user_metadata: dict[str, Any] = {}
        self._user_events: list[Any] = []
        self._events: list[Any] = []
        self._init_resources(resources, "OutputContext")

    def _missing(self, attr: str) -> DagsterInvariantViolationError:
        return DagsterInvariantViolationError(
            f"Attempting to access {attr}, but it was not provided when constructing the OutputContext"
        )

    @property
    def step_key(self) -> str:
        """The key of the step that produced the output."""
        if self._step_key is None:
            raise self._missing("step_key")
        return self._step_key

    @property
    def name(self) -> str:
        """The output's name (`"result"` for a single output)."""
        if self._name is None:
            raise self._missing("name")
        return self._name

    @property
    def job_name(self) -> str:
        if self._job_name is None:
            raise self._missing("pipeline_name")  # Dagster's wording
        return self._job_name

    @property
    def run_id(self) -> str:
        """The id of the run that produced the output."""
        if self._run_id is None:
            raise self._missing("run_id")
        return self._run_id

    @property
    def metadata(self) -> dict[str, Any]:
        """Deprecated alias of `definition_metadata`."""
        return self._definition_metadata

    @property
    def definition_metadata(self) -> dict[str, Any]:
        """Metadata declared on the output definition (`Out(metadata=...)` or the asset)."""
        return self._definition_metadata

    @property
    def output_metadata(self) -> dict[str, Any]:
        """Metadata attached to the output at run time (e.g. `Output(value, metadata=...)`)."""
        if self._warn_on_step_context_use:
            return {}
        return self._output_metadata

    @property
    def mapping_key(self) -> str | None:
        """The mapping key of a dynamic output; `None` otherwise."""
        return self._mapping_key

    @property
    def config(self) -> Any:
        """The per-output config from run config, if any."""
        return self._config

    @property
    def op_def(self) -> Any:
        """The definition of the op that produced the output."""
        if self._op_def is None:
            raise self._missing("op_def")
        return self._op_def

    @property
    def dagster_type(self) -> Any:
        """The output's type."""
        if self._dagster_type is None:
            raise self._missing("dagster_type")
        return self._dagster_type

    @property
    def log(self) -> Any:
        """The run's log manager."""
        if self._log is None:
            raise self._missing("log")
        return self._log

    @property
    def version(self) -> str | None:
        return self._version

    @property
    def resource_config(self) -> Mapping[str, Any] | None:
        """The config of the IO manager resource itself."""
        return self._resource_config

    @property
    def has_asset_key(self) -> bool:
        """True when the output is an asset."""
        return self._asset_key is not None

    @property
    def asset_key(self) -> Any:
        """The `AssetKey` of the asset being stored."""
        if self._asset_key is None:
            raise self._missing("asset_key")
        return self._asset_key

    @property
    def asset_spec(self) -> Any:
        if self._asset_spec is None:
            raise self._missing("asset_spec")
        return self._asset_spec

    @property
    def step_context(self) -> Any:
        if self._step_context is None:
            raise self._missing("step_context")
        return self._step_context

    @property
    def instance(self) -> Any:
        if self._instance is not None:
            return self._instance
        return getattr(self._step_context, "instance", None)

    def get_identifier(self) -> list[str]:
        """`[run_id, step_key, name]` (plus the mapping key for a dynamic output)."""
        if self._version is not None:
            if self._mapping_key is not None:
                raise DagsterInvariantViolationError(
                    f"Mapping key and version both provided for output '{self.name}' of step "
                    f"'{self.step_key}'. Dynamic mapping is not supported when using versioning."
                )
            return ["versioned_outputs", self._version, self.step_key, self.name]
        identifier = [self.run_id, self.step_key, self.name]
        if self._mapping_key:
            identifier.append(self._mapping_key)
        return identifier

    def get_output_identifier(self) -> list[str]:
        return self.get_identifier()

    def get_run_scoped_output_identifier(self) -> list[str]:
        """Deprecated: `[run_id, step_key, name]` (plus mapping key), ignoring any version."""
        identifier = [self.run_id, self.step_key, self.name]
        return identifier + [self._mapping_key] if self._mapping_key else identifier

    def get_asset_identifier(self) -> list[str]:
        """The asset key's path, plus the partition key for a partitioned asset."""
        asset_key = self.asset_key  # raises when there is none, as in Dagster
        if self.has_asset_partitions:
            return [*asset_key.path, self.asset_partition_key]
        return list(asset_key.path)

    def get_asset_output_identifier(self) -> list[str]:
        return self.get_asset_identifier()

    def add_output_metadata(self, metadata: Mapping[str, Any]) -> None:
        """Attach metadata to the stored output (shown on its materialization / handled-output event)."""
        overlap = set(self._user_metadata) & set(metadata)
        if overlap:
            raise invalid_metadata_error(
                f"Tried to add metadata for key(s) that already have metadata: {overlap}"
            )
        self._user_metadata.update(normalize_metadata(metadata))

    def get_logged_metadata(self) -> dict[str, Any]:
        return dict(self._user_metadata)

    def consume_logged_metadata(self) -> dict[str, Any]:
        """Return and forget the metadata added so far (for the execution core)."""
        result, self._user_metadata = self._user_metadata, {}
        return result

    def log_event(self, event: Any) -> None:
        """Record an `AssetMaterialization` or `AssetObservation` from `handle_output`."""
        kind = type(event).__name__
        if kind not in ("AssetMaterialization", "AssetObservation"):
            raise DagsterInvariantViolationError(f"Unexpected event {event!r}")
        self._user_events.append(event)
        self._events.append(event)

    def get_logged_events(self) -> list[Any]:
        """The events recorded with `log_event`."""
        return list(self._user_events)

    def consume_events(self) -> list[Any]:
        """Return and forget the events recorded since the last call (for the execution core)."""
        result, self._events = self._events, []
        return result


class InputContext(ResourcesHolder, PartitionScope):
    """Describes the input an IO manager's `load_input` is loading.

    Build one for tests with `build_input_context`.

    Example:
        ```python
        class MyIOManager(dg.IOManager):
            def load_input(self, context: dg.InputContext):
                return read("/".join(context.upstream_output.get_identifier()))
        ```
    """

    def __init__(
        self,
        *,
        name: str | None = None,
        job_name: str | None = None,
        op_def: Any = None,
        config: Any = None,
        definition_metadata: Mapping[str, Any] | None = None,
        upstream_output: OutputContext | None = None,
        dagster_type: Any = None,
        log_manager: Any = None,
        resource_config: Mapping[str, Any] | None = None,
        resources: Any = None,
        step_context: Any = None,
        asset_key: Any = None,
        partition_key: str | None = None,
        asset_partition_keys: Sequence[str] | None = None,
        asset_partition_key_range: Any = None,
        asset_partitions_def: Any = None,
        instance: Any = None,
        metadata: Mapping[str, Any] | None = None,
    ):
        self._name = name
        self._job_name = job_name
        self._op_def = op_def
        self._config = config
        self._definition_metadata = dict(definition_metadata or metadata or {})
        self._upstream_output = upstream_output
        self._dagster_type = dagster_type
        self._log = log_manager
        self._resource_config = resource_config
        self._step_context = step_context
        self._asset_key = coerce_asset_key(asset_key)
        self._partition_key = partition_key
        self._asset_partition_keys = list(asset_partition_keys) if asset_partition_keys is not None else None
        self._asset_partition_key_range = asset_partition_key_range
        self._asset_partitions_def = asset_partitions_def
        self._instance = instance
        self._user_metadata: dict[str, Any] = {}
        self._observations: list[Any] = []
        self._events: list[Any] = []
        self._init_resources(resources, "InputContext")

    def _missing(self, attr: str) -> DagsterInvariantViolationError:
        return DagsterInvariantViolationError(
            f"Attempting to access {attr}, but it was not provided when constructing the InputContext"
        )

    @property
    def instance(self) -> Any:
        if self._instance is not None:
            return self._instance
        instance = getattr(self._step_context, "instance", None)
        if instance is None:
            raise self._missing("instance")
        return instance

    @property
    def has_input_name(self) -> bool:
        """False when loading outside a run (e.g. by `load_asset_value`), where inputs have no name."""
        return self._name is not None

    @property
    def name(self) -> str:
        """The name of the input being loaded."""
        if self._name is None:
            raise self._missing("name")
        return self._name

    @property
    def job_name(self) -> str:
        if self._job_name is None:
            raise self._missing("job_name")
        return self._job_name

    @property
    def op_def(self) -> Any:
        """The definition of the op loading the input."""
        if self._op_def is None:
            raise self._missing("op_def")
        return self._op_def

    @property
    def config(self) -> Any:
        """The per-input config from run config, if any."""
        return self._config

    @property
    def metadata(self) -> dict[str, Any]:
        """Deprecated alias of `definition_metadata`."""
        return self._definition_metadata

    @property
    def definition_metadata(self) -> dict[str, Any]:
        """Metadata declared on the input (`In(metadata=...)` / `AssetIn(metadata=...)`)."""
        return self._definition_metadata

    @property
    def upstream_output(self) -> OutputContext | None:
        """The `OutputContext` of the output being loaded, when there is one."""
        return self._upstream_output

    @property
    def dagster_type(self) -> Any:
        """The input's type."""
        if self._dagster_type is None:
            raise self._missing("dagster_type")
        return self._dagster_type

    @property
    def log(self) -> Any:
        """The run's log manager."""
        if self._log is None:
            raise self._missing("log")
        return self._log

    @property
    def resource_config(self) -> Mapping[str, Any] | None:
        """The config of the IO manager resource itself."""
        return self._resource_config

    @property
    def has_asset_key(self) -> bool:
        """True when the input is an asset."""
        return self._asset_key is not None

    @property
    def asset_key(self) -> Any:
        """The `AssetKey` of the asset being loaded."""
        if self._asset_key is None:
            raise DagsterInvariantViolationError(
                "Attempting to access asset_key, but no asset is associated with this input"
            )
        return self._asset_key

    @property
    def step_context(self) -> Any:
        if self._step_context is None:
            raise self._missing("step_context")
        return self._step_context

    def get_identifier(self) -> list[str]:
        """The upstream output's identifier (`[run_id, step_key, output_name]`)."""
        if self._upstream_output is None:
            raise DagsterInvariantViolationError(
                "InputContext.upstream_output not defined. Cannot compute an identifier"
            )
        return self._upstream_output.get_identifier()

    def get_asset_identifier(self) -> list[str]:
        """The asset key's path, plus the partition key for a single partition."""
        asset_key = self.asset_key  # raises when there is none, as in Dagster
        if self.has_asset_partitions:
            return [*asset_key.path, self.asset_partition_key]
        return list(asset_key.path)

    def add_input_metadata(self, metadata: Mapping[str, Any], description: str | None = None) -> None:
        """Attach metadata to the loaded-input event (and an observation when the input is an asset)."""
        self._user_metadata.update(normalize_metadata(metadata))
        if self._asset_key is not None:
            try:
                import orchestra

                observation = orchestra.AssetObservation(
                    asset_key=self._asset_key,
                    description=description,
                    partition=self.asset_partition_key if self.has_asset_partitions else None,
                    metadata=dict(metadata),
                )
            except AttributeError:
                return
            self._observations.append(observation)
            self._events.append(observation)

    def get_observations(self) -> list[Any]:
        """The asset observations recorded with `add_input_metadata`."""
        return list(self._observations)

    def consume_logged_metadata(self) -> dict[str, Any]:
        """Return and forget the metadata added so far (for the execution core)."""
        result, self._user_metadata = self._user_metadata, {}
        return result

    def consume_events(self) -> list[Any]:
        result, self._events = self._events, []
        return result
