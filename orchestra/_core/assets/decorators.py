"""The asset decorators: `@asset`, `@multi_asset`, `@graph_asset` and `@asset_check`.

Each builds an op (or graph) and wraps it in an `AssetsDefinition`: an asset compiles to an op.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable
from typing import Any

from orchestra._builtins import Nothing
from orchestra._core.assets.compute import AssetComputeFn
from orchestra._core.assets.definition import (
    AssetsDefinition,
)
from orchestra._core.assets.keys import (
    AssetKey,
    check_output_name,
    coerce_asset_key,
    coerce_key_prefix,
)
from orchestra._core.assets.specs import AssetCheckSpec, AssetDep, AssetIn, AssetOut, AssetSpec, coerce_deps
from orchestra._core.definitions.inout import NO_VALUE, In, InputDefinition, Out
from orchestra._core.definitions.op import CONTEXT_NAMES, OpDefinition
from orchestra._core.definitions.output import Output
from orchestra._core.gc_pause import built_while_paused
from orchestra._core.signatures import docstring_of, function_kind, signature_of, type_hints_of
from orchestra._core.types import resolve_dagster_type
from orchestra._errors import DagsterInvalidDefinitionError

# ASCII letters, digits and underscores (possibly none: an empty name is left to later checks), in
# one regex match rather than a Python-level test per character of every dep of every asset
_NAME_CHARS = re.compile(r"[A-Za-z0-9_]*")
# `Nothing` as the `DagsterType` it resolves to: the type of every dep's input and of `-> None` outputs
_NOTHING = resolve_dagster_type(Nothing)
_NOT_OUTPUT_TYPES = frozenset({"MaterializeResult", "ObserveResult", "Output", "AssetCheckResult", "Iterator",
                               "Generator", "Iterable", "AsyncIterator", "AsyncGenerator"})


def _return_type(fn: Callable[..., Any]) -> Any:
    """The asset output's type from the return annotation (`None` -> Nothing, resolved), or NO_VALUE."""
    is_generator, _, is_async_generator = function_kind(fn)
    if is_generator or is_async_generator:
        return NO_VALUE
    try:
        hints = type_hints_of(fn)
    except Exception:
        hints = dict(getattr(fn, "__annotations__", {}))
    if "return" not in hints:
        return NO_VALUE
    annotation = hints["return"]
    plain_class = type(annotation) is type  # `-> None` (NoneType), `-> int`: no origin to look through
    if not plain_class and typing.get_origin(annotation) is Output:  # `-> Output[int]`
        annotation = typing.get_args(annotation)[0]
    if annotation is None or annotation is type(None):
        return _NOTHING
    origin = annotation if plain_class else typing.get_origin(annotation) or annotation
    if getattr(origin, "__name__", "") in _NOT_OUTPUT_TYPES:
        return NO_VALUE
    return annotation


def _input_params(fn: Callable[..., Any]) -> list[inspect.Parameter]:
    params = list(signature_of(fn).parameters.values())
    if not params:  # nothing to sort out (and no resources to look for)
        return params
    from orchestra._core.resources.initialization import resource_params

    if params[0].name in CONTEXT_NAMES:
        params = params[1:]
    resources = set(resource_params(fn))
    return [p for p in params if p.name not in resources and p.name != "config"
            and p.kind not in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)]


def _build_ins(
    fn: Callable[..., Any], ins: dict[str, AssetIn] | None, deps: list[AssetDep], decorator: str,
) -> tuple[dict[str, In], list[InputDefinition], dict[str, AssetKey], dict[AssetKey, Any]]:
    """Op `In`s for data parameters; the ordering-only inputs of `deps`, already resolved (each would
    otherwise be an `In` resolved once more by the op, for every dep of every asset); input name -> key;
    key -> partition mapping."""
    ins = dict(ins or {})
    params = _input_params(fn)
    names = {p.name for p in params}
    for name in ins:
        if name not in names and not any(p.kind == inspect.Parameter.VAR_KEYWORD for p in signature_of(fn).parameters.values()):
            raise DagsterInvalidDefinitionError(
                f"Key '{name}' in provided ins dict does not correspond to any of the names of the arguments to the "
                "decorated function"
            )
    op_ins: dict[str, In] = {}
    keys: dict[str, AssetKey] = {}
    mappings: dict[AssetKey, Any] = {}
    for param in [*params, *[_Named(n) for n in ins if n not in names]]:
        spec = ins.get(param.name) or AssetIn()
        if spec.key is not None:
            key = spec.key
        elif spec.key_prefix is not None:
            key = AssetKey([*spec.key_prefix, param.name])
        else:
            key = AssetKey([param.name])
        keys[param.name] = key
        if spec.partition_mapping is not None:
            mappings[key] = spec.partition_mapping
        op_ins[param.name] = In(dagster_type=spec.dagster_type, metadata=spec.metadata,
                                input_manager_key=spec.input_manager_key, asset_key=key)
    dep_inputs: dict[str, InputDefinition] = {}
    for dep in deps:
        if dep.asset_key in keys.values():
            raise DagsterInvalidDefinitionError(
                f"deps value {dep.asset_key} also declared as input/AssetIn"
            )
        name = _dep_input_name(dep.asset_key)
        if name in op_ins:  # named as a data input: it takes that input's place (and the op refuses it there)
            op_ins[name] = In(_NOTHING, asset_key=dep.asset_key)
        else:
            dep_inputs[name] = InputDefinition(name, _NOTHING, asset_key=dep.asset_key)
        keys[name] = dep.asset_key
        if dep.partition_mapping is not None:
            mappings[dep.asset_key] = dep.partition_mapping
    return op_ins, list(dep_inputs.values()), keys, mappings


def _spec_deps(keys_by_input: dict[str, AssetKey], mappings: dict[AssetKey, Any], given: list[AssetDep]) -> list[AssetDep]:
    """The spec's deps: one per input, with its partition mapping; a given dep that says exactly that is kept."""
    plain = {d.asset_key: d for d in given if d.partition_mapping is None and not d.metadata}
    deps = []
    for key in keys_by_input.values():
        mapping = mappings.get(key)
        dep = plain.get(key) if mapping is None else None
        deps.append(dep if dep is not None else AssetDep(key, partition_mapping=mapping))
    return deps


def _dep_input_name(key: AssetKey) -> str:
    """The name of the ordering-only input a dep becomes, as Dagster names it (`["a", "b"]` -> `a_b`)."""
    path = key.path
    name = path[0] if len(path) == 1 else "_".join(path)
    if name.isascii() and name.isidentifier():  # already a valid name (the usual case): nothing to replace
        return name
    name = name.replace("-", "_").replace(".", "_")
    if _NAME_CHARS.fullmatch(name) is None:
        raise DagsterInvalidDefinitionError(f'"{name}" is not a valid name in Dagster. Names must be in regex ^[A-Za-z0-9_]+$.')
    return name


class _Named:
    def __init__(self, name: str):
        self.name = name


def _check_outs(check_specs: list[AssetCheckSpec], allowed_keys: set[AssetKey] | None, decorator: str) -> tuple[dict[str, Out], dict[str, AssetCheckSpec]]:
    outs: dict[str, Out] = {}
    by_output: dict[str, AssetCheckSpec] = {}
    for spec in check_specs:
        if allowed_keys is not None and spec.asset_key not in allowed_keys:
            raise DagsterInvalidDefinitionError(
                f"Invalid asset key {spec.asset_key} in check spec {spec.name}. Must be one of {allowed_keys}"
            )
        name = check_output_name(spec.key)
        if name in by_output:
            raise DagsterInvalidDefinitionError(f"Duplicate check specs: {spec.key}")
        outs[name] = Out(is_required=False)
        by_output[name] = spec
    return outs, by_output


def _tags_with_kinds(tags: dict[str, str] | None, kinds: set[str] | None, compute_kind: str | None) -> dict[str, str]:
    result = dict(tags or {})
    for kind in kinds or ():
        result[f"dagster/kind/{kind}"] = ""
    return result


def _check_resource_args(wrapped: AssetComputeFn, required_resource_keys: Any) -> None:
    if required_resource_keys and wrapped.resource_args:
        raise DagsterInvalidDefinitionError(
            "Cannot specify resource requirements in both @asset decorator and as arguments to the decorated function"
        )


def _config_schema(wrapped: AssetComputeFn, config_schema: Any, decorator: str) -> Any:
    if wrapped.config_arg is None:
        return config_schema
    if config_schema is not None:
        raise DagsterInvalidDefinitionError(
            f"Cannot provide config_schema to {decorator} when the decorated function has a config parameter."
        )
    return wrapped.config_schema()


def _attach_io_manager(resource_defs: dict[str, Any], io_manager_def: Any, io_manager_key: str | None, op_name: str) -> str | None:
    if io_manager_def is None:
        return io_manager_key
    key = io_manager_key or f"{op_name}__io_manager"
    resource_defs[key] = io_manager_def
    return key


# --- @asset -------------------------------------------------------------------------------------


def asset(
    compute_fn: Callable[..., Any] | None = None, *, name: str | None = None, key_prefix: Any = None,
    ins: dict[str, AssetIn] | None = None, deps: Any = None, metadata: dict[str, Any] | None = None,
    tags: dict[str, str] | None = None, description: str | None = None, config_schema: Any = None,
    required_resource_keys: set[str] | None = None, resource_defs: dict[str, Any] | None = None, hooks: Any = None,
    io_manager_def: Any = None, io_manager_key: str | None = None, dagster_type: Any = None,
    partitions_def: Any = None, op_tags: dict[str, Any] | None = None, group_name: str | None = None,
    output_required: bool = True, automation_condition: Any = None, freshness_policy: Any = None,
    backfill_policy: Any = None, retry_policy: Any = None, code_version: str | None = None, key: Any = None,
    check_specs: list[AssetCheckSpec] | None = None, owners: list[str] | None = None, kinds: set[str] | None = None,
    pool: str | None = None, is_virtual: bool = False, compute_kind: str | None = None, **kwargs: Any,
) -> Any:
    """Define an asset from a function: parameters are upstream assets, the return value is stored.

    Example:
        >>> @asset
        ... def orders() -> list[int]:
        ...     return [1, 2, 3]
        >>> @asset(group_name="sales", deps=["raw_events"])
        ... def order_count(context: AssetExecutionContext, orders: list[int]) -> int:
        ...     return len(orders)
    """
    if key is not None and (name is not None or key_prefix is not None):
        raise DagsterInvalidDefinitionError(
            "Cannot specify a name or key prefix for @asset when the key argument is provided."
        )

    def build(fn: Callable[..., Any]) -> AssetsDefinition:
        asset_key = coerce_asset_key(key) if key is not None else AssetKey([*coerce_key_prefix(key_prefix), name or fn.__name__])
        op_name = asset_key.to_python_identifier()
        dep_list = coerce_deps(deps)
        op_ins, dep_inputs, keys_by_input, mappings = _build_ins(fn, ins, dep_list, "@asset")
        resources = dict(resource_defs or {})
        manager_key = _attach_io_manager(resources, io_manager_def, io_manager_key, op_name)
        out_type = dagster_type if dagster_type is not None else _return_type(fn)
        outs = {"result": Out(dagster_type=out_type, io_manager_key=manager_key, is_required=output_required,
                              metadata=metadata, code_version=code_version, description=description)}
        checks_by_output: dict[str, AssetCheckSpec] = {}
        if check_specs:
            check_outs, checks_by_output = _check_outs(list(check_specs), {asset_key}, "@asset")
            outs.update(check_outs)
        wrapped = AssetComputeFn(
            fn, op_ins, outs, "@asset", output_keys={"result": asset_key},
            check_outputs={s.key: n for n, s in checks_by_output.items()},
            blocking={s.key for s in checks_by_output.values() if s.blocking}, nothing_inputs=dep_inputs,
        )
        _check_resource_args(wrapped, required_resource_keys)
        doc = description or docstring_of(fn)
        op_def = OpDefinition(
            compute_fn=wrapped, name=op_name, description=doc,
            config_schema=_config_schema(wrapped, config_schema, "@asset"),
            required_resource_keys=required_resource_keys, tags=_op_tags(op_tags, compute_kind),
            retry_policy=retry_policy, code_version=code_version, pool=pool,
        )
        spec = AssetSpec(
            asset_key, deps=_spec_deps(keys_by_input, mappings, dep_list),
            description=doc, metadata=metadata, skippable=not output_required,
            group_name=group_name, code_version=code_version, automation_condition=automation_condition,
            owners=owners, tags=_tags_with_kinds(tags, kinds, compute_kind), partitions_def=partitions_def,
            freshness_policy=freshness_policy, is_virtual=is_virtual,
        )
        assets_def = AssetsDefinition(
            keys_by_input_name=keys_by_input, keys_by_output_name={"result": asset_key}, node_def=op_def,
            partitions_def=partitions_def, partition_mappings=mappings, resource_defs=resources,
            backfill_policy=backfill_policy, check_specs_by_output_name=checks_by_output, specs=[spec],
            hook_defs=hooks,
        )
        wrapped.assets_def = assets_def
        return assets_def

    decorate = built_while_paused(build)
    if compute_fn is not None:
        return decorate(compute_fn)
    return decorate


def _op_tags(op_tags: dict[str, Any] | None, compute_kind: str | None) -> dict[str, Any] | None:
    if not compute_kind:
        return op_tags
    return {**(op_tags or {}), "dagster/compute_kind": compute_kind}


# --- @multi_asset -------------------------------------------------------------------------------


def multi_asset(
    *, outs: dict[str, AssetOut] | None = None, name: str | None = None, ins: dict[str, AssetIn] | None = None,
    deps: Any = None, description: str | None = None, config_schema: Any = None,
    required_resource_keys: set[str] | None = None, internal_asset_deps: dict[str, set[Any]] | None = None,
    partitions_def: Any = None, hooks: Any = None, backfill_policy: Any = None, op_tags: dict[str, Any] | None = None,
    can_subset: bool = False, resource_defs: dict[str, Any] | None = None, group_name: str | None = None,
    retry_policy: Any = None, code_version: str | None = None, specs: list[AssetSpec] | None = None,
    check_specs: list[AssetCheckSpec] | None = None, pool: str | None = None, compute_kind: str | None = None,
    **kwargs: Any,
) -> Callable[[Callable[..., Any]], AssetsDefinition]:
    """Define several assets computed by one function (one op with an output per asset).

    Example:
        >>> @multi_asset(outs={"users": AssetOut(), "orders": AssetOut(key_prefix="sales")})
        ... def load():
        ...     return [1], [2]
    """
    if outs and specs:
        raise DagsterInvalidDefinitionError("Must specify only outs or specs but not both.")

    def build(fn: Callable[..., Any]) -> AssetsDefinition:
        op_name = name or fn.__name__
        dep_list = coerce_deps(deps)
        spec_dep_keys: set[AssetKey] = set()
        for spec in specs or ():
            spec_dep_keys |= {d.asset_key for d in spec.deps}
        data_keys = set()
        for param in _input_params(fn):
            asset_in = (ins or {}).get(param.name)
            data_keys.add(asset_in.key if asset_in and asset_in.key else AssetKey([*(asset_in.key_prefix or [] if asset_in else []), param.name]))
        extra = [AssetDep(k) for k in sorted(spec_dep_keys) if k not in data_keys and k not in {d.asset_key for d in dep_list}]
        op_ins, dep_inputs, keys_by_input, mappings = _build_ins(fn, ins, [*dep_list, *extra], "@multi_asset")
        for spec in specs or ():
            for dep in spec.deps:
                if dep.partition_mapping is not None:
                    mappings[dep.asset_key] = dep.partition_mapping
        resources = dict(resource_defs or {})
        op_outs: dict[str, Out] = {}
        keys_by_output: dict[str, AssetKey] = {}
        asset_specs: list[AssetSpec] = []
        all_upstream = list(keys_by_input.values())
        if specs:
            for spec in specs:
                output_name = spec.key.to_python_identifier()
                keys_by_output[output_name] = spec.key
                op_outs[output_name] = Out(is_required=not spec.skippable, code_version=spec.code_version,
                                           metadata=spec.metadata, description=spec.description,
                                           io_manager_key=spec.metadata.get("dagster/io_manager_key"))
                spec_deps = spec.deps if spec.deps or internal_asset_deps is None else spec.deps
                asset_specs.append(spec.replace_attributes(
                    deps=spec_deps, group_name=spec.group_name or group_name,
                    partitions_def=spec.partitions_def or partitions_def,
                    code_version=spec.code_version or code_version,
                ))
        else:
            for output_name, out in (outs or {}).items():
                if not isinstance(out, AssetOut):
                    raise DagsterInvalidDefinitionError(f"Invalid AssetOut for output '{output_name}': {out!r}")
                asset_key = out.key or AssetKey([*(out.key_prefix or []), output_name])
                keys_by_output[output_name] = asset_key
                op_outs[output_name] = Out(dagster_type=out.dagster_type, description=out.description,
                                           is_required=out.is_required, io_manager_key=out.io_manager_key,
                                           metadata=out.metadata, code_version=out.code_version or code_version)
                upstream = internal_asset_deps.get(output_name) if internal_asset_deps else None
                upstream_keys = [coerce_asset_key(k) for k in upstream] if upstream is not None else all_upstream
                spec = out.to_spec(asset_key, [AssetDep(k, partition_mapping=mappings.get(k)) for k in upstream_keys],
                                   partitions_def, group_name)
                if spec.code_version is None and code_version is not None:
                    spec = spec.replace_attributes(code_version=code_version)
                asset_specs.append(spec)
        check_outs, checks_by_output = _check_outs(list(check_specs or []), None, "@multi_asset")
        op_outs.update(check_outs)
        wrapped = AssetComputeFn(
            fn, op_ins, op_outs, "@multi_asset", output_keys=keys_by_output,
            check_outputs={s.key: n for n, s in checks_by_output.items()},
            blocking={s.key for s in checks_by_output.values() if s.blocking}, nothing_inputs=dep_inputs,
        )
        _check_resource_args(wrapped, required_resource_keys)
        doc = description or docstring_of(fn)
        op_def = OpDefinition(
            compute_fn=wrapped, name=op_name, description=doc,
            config_schema=_config_schema(wrapped, config_schema, "@multi_asset"),
            required_resource_keys=required_resource_keys, tags=_op_tags(op_tags, compute_kind),
            retry_policy=retry_policy, code_version=code_version, pool=pool,
        )
        assets_def = AssetsDefinition(
            keys_by_input_name=keys_by_input, keys_by_output_name=keys_by_output, node_def=op_def,
            partitions_def=partitions_def, partition_mappings=mappings, resource_defs=resources,
            backfill_policy=backfill_policy, check_specs_by_output_name=checks_by_output, specs=asset_specs,
            can_subset=can_subset, hook_defs=hooks,
        )
        wrapped.assets_def = assets_def
        return assets_def

    return built_while_paused(build)


# --- @graph_asset -------------------------------------------------------------------------------


def graph_asset(
    compose_fn: Callable[..., Any] | None = None, *, name: str | None = None, description: str | None = None,
    ins: dict[str, AssetIn] | None = None, config: Any = None, key_prefix: Any = None, group_name: str | None = None,
    partitions_def: Any = None, hooks: Any = None, metadata: dict[str, Any] | None = None,
    tags: dict[str, str] | None = None, owners: list[str] | None = None, automation_condition: Any = None,
    backfill_policy: Any = None, resource_defs: dict[str, Any] | None = None,
    check_specs: list[AssetCheckSpec] | None = None, code_version: str | None = None, key: Any = None,
    kinds: set[str] | None = None, **kwargs: Any,
) -> Any:
    """Define an asset computed by a graph of ops; the graph's output is the asset's value.

    Example:
        >>> @graph_asset
        ... def report(orders):
        ...     return publish(summarize(orders))
    """

    def decorate(fn: Callable[..., Any]) -> AssetsDefinition:
        from orchestra._core.definitions.graph import graph

        asset_key = coerce_asset_key(key) if key is not None else AssetKey([*coerce_key_prefix(key_prefix), name or fn.__name__])
        graph_def = graph(fn, name=name or asset_key.to_python_identifier(), description=description, config=config)
        keys_by_input = {}
        for input_def in graph_def.input_defs:
            asset_in = (ins or {}).get(input_def.name)
            if asset_in is not None and asset_in.key is not None:
                keys_by_input[input_def.name] = asset_in.key
            else:
                keys_by_input[input_def.name] = AssetKey([*((asset_in.key_prefix or []) if asset_in else []), input_def.name])
        mappings = {keys_by_input[n]: a.partition_mapping for n, a in (ins or {}).items() if a.partition_mapping}
        output_names = [o.name for o in graph_def.output_defs]
        spec = AssetSpec(
            asset_key, deps=[AssetDep(k, partition_mapping=mappings.get(k)) for k in keys_by_input.values()],
            description=description or docstring_of(fn), metadata=metadata, group_name=group_name,
            code_version=code_version, automation_condition=automation_condition, owners=owners,
            tags=_tags_with_kinds(tags, kinds, None), partitions_def=partitions_def,
        )
        checks_by_output = {}
        for check in check_specs or ():
            checks_by_output[check_output_name(check.key)] = check
        return AssetsDefinition(
            keys_by_input_name=keys_by_input, keys_by_output_name={output_names[0] if output_names else "result": asset_key},
            node_def=graph_def, partitions_def=partitions_def, partition_mappings=mappings,
            resource_defs=resource_defs, backfill_policy=backfill_policy, specs=[spec],
            check_specs_by_output_name=checks_by_output, hook_defs=hooks,
        )

    if compose_fn is not None:
        return decorate(compose_fn)
    return decorate


def graph_multi_asset(
    *, outs: dict[str, AssetOut], name: str | None = None, ins: dict[str, AssetIn] | None = None,
    partitions_def: Any = None, hooks: Any = None, backfill_policy: Any = None, group_name: str | None = None,
    can_subset: bool = False, resource_defs: dict[str, Any] | None = None,
    check_specs: list[AssetCheckSpec] | None = None, config: Any = None, **kwargs: Any,
) -> Callable[[Callable[..., Any]], AssetsDefinition]:
    """Define several assets computed by a graph of ops; each graph output is one asset.

    Example:
        >>> @graph_multi_asset(outs={"left": AssetOut(), "right": AssetOut()})
        ... def split(raw):
        ...     return {"left": take_left(raw), "right": take_right(raw)}
    """

    def decorate(fn: Callable[..., Any]) -> AssetsDefinition:
        from orchestra._core.definitions.graph import graph
        from orchestra._core.definitions.inout import GraphOut

        graph_def = graph(fn, name=name or fn.__name__, config=config, out={n: GraphOut() for n in outs})
        keys_by_input = {}
        for input_def in graph_def.input_defs:
            asset_in = (ins or {}).get(input_def.name)
            if asset_in is not None and asset_in.key is not None:
                keys_by_input[input_def.name] = asset_in.key
            else:
                prefix = (asset_in.key_prefix or []) if asset_in else []
                keys_by_input[input_def.name] = AssetKey([*prefix, input_def.name])
        mappings = {keys_by_input[n]: a.partition_mapping for n, a in (ins or {}).items() if a.partition_mapping}
        deps = [AssetDep(k, partition_mapping=mappings.get(k)) for k in keys_by_input.values()]
        keys_by_output = {}
        specs = []
        for output_name, out in outs.items():
            key = out.key or AssetKey([*(out.key_prefix or []), output_name])
            keys_by_output[output_name] = key
            specs.append(out.to_spec(key, deps, partitions_def, group_name))
        checks_by_output = {check_output_name(c.key): c for c in check_specs or ()}
        return AssetsDefinition(
            keys_by_input_name=keys_by_input, keys_by_output_name=keys_by_output, node_def=graph_def,
            partitions_def=partitions_def, partition_mappings=mappings, resource_defs=resource_defs,
            backfill_policy=backfill_policy, specs=specs, check_specs_by_output_name=checks_by_output,
            can_subset=can_subset, hook_defs=hooks,
        )

    return decorate
