"""A job's run-config schema (`ops`, `resources`, `execution`, `loggers`, `inputs`), built once per job,
and validation of run config against it before anything runs; also `validate_run_config`.
"""

from __future__ import annotations

import operator
import weakref
from typing import Any

from orchestra._core.plan import FROM_CONFIG, config_loadable, node_inputs, plan_for_job

# An op's `{config: ...}` entry depends only on the op when none of its inputs is configured; the jobs
# of a location share their ops (every asset is in `__ASSET_JOB` and its group's job), so the entry is
# built once per op. Weak keys: definitions of reloaded user code are not kept alive.
_OP_FIELDS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
# Ops declared without a config schema (most assets) all have the same entry, `{config?: Any}`: one
# shared, immutable Field rather than three config objects per op (two thirds of building the schemas).
_UNCONFIGURED_OP_FIELD: Any = None
# The `execution:` entry and each resource's entry depend only on the definition they describe, and a
# location's jobs share those (one executor, the same IO manager): built once per definition, as the
# op entries are; so is the default `loggers:` entry (Dagster's console logger).
_DEFINITION_FIELDS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
# The entry of a resource the job does not need (optional, no default), kept per definition likewise.
_UNNEEDED_RESOURCE_FIELDS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
_CONSOLE_LOGGERS_FIELD: Any = None


def _config() -> Any:
    import orchestra._config as config

    return config


def _input_config_type(dagster_type: Any) -> Any:
    from orchestra._builtins import Any as AnyMarker

    config = _config()
    if getattr(dagster_type, "loader", None) is not None and hasattr(dagster_type.loader, "schema_type"):
        return dagster_type.loader.schema_type
    scalars = {"Int": int, "String": str, "Float": float, "Bool": bool}
    key = dagster_type.key or ""
    if key in scalars:
        scalar = scalars[key]
        return config.ScalarUnion(scalar, config.Selector({"value": config.Field(scalar)}))
    if key.startswith("List."):
        inner = scalars.get(key[5:])
        return config.Array(inner) if inner else config.Array(AnyMarker)
    if key.startswith("Optional."):
        inner = scalars.get(key[9:])
        return config.Noneable(inner) if inner else AnyMarker
    if key == "PythonDict":
        return config.Permissive({})
    return AnyMarker


def _node_fields(job: Any, graph_def: Any, prefix: str, unconnected: dict[str, list[Any]],
                 output_configs: dict[str, Any] | None = None) -> dict[str, Any]:
    """`ops:` entries; `output_configs` maps IO manager keys to their per-output config Field (an op whose
    outputs use such a manager gets an `outputs:` entry, Dagster's `output_config_schema`)."""
    from orchestra._core.definitions.graph import GraphDefinition

    config = _config()
    fields: dict[str, Any] = {}
    for node in sorted(graph_def.nodes, key=_node_name):
        path = f"{prefix}.{node.name}" if prefix else node.name
        if isinstance(node.definition, GraphDefinition):
            mapping = node.definition.config_mapping
            if _is_config_mapping(mapping):
                fields[node.name] = config.Field(config.Shape({"config": mapping.config_schema.as_field()}))
                continue
            children = _node_fields(job, node.definition, path, unconnected, output_configs)
            fields[node.name] = config.Field(config.Shape({"ops": config.Field(config.Shape(children))}))
            continue
        inputs = unconnected.get(path)
        outputs = {
            output.name: output_configs[output.io_manager_key]
            for output in node.definition.output_defs if output.io_manager_key in output_configs
        } if output_configs else None
        if not inputs and not outputs:
            fields[node.name] = _op_field(node.definition)
            continue
        op_fields: dict[str, Any] = {"config": node.definition.config_field}
        if inputs:
            op_fields["inputs"] = config.Field(config.Shape({
                step_input.name: config.Field(
                    _input_config_type(step_input.dagster_type),
                    is_required=not step_input.definition.has_default_value,
                )
                for step_input in inputs
            }))
        if outputs:
            op_fields["outputs"] = config.Field(config.Shape(outputs))
        fields[node.name] = config.Field(config.Shape(op_fields))
    return fields


_node_name = operator.attrgetter("name")  # the sort key of a graph's nodes (2,000 ops: no Python call each)


def _op_field(op_def: Any) -> Any:
    """The `{config: ...}` entry of an op none of whose inputs is configured (see `_OP_FIELDS`)."""
    global _UNCONFIGURED_OP_FIELD
    if getattr(op_def, "config_schema", False) is None:
        if _UNCONFIGURED_OP_FIELD is None:
            from orchestra._config.mapping import convert_user_facing_definition_config_schema

            config = _config()
            # the same Field an op without a schema reports as its `config_field`
            unconfigured = convert_user_facing_definition_config_schema(None).as_field()
            _UNCONFIGURED_OP_FIELD = config.Field(config.Shape({"config": unconfigured}))
        return _UNCONFIGURED_OP_FIELD
    op_field = _OP_FIELDS.get(op_def)
    if op_field is None:
        config = _config()
        op_field = _OP_FIELDS[op_def] = config.Field(config.Shape({"config": op_def.config_field}))
    return op_field


def _definition_field(definition: Any, build: Any, cache: Any = None) -> Any:
    """`build()`, kept per definition (by identity; a definition that defines equality is not kept)."""
    cache = _DEFINITION_FIELDS if cache is None else cache
    cls = type(definition)
    if cls.__hash__ is not object.__hash__ or cls.__eq__ is not object.__eq__:
        return build()
    field = cache.get(definition)
    if field is None:
        field = build()
        try:
            cache[definition] = field
        except TypeError:  # not weakly referenceable
            pass
    return field


def _loggers_field(job: Any) -> Any:
    """`loggers:`: each logger optional and without a default, so the entry's own default is `{}` (Dagster's
    `define_logger_dictionary_cls`): a logger runs only when run config names it."""
    global _CONSOLE_LOGGERS_FIELD
    config = _config()
    if getattr(job, "logger_defs", None):
        return config.Field(config.Shape(_logger_fields(job)))
    if _CONSOLE_LOGGERS_FIELD is None:
        _CONSOLE_LOGGERS_FIELD = config.Field(config.Shape(_logger_fields(job)))
    return _CONSOLE_LOGGERS_FIELD


def _logger_fields(job: Any) -> dict[str, Any]:
    """`loggers:` in run config: the job's own logger definitions, else Dagster's console logger."""
    config = _config()
    logger_defs = getattr(job, "logger_defs", None) or {}
    if logger_defs:
        return {key: config.Field(config.Shape({"config": d.config_field}), is_required=False)
                for key, d in sorted(logger_defs.items())}
    return {
        "console": config.Field(config.Shape({
            "config": config.Field(config.Shape({
                "log_level": config.Field(str, default_value="DEBUG"),
                "name": config.Field(str, default_value="dagster"),
            })),
        }), is_required=False),
    }


def _execution_field(executor_def: Any) -> Any:
    """`execution:` with the executor's defaults as its default, as Dagster's; optional even when the
    executor's config has required fields (where Dagster's would be required), so validation is unchanged."""
    config = _config()
    shape = config.Shape({"config": executor_def.config_field})
    field = config.Field(shape)
    return field if not field.is_required else config.Field(shape, is_required=False)


def _resources_field(job: Any, job_def: Any) -> Any:
    """`resources:`; only the resources the job needs carry their defaults (Dagster's
    `define_resource_dictionary_cls`): another one's section is optional, without a default."""
    from orchestra._core.resources.initialization import resource_config_field

    config = _config()
    required = _required_resource_keys(job, job_def)
    fields = {}
    for key, resource_def in sorted(job.resource_defs.items()):
        if key in required:
            fields[key] = _definition_field(resource_def, lambda d=resource_def: resource_config_field(d))
        else:
            fields[key] = _definition_field(
                resource_def, lambda d=resource_def: resource_config_field(d, is_required=False), _UNNEEDED_RESOURCE_FIELDS)
    return config.Field(config.Shape(fields))


def _required_resource_keys(job: Any, job_def: Any) -> frozenset[str]:
    """Which of the job's resources its ops, their IO and input managers and its hooks need, and what those
    need in turn (Dagster's `JobDefinition.required_resource_keys`), read from the definitions (no plan is
    built); the walk over the ops stops once every resource is known to be needed (usually at the first)."""
    cached = job._cache.get("schema_required_resources")
    if cached is not None:
        return cached
    resource_defs = job.resource_defs
    keys = set(job_def.graph.required_resource_keys)
    for hook_def in getattr(job_def, "hook_defs", None) or ():
        keys |= set(getattr(hook_def, "required_resource_keys", None) or ())
    unseen = set(resource_defs) - keys
    if unseen:
        for op_def in job_def.graph.iterate_op_defs():
            for output in op_def.output_defs:
                unseen.discard(output.io_manager_key)
            for input_def in op_def.input_defs:
                if input_def.input_manager_key:
                    unseen.discard(input_def.input_manager_key)
            if not unseen:
                break
        keys |= set(resource_defs) - unseen
    pending = [key for key in keys if key in resource_defs]
    while pending:
        for key in getattr(resource_defs.get(pending.pop()), "required_resource_keys", None) or ():
            if key not in keys:
                keys.add(key)
                pending.append(key)
    cached = job._cache["schema_required_resources"] = frozenset(keys)
    return cached


def run_config_schema_for_job(job: Any, in_process: bool = False, input_values: dict[str, Any] | None = None) -> Any:
    """The Shape run config must fit for `job` (cached per job and per set of provided top-level inputs)."""
    cache_key = f"schema:{in_process}:{','.join(sorted(input_values or ()))}"
    cached = job._cache.get(cache_key)
    if cached is not None:
        return cached
    config = _config()
    from orchestra._builtins import Any as AnyMarker

    job_def = getattr(job, "job_def", job)
    unconnected = _unconnected_for(job_def)
    output_configs = {
        key: field for key, resource_def in job.resource_defs.items()
        if (field := getattr(resource_def, "output_config_field", None)) is not None
    }
    fields: dict[str, Any] = {
        "ops": config.Field(config.Shape(_node_fields(job_def, job_def.graph, "", unconnected, output_configs))),
        "resources": _resources_field(job, job_def),
        "loggers": _loggers_field(job),
    }
    if in_process:
        fields["execution"] = config.Field(AnyMarker, is_required=False)
    else:
        executor_def = job.executor_def
        fields["execution"] = _definition_field(executor_def, lambda: _execution_field(executor_def))
    graph_inputs = [d for d in job_def.graph.input_defs if d.name not in (input_values or {})]
    if graph_inputs:
        fields["inputs"] = config.Field(config.Shape({
            d.name: config.Field(_input_config_type(d.dagster_type), is_required=not d.has_default_value)
            for d in graph_inputs
        }))
    schema = config.Shape(fields)
    job._cache[cache_key] = schema
    return schema


def process_job_run_config(job: Any, run_config: Any, *, input_values: dict[str, Any] | None = None,
                           in_process: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validate and process run config; returns (processed, as given). Raises DagsterInvalidConfigError."""
    from orchestra._config.run_config import convert_config_input
    from orchestra._config.validate import process_run_config

    given = convert_config_input(run_config) if run_config is not None else {}
    job_def = getattr(job, "job_def", job)
    to_validate = _drop_empty(given)
    if _is_config_mapping(job_def.config):
        to_validate = job_def.config.resolve_from_unvalidated_config(given)
        to_validate = _drop_empty(convert_config_input(to_validate) or {})
    schema = run_config_schema_for_job(job, in_process=in_process, input_values=input_values)
    processed = process_run_config(schema, to_validate, job_name=job.name) or {}
    if _has_graph_mappings(job_def.graph):
        processed = dict(processed)
        processed["ops"] = _apply_graph_mappings(job_def, job_def.graph, processed.get("ops") or {}, [])
    configured_steps = _configured_steps(job_def)
    if configured_steps:
        processed = _apply_configured(processed, configured_steps, job.name)
    return processed, given


def _configured_steps(job_def: Any) -> list[Any]:
    cached = job_def._cache.get("configured_steps")
    if cached is None:
        cached = job_def._cache["configured_steps"] = [
            s for s in plan_for_job(job_def).steps if getattr(s.op_def, "is_configured", False)
        ]
    return cached


def _apply_configured(processed: dict[str, Any], steps: list[Any], job_name: str) -> dict[str, Any]:
    """Replace the outer config of `configured` ops with the config their parents receive."""
    import copy

    from orchestra._errors import DagsterInvalidConfigError

    processed = copy.deepcopy(processed)
    for step in steps:
        parts = str(step.node_handle).split(".")
        section: Any = processed.setdefault("ops", {})
        for part in parts[:-1]:
            section = section.setdefault(part, {}).setdefault("ops", {})
        node_section = section.setdefault(parts[-1], {})
        result = step.op_def.apply_config_mapping({"config": node_section.get("config")})
        if not result.success:
            raise DagsterInvalidConfigError(f"Error in config for job {job_name}", result.errors, node_section.get("config"))
        node_section["config"] = (result.value or {}).get("config")
    return processed


def _is_config_mapping(value: Any) -> bool:
    from orchestra._config.mapping import ConfigMapping

    return isinstance(value, ConfigMapping)


def _has_graph_mappings(graph_def: Any) -> bool:
    from orchestra._core.definitions.graph import GraphDefinition

    cache = graph_def.__dict__.setdefault("_has_mappings_cache", {})
    if "v" not in cache:
        cache["v"] = any(
            isinstance(n.definition, GraphDefinition)
            and (_is_config_mapping(n.definition.config_mapping) or _has_graph_mappings(n.definition))
            for n in graph_def.nodes
        )
    return cache["v"]


def _apply_graph_mappings(job_def: Any, graph_def: Any, ops: dict[str, Any], path: list[str]) -> dict[str, Any]:
    """Replace each mapped graph's `{config: ...}` with the processed `{ops: ...}` its mapping produces."""
    from orchestra._config.validate import process_config_or_raise
    from orchestra._core.definitions.graph import GraphDefinition

    config = _config()
    result = dict(ops)
    for node in graph_def.nodes:
        if not isinstance(node.definition, GraphDefinition):
            continue
        section = dict(result.get(node.name) or {})
        inner_path = [*path, node.name]
        mapping = node.definition.config_mapping
        if _is_config_mapping(mapping):
            try:
                inner = mapping.resolve_from_validated_config(section.get("config"))
            except Exception as exc:
                from orchestra._errors import DagsterConfigMappingFunctionError

                raise DagsterConfigMappingFunctionError(
                    f"The config mapping function on graph '{node.name}' in job '{job_def.name}' has thrown an "
                    "unexpected error during its execution. The definition is instantiated at stack "
                    f'"{":".join(inner_path)}".',
                    user_exception=exc,
                ) from exc
            inner = convert_inner(inner)
            unconnected = _unconnected_for(job_def)
            prefix = ".".join(inner_path)
            schema = config.Shape(_node_fields(job_def, node.definition, prefix, unconnected))
            processed_inner = process_config_or_raise(schema, inner, f"Error in config mapping for graph {node.name}") or {}
            section["ops"] = _apply_graph_mappings(job_def, node.definition, processed_inner, inner_path)
        elif _has_graph_mappings(node.definition):
            section["ops"] = _apply_graph_mappings(job_def, node.definition, section.get("ops") or {}, inner_path)
        result[node.name] = section
    return result


def convert_inner(value: Any) -> Any:
    from orchestra._config.run_config import convert_config_input

    value = convert_config_input(value)
    if isinstance(value, dict) and set(value) == {"ops"}:
        return value["ops"]
    return value or {}


def _unconnected_for(job_def: Any) -> dict[str, list[Any]]:
    unconnected: dict[str, list[Any]] = {}
    for node_handle, inputs in node_inputs(job_def):
        for step_input in inputs:
            if step_input.source.kind == FROM_CONFIG and config_loadable(step_input.dagster_type):
                unconnected.setdefault(str(node_handle), []).append(step_input)
    return unconnected


def _drop_empty(run_config: Any) -> Any:
    if not isinstance(run_config, dict):
        return run_config
    return {k: v for k, v in run_config.items() if not (k in ("loggers", "resources", "ops", "execution") and v is None)}


def resource_configs(processed: dict[str, Any]) -> dict[str, Any]:
    return {key: (section or {}).get("config") for key, section in (processed.get("resources") or {}).items()}


def console_writer_for(processed: dict[str, Any], job_def: Any = None, run_id: str | None = None) -> Any:
    from orchestra._core.log import LEVELS, ConsoleWriter

    if job_def is not None and getattr(job_def, "logger_defs", None):
        from orchestra._core.loggers import run_loggers_writer

        writer = run_loggers_writer(job_def, processed.get("loggers") or {}, run_id or "")
        if writer is not None:
            return writer
    console = ((processed.get("loggers") or {}).get("console") or {}).get("config") or {}
    level = LEVELS.get(str(console.get("log_level", "DEBUG")).upper(), 10)
    return ConsoleWriter(level, console.get("name", "dagster"))


def validate_run_config(job_def: Any, run_config: Any = None) -> dict[str, Any]:
    """Validate `run_config` for `job_def` and return it with defaults filled in.

    Raises DagsterInvalidConfigError listing every error with its path.

    Example:
        >>> validate_run_config(my_job, {"ops": {"add": {"config": {"n": 1}}}})
    """
    if run_config is None and isinstance(getattr(job_def, "config", None), dict):
        run_config = job_def.config
    processed, _ = process_job_run_config(job_def, run_config, input_values=job_def.input_values)
    ops = _with_op_defaults(job_def.graph, processed.get("ops") or {})
    execution = (processed.get("execution") or {}).get("config")
    if execution is None:
        from orchestra._core.resources.config_bridge import process_config

        execution = process_config(job_def.executor_def.config_field, None, what="executor")
    return {
        "ops": ops,
        "execution": {job_def.executor_def.name: execution} if execution is not None else {},
        "resources": {k: {"config": (v or {}).get("config")} for k, v in (processed.get("resources") or {}).items()},
        "loggers": processed.get("loggers") or {},
    }


def _with_op_defaults(graph_def: Any, ops: dict[str, Any], prefix: str = "", result: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every node's resolved config keyed by its dotted path, as Dagster's `validate_run_config` returns it."""
    from orchestra._core.definitions.graph import GraphDefinition

    result = {} if result is None else result
    for node in graph_def.nodes:
        section = ops.get(node.name) or {}
        path = f"{prefix}{node.name}"
        result[path] = {
            "config": section.get("config"), "inputs": section.get("inputs") or {}, "outputs": section.get("outputs"),
        }
        if isinstance(node.definition, GraphDefinition):
            _with_op_defaults(node.definition, section.get("ops") or {}, f"{path}.", result)
    return result
