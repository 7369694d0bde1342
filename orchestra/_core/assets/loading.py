"""Collecting assets and asset checks from Python modules (`load_assets_from_modules`, ...)."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterable
from types import ModuleType
from typing import Any

from orchestra._core.assets.definition import AssetChecksDefinition, AssetsDefinition
from orchestra._core.assets.keys import AssetKey, coerce_key_prefix
from orchestra._core.assets.source_asset import SourceAsset
from orchestra._core.assets.specs import AssetSpec
from orchestra._errors import DagsterInvalidDefinitionError


def _module_values(module: ModuleType) -> Iterable[Any]:
    for value in vars(module).values():
        if isinstance(value, (list, tuple)):
            yield from value
        else:
            yield value


def _collect(modules: Iterable[ModuleType], wanted: tuple[type, ...]) -> list[Any]:
    found: list[Any] = []
    ids: set[int] = set()
    for module in modules:
        for value in _module_values(module):
            if isinstance(value, wanted) and id(value) not in ids:
                if isinstance(value, AssetChecksDefinition) and AssetChecksDefinition not in wanted:
                    continue
                ids.add(id(value))
                found.append(value)
    return found


def load_assets_from_modules(
    modules: Iterable[ModuleType], group_name: str | None = None, key_prefix: Any = None, *,
    automation_condition: Any = None, backfill_policy: Any = None, source_key_prefix: Any = None,
    include_specs: bool = False, **kwargs: Any,
) -> list[Any]:
    """Every asset (AssetsDefinition, SourceAsset; AssetSpec with `include_specs`) defined in the modules.

    Example:
        >>> from my_project import raw, marts
        >>> assets = load_assets_from_modules([raw, marts], group_name="warehouse")
    """
    wanted: tuple[type, ...] = (AssetsDefinition, SourceAsset) + ((AssetSpec,) if include_specs else ())
    found = [a for a in _collect(list(modules), wanted) if not isinstance(a, AssetChecksDefinition)]
    seen: dict[AssetKey, Any] = {}
    for item in found:
        for key in _keys_of(item):
            if key in seen and seen[key] is not item:
                raise DagsterInvalidDefinitionError(
                    f"Asset key {key} is defined multiple times. Definitions found in modules: "
                    f"{', '.join(sorted({getattr(m, '__name__', '?') for m in modules}))}."
                )
            seen[key] = item
    return _with_prefixes_and_groups(found, key_prefix, source_key_prefix, group_name)


def load_assets_from_current_module(
    group_name: str | None = None, key_prefix: Any = None, *, automation_condition: Any = None,
    backfill_policy: Any = None, source_key_prefix: Any = None, include_specs: bool = False, **kwargs: Any,
) -> list[Any]:
    """Every asset defined in the calling module.

    Example:
        >>> defs = Definitions(assets=load_assets_from_current_module())
    """
    return load_assets_from_modules([_caller_module()], group_name, key_prefix, source_key_prefix=source_key_prefix,
                                    include_specs=include_specs)


def load_asset_checks_from_modules(modules: Iterable[ModuleType], asset_key_prefix: Any = None) -> list[AssetChecksDefinition]:
    """Every `AssetChecksDefinition` defined in the modules (checks on other assets)."""
    checks = [c for c in _collect(list(modules), (AssetChecksDefinition,)) if isinstance(c, AssetChecksDefinition)]
    if asset_key_prefix is None:
        return checks
    prefix = coerce_key_prefix(asset_key_prefix)
    result = []
    for check in checks:
        keys = {spec.asset_key for spec in check.check_specs} | set(check.keys_by_input_name.values())
        result.append(check.with_attributes(asset_key_replacements={k: k.with_prefix(prefix) for k in keys}))
    return result


def load_asset_checks_from_current_module(asset_key_prefix: Any = None) -> list[AssetChecksDefinition]:
    return load_asset_checks_from_modules([_caller_module()], asset_key_prefix)


def _package_modules(package_module: ModuleType) -> list[ModuleType]:
    """The package and every module below it, imported."""
    import importlib
    import pkgutil

    modules = [package_module]
    path = getattr(package_module, "__path__", None)
    if path is not None:
        for info in pkgutil.walk_packages(path, prefix=package_module.__name__ + "."):
            modules.append(importlib.import_module(info.name))
    return modules


def load_assets_from_package_module(
    package_module: ModuleType, group_name: str | None = None, key_prefix: Any = None, *,
    automation_condition: Any = None, backfill_policy: Any = None, source_key_prefix: Any = None,
    include_specs: bool = False, **kwargs: Any,
) -> list[Any]:
    """Every asset defined in a package and its submodules."""
    return load_assets_from_modules(_package_modules(package_module), group_name, key_prefix,
                                    source_key_prefix=source_key_prefix, include_specs=include_specs)


def load_assets_from_package_name(
    package_name: str, group_name: str | None = None, key_prefix: Any = None, *, backfill_policy: Any = None,
    source_key_prefix: Any = None, include_specs: bool = False, **kwargs: Any,
) -> list[Any]:
    """Every asset defined in the named package and its submodules."""
    import importlib

    return load_assets_from_package_module(importlib.import_module(package_name), group_name, key_prefix,
                                           source_key_prefix=source_key_prefix, include_specs=include_specs)


def load_asset_checks_from_package_module(package_module: ModuleType, asset_key_prefix: Any = None) -> list[AssetChecksDefinition]:
    return load_asset_checks_from_modules(_package_modules(package_module), asset_key_prefix)


def load_asset_checks_from_package_name(package_name: str, asset_key_prefix: Any = None) -> list[AssetChecksDefinition]:
    import importlib

    return load_asset_checks_from_package_module(importlib.import_module(package_name), asset_key_prefix)


def map_asset_specs(func: Any, iterable: Iterable[Any]) -> list[Any]:
    """Apply `func` to every `AssetSpec`, and to the specs inside every `AssetsDefinition`.

    Example:
        >>> assets = map_asset_specs(lambda spec: spec.replace_attributes(group_name="raw"), assets)
    """
    result = []
    for item in iterable:
        if isinstance(item, AssetSpec):
            result.append(func(item))
        elif isinstance(item, AssetsDefinition):
            result.append(item.map_asset_specs(func))
        else:
            result.append(item)
    return result


def _caller_module() -> ModuleType:
    frame = inspect.stack()[2]
    module = inspect.getmodule(frame[0])
    if module is None:
        name = frame[0].f_globals.get("__name__")
        module = sys.modules.get(name) if name else None
    if module is None:
        raise DagsterInvalidDefinitionError("Could not find the calling module.")
    return module


def _keys_of(item: Any) -> list[AssetKey]:
    if isinstance(item, AssetsDefinition):
        return sorted(item.keys)
    return [item.key]


def _with_prefixes_and_groups(items: list[Any], key_prefix: Any, source_key_prefix: Any, group_name: str | None) -> list[Any]:
    prefix = coerce_key_prefix(key_prefix) if key_prefix else []
    source_prefix = coerce_key_prefix(source_key_prefix) if source_key_prefix else []
    own_keys = {k for item in items if isinstance(item, AssetsDefinition) for k in item.keys}
    replacements: dict[AssetKey, AssetKey] = {}
    if prefix:
        replacements.update({k: k.with_prefix(prefix) for k in own_keys})
    if source_prefix:
        sources = {item.key for item in items if isinstance(item, SourceAsset)}
        upstream = {k for item in items if isinstance(item, AssetsDefinition) for k in item.dependency_keys}
        replacements.update({k: k.with_prefix(source_prefix) for k in (sources | upstream) - own_keys})
    result = []
    for item in items:
        if isinstance(item, AssetsDefinition):
            groups = {k: group_name for k in item.keys} if group_name else None
            if groups:  # a group set on the asset itself wins over nothing: Dagster refuses to override it
                for key, existing in item.group_names_by_key.items():
                    if existing not in (None, "default", group_name):
                        raise DagsterInvalidDefinitionError(
                            f"Asset spec {replacements.get(key, key).to_user_string()} has group name {existing}, "
                            f"which conflicts with the group name {group_name} provided in load_assets_from_modules."
                        )
            if replacements or groups:
                item = item.with_attributes(asset_key_replacements=replacements, group_names_by_key=groups)
        elif isinstance(item, SourceAsset):
            if group_name and item.group_name not in (None, "default", group_name):
                raise DagsterInvalidDefinitionError(
                    f"Attempted to override group name to {group_name} for SourceAsset {item.key.to_user_string()}, "
                    f"which already has group name {item.group_name}. {item.key.to_user_string()}"
                )
            if replacements.get(item.key) or group_name:
                item = item.with_attributes(key=replacements.get(item.key), group_name=group_name)
        elif isinstance(item, AssetSpec):
            changes: dict[str, Any] = {}
            if item.key in replacements:
                changes["key"] = replacements[item.key]
            if group_name:
                changes["group_name"] = group_name
            if changes:
                item = item.replace_attributes(**changes)
        result.append(item)
    return result
