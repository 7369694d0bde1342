"""`RunConfig`: run config written with `Config` instances, turned into the plain dict the validator takes."""

from __future__ import annotations

import sys
from typing import Any


def _is_config_instance(value: object) -> bool:
    pythonic = sys.modules.get("orchestra._config.pythonic")  # no Config instance can exist before it loads
    return pythonic is not None and isinstance(value, pythonic.Config)


def _convert_config_classes(configs: Any) -> Any:
    if not isinstance(configs, dict):
        return configs
    return {
        key: {"config": value._convert_to_config_dictionary()}
        if _is_config_instance(value)
        else _convert_config_classes(value)
        for key, value in configs.items()
    }


class RunConfig:
    """All the config for a run, with op/asset and resource config given as `Config` instances.

    Example:
        ```python
        class MyAssetConfig(dg.Config):
            a_str: str

        dg.materialize([my_asset], run_config=dg.RunConfig(ops={"my_asset": MyAssetConfig(a_str="foo")}))
        ```
    """

    def __init__(
        self,
        ops: dict[str, Any] | None = None,
        resources: dict[str, Any] | None = None,
        loggers: dict[str, Any] | None = None,
        execution: dict[str, Any] | None = None,
    ):
        for name, value in (("ops", ops), ("resources", resources), ("loggers", loggers), ("execution", execution)):
            if value is not None and not isinstance(value, dict):
                raise TypeError(f'Param "{name}" is not a dict. Got {value!r} which is type {type(value)}.')
        self.ops = dict(ops or {})
        self.resources = dict(resources or {})
        self.loggers = dict(loggers or {})
        self.execution = dict(execution or {})

    def to_config_dict(self) -> dict[str, Any]:
        """The plain run-config dict: each `Config` instance becomes `{"config": {...}}`."""
        return {
            "loggers": self.loggers,
            "resources": _convert_config_classes(self.resources),
            "ops": _convert_config_classes(self.ops),
            "execution": self.execution,
        }

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RunConfig) and self.to_config_dict() == other.to_config_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RunConfig(ops={self.ops!r}, resources={self.resources!r}, loggers={self.loggers!r}, execution={self.execution!r})"


def convert_config_input(value: Any) -> Any:
    """Accept a `RunConfig` or a plain dict wherever run config is taken; return the plain dict."""
    return value.to_config_dict() if isinstance(value, RunConfig) else value
