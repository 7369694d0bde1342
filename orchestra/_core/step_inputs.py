"""Loading a step's inputs: from upstream outputs (through IO managers), fan-ins, dynamic collections,
run config, job inputs and root input managers, then type-checking them (LOADED_INPUT, STEP_INPUT).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from orchestra._core.definitions.inout import NO_VALUE
from orchestra._core.events import DagsterEvent, LoadedInputData, StepInputData, TypeCheckData
from orchestra._core.plan import (
    FROM_ASSET,
    FROM_COLLECT,
    FROM_CONFIG,
    FROM_INPUT_MANAGER,
    FROM_JOB_INPUT,
    FROM_MAPPED,
    FROM_MULTI,
    FROM_NOTHING,
    FROM_STEP,
    ExecutionStep,
)
from orchestra._errors import (
    DagsterError,
    DagsterExecutionLoadInputError,
    DagsterInvariantViolationError,
    DagsterTypeCheckDidNotPass,
)

if TYPE_CHECKING:
    from orchestra._core.step import KnownState


class InputLoading:
    """The input half of `StepWorker` (it supplies `rc`, `resources`, `io_manager` and `_event`)."""

    rc: Any
    resources: Any

    # --- inputs ---------------------------------------------------------------------------

    def _load_input(self, step: ExecutionStep, step_input: Any, inputs: dict[str, Any], known: KnownState, log: Any) -> Iterator[DagsterEvent]:
        source = step_input.source
        kind = source.kind
        if kind == FROM_NOTHING or step_input.dagster_type.is_nothing:
            return
        if kind == FROM_INPUT_MANAGER:
            value = self._load_root(step, step_input, log)
            key = step_input.definition.input_manager_key
            yield self._event(
                "LOADED_INPUT", step, f'Loaded input "{step_input.name}" using input manager "{key}"',
                LoadedInputData(step_input.name, key),
            )
        elif kind == FROM_STEP or kind == FROM_MAPPED:
            value = self._load_from(step, step_input, source.step_key, source.output_name, source.mapping_key, log,
                                    known.sources.get((source.step_key, source.output_name)))
            yield self._loaded_event(step, step_input, source.step_key, source.output_name)
        elif kind == FROM_ASSET:  # an asset not produced in this run: load it through its IO manager
            asset_key = step_input.definition.asset_key
            if self.rc.asset_layer is not None:  # an op inside a graph-backed asset has no key of its own
                asset_key = self.rc.asset_layer.input_asset_key(str(step.node_handle), step_input.name) or asset_key
            value = self._load_from(step, step_input, None, asset_key.path[-1], None, log)
            manager_key = step_input.definition.input_manager_key or "io_manager"
            yield self._event("LOADED_INPUT", step, f'Loaded input "{step_input.name}" using input manager "{manager_key}"',
                              LoadedInputData(step_input.name, manager_key))
        elif kind == FROM_COLLECT:
            value = []
            for upstream_key, mapping_key in self._collect_sources(source, known):
                value.append(self._load_from(step, step_input, upstream_key, source.output_name, mapping_key, log,
                                              known.sources.get((upstream_key, source.output_name))))
                yield self._loaded_event(step, step_input, upstream_key, source.output_name)
        elif kind == FROM_MULTI:
            value = []
            for inner in source.sources:
                if inner.kind == FROM_STEP:
                    if (inner.step_key, inner.output_name) not in known.produced:
                        continue
                    value.append(self._load_from(step, step_input, inner.step_key, inner.output_name, None, log,
                                                  known.sources.get((inner.step_key, inner.output_name))))
                    yield self._loaded_event(step, step_input, inner.step_key, inner.output_name)
                else:
                    value.append(self._value_from_run(step, step_input, inner))
        else:
            value = self._value_from_run(step, step_input, source)
        inputs[step_input.name] = value

    def _check_input(self, step: ExecutionStep, step_input: Any, value: Any) -> Iterator[DagsterEvent]:
        check = step_input.dagster_type.type_check(self.rc.type_check_context, value)
        type_name = step_input.dagster_type.display_name
        if not check.success:
            yield self._event(
                "STEP_INPUT", step, f'Got input "{step_input.name}" of type "{type_name}". Warning! Type check failed.',
                StepInputData(step_input.name, TypeCheckData(False, step_input.name, check.description, check.metadata)),
            )
            raise DagsterTypeCheckDidNotPass(
                description=(
                    f'Type check failed for step input "{step_input.name}" - expected type "{type_name}". '
                    f"Description: {check.description}"
                ),
                metadata=check.metadata, dagster_type=step_input.dagster_type,
            )
        yield self._event(
            "STEP_INPUT", step, f'Got input "{step_input.name}" of type "{type_name}". (Type check passed).',
            StepInputData(step_input.name, TypeCheckData(True, step_input.name, check.description, check.metadata)),
        )

    def _collect_sources(self, source: Any, known: KnownState) -> list[tuple[str, str | None]]:
        key = source.step_key
        if key.endswith("[?]"):
            return [(k, None) for k in known.resolved.get(key, []) if (k, source.output_name) in known.produced]
        return [(key, m) for m in known.mapping_keys.get((key, source.output_name), [])]

    def _value_from_run(self, step: ExecutionStep, step_input: Any, source: Any) -> Any:
        rc = self.rc
        if source.kind == FROM_JOB_INPUT:
            if source.name in rc.input_values:
                return rc.input_values[source.name]
            top = (rc.run_config.get("inputs") or {})
            if source.name in top:
                return _unwrap_input_config(top[source.name])
        elif source.kind == FROM_CONFIG:
            op_section = rc.op_section(step) or {}
            configured = op_section.get("inputs") or {}
            if step_input.name in configured:
                loader = getattr(step_input.dagster_type, "loader", None)
                if loader is not None and hasattr(loader, "construct_from_config_value"):
                    from orchestra._core.types import DagsterTypeLoaderContext

                    context = DagsterTypeLoaderContext(self.resources, None, step.op_def, rc.run_id)
                    return loader.construct_from_config_value(context, configured[step_input.name])
                return _unwrap_input_config(configured[step_input.name])
        if source.default is not NO_VALUE:
            return source.default
        if step_input.definition.has_default_value:
            return step_input.definition.default_value
        raise DagsterInvariantViolationError(f'No value provided for input "{step_input.name}" of step "{step.key}".')

    def _load_from(self, step: ExecutionStep, step_input: Any, upstream_key: str, output_name: str, mapping_key: str | None, log: Any,
                   source_run_id: str | None = None) -> Any:
        """Load an upstream output; `source_run_id` names the earlier run that produced it (re-execution)."""
        rc = self.rc
        upstream_step = rc.plan.step_for_key(upstream_key) if upstream_key is not None else None
        upstream_def = upstream_step.op_def.output_dict[output_name] if upstream_step is not None else None
        manager_key = step_input.definition.input_manager_key or (upstream_def.io_manager_key if upstream_def else "io_manager")
        manager = self.io_manager(manager_key)
        contexts = _io_contexts()
        asset_key = step_input.definition.asset_key
        asset_kwargs: dict[str, Any] = {"asset_key": asset_key} if asset_key is not None else {}
        if rc.asset_layer is not None:  # assets hook: asset key and partitions for both contexts
            asset_kwargs = rc.asset_layer.input_context_kwargs(str(step.node_handle), step_input.name, asset_key, rc)
        # an asset produced outside this run gets Dagster's artificial upstream context: no step, no run
        from_asset = upstream_key is None
        upstream = contexts.OutputContext(
            step_key="none" if from_asset else upstream_key, name=output_name, job_name=rc.job_name,
            run_id="__EPHEMERAL_RUN_ID" if from_asset else (source_run_id or rc.run_id), mapping_key=mapping_key,
            config=rc.output_config(upstream_step, output_name) if upstream_step is not None else None,
            dagster_type=upstream_def.dagster_type if upstream_def else None,
            definition_metadata=upstream_def.metadata if upstream_def else None,
            op_def=upstream_step.op_def if upstream_step else None, log_manager=log, resources=self.resources,
            instance=rc.instance, **asset_kwargs,
        )
        context = contexts.InputContext(
            name=step_input.name, job_name=rc.job_name, op_def=step.op_def, upstream_output=upstream,
            dagster_type=step_input.dagster_type, definition_metadata=step_input.definition.metadata,
            log_manager=log, resources=self.resources, instance=rc.instance, **asset_kwargs,
        )
        try:
            return manager.load_input(context)
        except DagsterError:
            raise
        except Exception as exc:
            raise DagsterExecutionLoadInputError(
                f'Error occurred while loading input "{step_input.name}" of step "{step.key}":',
                user_exception=exc, step_key=step.key, input_name=step_input.name,
            ) from exc

    def _load_root(self, step: ExecutionStep, step_input: Any, log: Any) -> Any:
        rc = self.rc
        manager = self.io_manager(step_input.definition.input_manager_key)
        configured = ((rc.op_section(step) or {}).get("inputs") or {}).get(step_input.name)
        context = _io_contexts().InputContext(
            name=step_input.name, job_name=rc.job_name, op_def=step.op_def, config=configured,
            dagster_type=step_input.dagster_type, definition_metadata=step_input.definition.metadata,
            log_manager=log, resources=self.resources, instance=rc.instance,
        )
        try:
            return manager.load_input(context)
        except DagsterError:
            raise
        except Exception as exc:
            raise DagsterExecutionLoadInputError(
                f'Error occurred while loading input "{step_input.name}" of step "{step.key}":',
                user_exception=exc, step_key=step.key, input_name=step_input.name,
            ) from exc

    def _loaded_event(self, step: ExecutionStep, step_input: Any, upstream_key: str, output_name: str) -> DagsterEvent:
        upstream_step = self.rc.plan.step_for_key(upstream_key)
        manager_key = step_input.definition.input_manager_key or (
            upstream_step.op_def.output_dict[output_name].io_manager_key if upstream_step else "io_manager"
        )
        return self._event(
            "LOADED_INPUT", step,
            f'Loaded input "{step_input.name}" using input manager "{manager_key}", from output "{output_name}" of step "{upstream_key}"',
            LoadedInputData(step_input.name, manager_key, output_name, upstream_key),
        )


def _unwrap_input_config(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1 and "value" in value:
        return value["value"]
    return value


_contexts_module: Any = None


def _io_contexts() -> Any:
    global _contexts_module
    if _contexts_module is None:
        from orchestra._core.io_managers import contexts

        _contexts_module = contexts
    return _contexts_module
