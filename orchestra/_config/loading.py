"""Run config from YAML: files (globs), strings and package resources, deep-merged left to right."""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence
from glob import glob
from typing import Any

from orchestra._errors import DagsterInvariantViolationError


def _loader() -> type:
    import yaml

    class _RunConfigLoader(yaml.SafeLoader):
        """SafeLoader that leaves date-like scalars as strings, as run config expects."""

    _RunConfigLoader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return _RunConfigLoader


def _deep_merge(onto: dict[Any, Any], new: Mapping[Any, Any]) -> dict[Any, Any]:
    merged = copy.deepcopy(onto)
    for key, value in new.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _merge_documents(documents: Sequence[Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for document in documents:
        document = document or {}
        if not isinstance(document, dict):
            raise DagsterInvariantViolationError(f'Expected YAML dictionary, instead got: "{document!s}"')
        merged = _deep_merge(merged, document)
    return merged


def config_from_files(config_files: Sequence[str]) -> Mapping[str, Any]:
    """Load and deep-merge YAML run config files (glob patterns allowed); later files win.

    Example:
        ```python
        run_config = dg.config_from_files(["base.yaml", "overrides/*.yaml"])
        ```
    """
    import yaml

    filenames: list[str] = []
    for pattern in config_files or []:
        matches = glob(pattern)
        if not matches:
            raise DagsterInvariantViolationError(
                f'File or glob pattern "{pattern}" for "config_files" produced no results.'
            )
        filenames += [os.path.realpath(match) for match in matches]
    try:
        documents = []
        for filename in filenames:
            with open(filename, encoding="utf8") as stream:
                documents.append(yaml.load(stream, Loader=_loader()))
    except yaml.YAMLError as err:
        raise DagsterInvariantViolationError(
            f"Encountered error attempting to parse yaml. Parsing files {filenames} loaded by file/patterns "
            f"{config_files}."
        ) from err
    return _merge_documents(documents)


def config_from_yaml_strings(yaml_strings: Sequence[str]) -> Mapping[str, Any]:
    """Parse and deep-merge YAML strings of run config; later strings win."""
    import yaml

    if isinstance(yaml_strings, str) or not all(isinstance(s, str) for s in yaml_strings):
        raise TypeError('Param "yaml_strings" must be a sequence of str.')
    try:
        documents = [yaml.load(text, Loader=_loader()) for text in yaml_strings]
    except yaml.YAMLError as err:
        raise DagsterInvariantViolationError(
            f"Encountered error attempting to parse yaml. Parsing YAMLs {yaml_strings} "
        ) from err
    return _merge_documents(documents)


def config_from_pkg_resources(pkg_resource_defs: Sequence[tuple[str, str]]) -> Mapping[str, Any]:
    """Load YAML run config shipped inside packages: `[("my_pkg.config", "prod.yaml"), ...]`."""
    import importlib.resources

    try:
        texts = [
            importlib.resources.files(package).joinpath(filename).read_text()
            for package, filename in pkg_resource_defs
        ]
    except (ModuleNotFoundError, FileNotFoundError, UnicodeDecodeError) as err:
        raise DagsterInvariantViolationError(
            "Encountered error attempting to parse yaml. Loading YAMLs from package resources "
            f"{pkg_resource_defs}."
        ) from err
    return config_from_yaml_strings(texts)
