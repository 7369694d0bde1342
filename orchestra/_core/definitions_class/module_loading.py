"""Finding definitions in Python code: `load_definitions_from_module(s)` and friends, and `load_definitions`,
the loader the code-location server and the run worker use (python file, module or package; an
optional attribute; errors name the file or module and keep the user's traceback).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import pkgutil
import sys
import traceback
from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import Any

from orchestra._core.definitions_class.definitions import Definitions
from orchestra._core.definitions_class.lazy import LazyDefinitions
from orchestra._core.definitions_class.repository import RepositoryDefinition
from orchestra._core.definitions_class.repository_data import _kind
from orchestra._errors import DagsterInvalidDefinitionError, DagsterInvariantViolationError

_LOADABLE_KINDS = ("assets", "checks", "spec", "source_asset", "job", "unresolved_job", "schedule", "sensor")


class DefinitionsLoadError(DagsterInvariantViolationError):
    """User code could not be imported or holds no usable definitions; the message names where and why."""


def _module_items(module: ModuleType) -> Iterable[tuple[str, Any]]:
    for name, value in list(vars(module).items()):
        if name.startswith("__"):
            continue
        if isinstance(value, (list, tuple)):
            for item in value:
                yield name, item
        else:
            yield name, value


def _collect(modules: Iterable[ModuleType]) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {k: [] for k in ("assets", "asset_checks", "jobs", "schedules", "sensors")}
    seen: set[int] = set()
    key_owner: dict[Any, tuple[Any, list[str]]] = {}
    for module in modules:
        for _, value in _module_items(module):
            kind = _kind(value)
            if kind not in _LOADABLE_KINDS:
                continue
            if kind in ("assets", "spec", "source_asset"):
                keys = [value.key] if kind in ("spec", "source_asset") else list(value.keys)
                for key in keys:
                    owner = key_owner.get(key)
                    if owner is None:
                        key_owner[key] = (value, [module.__name__])
                    elif owner[0] is not value and owner[0] != value:
                        modules_found = [module.__name__, *owner[1]]
                        raise DagsterInvalidDefinitionError(
                            f"Asset key {'/'.join(key.path)} is defined multiple times. Definitions found in modules: "
                            f"{', '.join(dict.fromkeys(modules_found))}."
                        )
            if id(value) in seen:
                continue
            seen.add(id(value))
            section = {
                "assets": "assets", "spec": "assets", "source_asset": "assets", "checks": "asset_checks",
                "job": "jobs", "unresolved_job": "jobs", "schedule": "schedules", "sensor": "sensors",
            }[kind]
            found[section].append(value)
    return found


def load_definitions_from_modules(modules: Iterable[ModuleType], resources: Mapping[str, Any] | None = None,
                                  loggers: Mapping[str, Any] | None = None, executor: Any = None) -> Definitions:
    """A `Definitions` with every asset, check, job, schedule and sensor found at the top of `modules`.

    Example:
        >>> from my_project import ingest, reports
        >>> defs = load_definitions_from_modules([ingest, reports], resources={"db": db})
    """
    found = _collect(modules)
    return Definitions(
        assets=found["assets"], asset_checks=found["asset_checks"], jobs=found["jobs"],
        schedules=found["schedules"], sensors=found["sensors"], resources=resources, loggers=loggers,
        executor=executor,
    )


def load_definitions_from_module(module: ModuleType, resources: Mapping[str, Any] | None = None,
                                 loggers: Mapping[str, Any] | None = None, executor: Any = None) -> Definitions:
    """`load_definitions_from_modules([module], ...)`."""
    return load_definitions_from_modules([module], resources=resources, loggers=loggers, executor=executor)


def load_definitions_from_current_module(resources: Mapping[str, Any] | None = None,
                                         loggers: Mapping[str, Any] | None = None, executor: Any = None) -> Definitions:
    """The definitions in the module that calls this (call it at the end of the module)."""
    caller = inspect.stack()[1]
    module = inspect.getmodule(caller[0])
    if module is None:
        raise DagsterInvariantViolationError("Could not find a module for the caller")
    return load_definitions_from_module(module, resources=resources, loggers=loggers, executor=executor)


def _package_modules(package: ModuleType) -> list[ModuleType]:
    modules = [package]
    path = getattr(package, "__path__", None)
    if path is not None:
        for info in pkgutil.walk_packages(path, prefix=package.__name__ + "."):
            modules.append(importlib.import_module(info.name))
    return modules


def load_definitions_from_package_module(package_module: ModuleType, resources: Mapping[str, Any] | None = None,
                                         loggers: Mapping[str, Any] | None = None, executor: Any = None) -> Definitions:
    """The definitions in a package and all its submodules."""
    return load_definitions_from_modules(_package_modules(package_module), resources=resources, loggers=loggers,
                                         executor=executor)


def load_definitions_from_package_name(package_name: str, resources: Mapping[str, Any] | None = None,
                                       loggers: Mapping[str, Any] | None = None, executor: Any = None) -> Definitions:
    return load_definitions_from_package_module(importlib.import_module(package_name), resources=resources,
                                                loggers=loggers, executor=executor)


# --- the loader for code locations and run workers ----------------------------------------------------------


def load_definitions(python_file: str | None = None, module_name: str | None = None, package_name: str | None = None,
                     attribute: str | None = None, working_directory: str | None = None) -> Definitions:
    """Import user code and return its `Definitions`.

    Exactly one of `python_file`, `module_name` or `package_name`. With `attribute`, that top-level name
    is used (a `Definitions`, a `RepositoryDefinition`, a job, or a function returning one); without it,
    the single `Definitions` at module scope, else the single `@repository`, else the single job.
    `working_directory` (default: the current directory, or the file's directory) is put first on
    `sys.path` while importing. Raises `DefinitionsLoadError` naming the file or module; an import
    failure keeps the user's exception as `__cause__` and its traceback in the message.
    """
    given = [v for v in (python_file, module_name, package_name) if v]
    if len(given) != 1:
        raise DefinitionsLoadError("Exactly one of python_file, module_name or package_name must be given.")
    where = f'file "{python_file}"' if python_file else f'module "{module_name or package_name}"'
    module = _import_user_code(python_file, module_name or package_name, working_directory, where)
    if attribute:
        if not hasattr(module, attribute):
            raise DefinitionsLoadError(f'Attribute "{attribute}" not found in {where}.')
        return _as_definitions(getattr(module, attribute), f'attribute "{attribute}" of {where}')
    return _find_definitions(module, where)


def _import_user_code(python_file: str | None, module_name: str | None, working_directory: str | None,
                      where: str) -> ModuleType:
    if python_file:
        path = os.path.abspath(python_file)
        if not os.path.isfile(path):
            raise DefinitionsLoadError(f"Could not load {where}: no such file.")
        search_dir = os.path.abspath(working_directory) if working_directory else os.path.dirname(path)
    else:
        search_dir = os.path.abspath(working_directory or os.getcwd())
    added = search_dir not in sys.path
    if added:
        sys.path.insert(0, search_dir)
    try:
        if python_file:
            name = os.path.splitext(os.path.basename(path))[0]
            spec = importlib.util.spec_from_file_location(name, path)
            if spec is None or spec.loader is None:
                raise DefinitionsLoadError(f"Could not load {where}: not a Python file.")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:
                sys.modules.pop(name, None)
                raise
            return module
        assert module_name is not None
        return importlib.import_module(module_name)
    except DefinitionsLoadError:
        raise
    except Exception as exc:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        raise DefinitionsLoadError(f"Error while importing {where}:\n{text}") from exc
    finally:
        if added and search_dir in sys.path:
            sys.path.remove(search_dir)


def _as_definitions(value: Any, what: str) -> Definitions:
    if isinstance(value, LazyDefinitions):
        value = value()
    if isinstance(value, Definitions):
        return value
    if isinstance(value, RepositoryDefinition):
        return definitions_from_repository(value)
    if _kind(value) in ("job", "graph", "unresolved_job"):
        job = value.to_job() if _kind(value) == "graph" else value
        return Definitions(jobs=[job])
    if inspect.isfunction(value) and not inspect.signature(value).parameters:
        return _as_definitions(value(), what)
    raise DefinitionsLoadError(
        f"Loadable attributes must be either a Definitions object, a RepositoryDefinition, a JobDefinition or a "
        f"GraphDefinition; {what} is of type {type(value).__name__}."
    )


def _find_definitions(module: ModuleType, where: str) -> Definitions:
    top_level = [(n, v) for n, v in vars(module).items() if not n.startswith("__")]
    lazy = [(n, v) for n, v in top_level if isinstance(v, LazyDefinitions)]
    if len(lazy) > 1:
        raise DefinitionsLoadError(
            f"Cannot have more than one function decorated with @definitions defined at module scope in {where}. "
            f"Found: {', '.join(n for n, _ in lazy)}"
        )
    if lazy:
        return _as_definitions(lazy[0][1], where)
    defs = [(n, v) for n, v in top_level if isinstance(v, Definitions)]
    if len(defs) == 1:
        return defs[0][1]
    if len(defs) > 1:
        raise DefinitionsLoadError(
            f"Cannot have more than one Definitions object defined at module scope in {where}. Found Definitions "
            f"objects: {', '.join(n for n, _ in defs)}"
        )
    repos = [(n, v) for n, v in top_level if isinstance(v, RepositoryDefinition)]
    if len(repos) == 1:
        return definitions_from_repository(repos[0][1])
    if len(repos) > 1:
        raise DefinitionsLoadError(
            f"No Definitions object and more than one repository found in {where}: "
            f"{', '.join(n for n, _ in repos)}. Use an attribute to pick one."
        )
    jobs = [(n, v) for n, v in top_level if _kind(v) in ("job", "graph")]
    if len(jobs) == 1:
        return _as_definitions(jobs[0][1], where)
    raise DefinitionsLoadError(
        f"No Definitions, RepositoryDefinition, Job, Pipeline, Graph, or AssetGroup found in {where}."
        if not jobs
        else f"No Definitions object found in {where}, and more than one job: {', '.join(n for n, _ in jobs)}."
    )


def definitions_from_repository(repository: RepositoryDefinition) -> Definitions:
    """A `Definitions` standing for an already built legacy repository."""
    data = repository.repository_data
    defs = Definitions(
        assets=[*data.assets_defs, *data.source_assets], asset_checks=data.asset_checks_defs,
        schedules=repository.schedule_defs, sensors=repository.sensor_defs,
        resources=repository.get_top_level_resources() or None, metadata=repository.metadata,
    )
    defs._repository = repository
    return defs
