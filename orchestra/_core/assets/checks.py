"""Asset check decorators: `@asset_check` and `@multi_asset_check` (an op whose outputs are check results)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from orchestra._core.assets.compute import AssetComputeFn
from orchestra._core.assets.decorators import (
    _build_ins,
    _check_resource_args,
    _config_schema,
    _input_params,
    _op_tags,
)
from orchestra._core.assets.definition import AssetChecksDefinition
from orchestra._core.assets.keys import check_output_name, coerce_asset_key
from orchestra._core.assets.specs import AssetCheckSpec, AssetDep, AssetIn, _coerce_dep_key, coerce_deps
from orchestra._core.definitions.inout import In, Out
from orchestra._core.definitions.op import OpDefinition
from orchestra._errors import DagsterInvalidDefinitionError


def asset_check(
    *, asset: Any, name: str | None = None, description: str | None = None, blocking: bool = False,
    additional_ins: dict[str, AssetIn] | None = None, additional_deps: Any = None,
    required_resource_keys: set[str] | None = None, resource_defs: dict[str, Any] | None = None,
    config_schema: Any = None, compute_kind: str | None = None, op_tags: dict[str, Any] | None = None,
    retry_policy: Any = None, metadata: dict[str, Any] | None = None, automation_condition: Any = None,
    pool: str | None = None, partitions_def: Any = None,
) -> Callable[[Callable[..., Any]], AssetChecksDefinition]:
    """Define a check on an asset from a function returning an `AssetCheckResult`.

    A parameter named after the asset receives its value; otherwise the check only runs after it.

    Example:
        >>> @asset_check(asset=orders, blocking=True)
        ... def orders_not_empty(orders):
        ...     return AssetCheckResult(passed=len(orders) > 0)
    """
    asset_key = _coerce_dep_key(asset)

    def decorate(fn: Callable[..., Any]) -> AssetChecksDefinition:
        check_name = name or fn.__name__
        params = _input_params(fn)
        asset_param = asset_key.path[-1]
        ins: dict[str, AssetIn] = dict(additional_ins or {})
        deps = coerce_deps(additional_deps)
        param_names = {p.name for p in params}
        data_input = None
        for param in params:
            if param.name in ins:
                continue
            if param.name == asset_param or len([p for p in params if p.name not in ins]) == 1:
                ins[param.name] = AssetIn(key=asset_key)
                data_input = param.name
            else:
                raise DagsterInvalidDefinitionError(
                    f"'{param.name}' is not a parameter of the asset or an additional_ins of @asset_check '{check_name}'."
                )
        dep_list = list(deps)
        if data_input is None and asset_key not in {i.key for i in ins.values()}:
            dep_list.insert(0, AssetDep(asset_key))
        op_ins, _, keys_by_input, mappings = _build_ins(fn, ins, [], "@asset_check")
        from orchestra._builtins import Nothing

        for dep in dep_list:
            input_name = "_".join(dep.asset_key.path) if dep.asset_key == asset_key else dep.asset_key.to_python_identifier()
            op_ins[input_name] = In(Nothing, asset_key=dep.asset_key)
            keys_by_input[input_name] = dep.asset_key
        del param_names
        spec = AssetCheckSpec(check_name, asset=asset_key, description=description or inspect.getdoc(fn),
                              additional_deps=deps, blocking=blocking, metadata=metadata,
                              automation_condition=automation_condition, partitions_def=partitions_def)
        outs = {"result": Out(is_required=False)}
        wrapped = AssetComputeFn(fn, op_ins, outs, "@asset_check", output_keys={},
                                 check_outputs={spec.key: "result"}, blocking={spec.key} if blocking else set())
        _check_resource_args(wrapped, required_resource_keys)
        op_def = OpDefinition(
            compute_fn=wrapped, name=f"{asset_key.to_python_identifier()}_{check_name}",
            description=description or inspect.getdoc(fn),
            config_schema=_config_schema(wrapped, config_schema, "@asset_check"),
            required_resource_keys=required_resource_keys, tags=_op_tags(op_tags, compute_kind),
            retry_policy=retry_policy, pool=pool,
        )
        checks_def = AssetChecksDefinition(
            keys_by_input_name=keys_by_input, keys_by_output_name={}, node_def=op_def, specs=[],
            check_specs_by_output_name={"result": spec}, resource_defs=resource_defs, partitions_def=partitions_def,
            partition_mappings=mappings,
        )
        wrapped.assets_def = checks_def
        return checks_def

    return decorate


def multi_asset_check(
    *, specs: list[AssetCheckSpec], name: str | None = None, description: str | None = None,
    can_subset: bool = False, compute_kind: str | None = None, op_tags: dict[str, Any] | None = None,
    resource_defs: dict[str, Any] | None = None, required_resource_keys: set[str] | None = None,
    retry_policy: Any = None, config_schema: Any = None, ins: dict[str, Any] | None = None, pool: str | None = None,
) -> Callable[[Callable[..., Any]], AssetChecksDefinition]:
    """Define several checks computed by one function; it yields an `AssetCheckResult` per check.

    Example:
        >>> @multi_asset_check(specs=[AssetCheckSpec("a_ok", asset="a"), AssetCheckSpec("b_ok", asset="b")])
        ... def both():
        ...     yield AssetCheckResult(asset_key="a", check_name="a_ok", passed=True)
        ...     yield AssetCheckResult(asset_key="b", check_name="b_ok", passed=True)
    """

    def decorate(fn: Callable[..., Any]) -> AssetChecksDefinition:
        asset_ins: dict[str, AssetIn] = {}
        for input_name, value in (ins or {}).items():
            asset_ins[input_name] = value if isinstance(value, AssetIn) else AssetIn(key=coerce_asset_key(value))
        data_keys = {(a.key or coerce_asset_key(n)) for n, a in asset_ins.items()}
        data_keys |= {coerce_asset_key(p.name) for p in _input_params(fn) if p.name not in asset_ins}
        deps: list[AssetDep] = []
        for spec in specs:
            for key in [spec.asset_key, *[d.asset_key for d in spec.additional_deps]]:
                if key not in data_keys and key not in {d.asset_key for d in deps}:
                    deps.append(AssetDep(key))
        op_ins, dep_inputs, keys_by_input, mappings = _build_ins(fn, asset_ins, deps, "@multi_asset_check")
        outs = {check_output_name(spec.key): Out(is_required=False) for spec in specs}
        by_output = {check_output_name(spec.key): spec for spec in specs}
        wrapped = AssetComputeFn(fn, op_ins, outs, "@multi_asset_check", output_keys={},
                                 check_outputs={s.key: n for n, s in by_output.items()},
                                 blocking={s.key for s in specs if s.blocking}, nothing_inputs=dep_inputs)
        _check_resource_args(wrapped, required_resource_keys)
        op_def = OpDefinition(
            compute_fn=wrapped, name=name or fn.__name__, description=description or inspect.getdoc(fn),
            config_schema=_config_schema(wrapped, config_schema, "@multi_asset_check"),
            required_resource_keys=required_resource_keys, tags=_op_tags(op_tags, compute_kind),
            retry_policy=retry_policy, pool=pool,
        )
        checks_def = AssetChecksDefinition(
            keys_by_input_name=keys_by_input, keys_by_output_name={}, node_def=op_def, specs=[],
            check_specs_by_output_name=by_output, resource_defs=resource_defs, partition_mappings=mappings,
            can_subset=can_subset,
        )
        wrapped.assets_def = checks_def
        return checks_def

    return decorate
