"""`StringSource`, `IntSource`, `BoolSource`: a scalar written inline, or `{env: VAR}` read at processing time."""

from __future__ import annotations

import os
from typing import Any

from orchestra._config.types import PostProcessingError, ScalarUnion, Selector


def _read_env(name: str) -> str:
    value = os.getenv(name)
    if value is None:
        raise PostProcessingError(
            f'You have attempted to fetch the environment variable "{name}" which is not set. In order for this '
            "execution to succeed it must be set in this environment."
        )
    return value


class _SourceType(ScalarUnion):
    def __init__(self, scalar: type, key: str):
        super().__init__(scalar_type=scalar, non_scalar_schema=Selector({"env": str}), _key=key)

    def post_process(self, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        (_, name), = value.items()
        return self.coerce(name, _read_env(name))

    def coerce(self, name: str, raw: str) -> Any:
        return raw


class StringSourceType(_SourceType):
    def __init__(self) -> None:
        super().__init__(str, "StringSourceType")


class IntSourceType(_SourceType):
    def __init__(self) -> None:
        super().__init__(int, "IntSourceType")

    def coerce(self, name: str, raw: str) -> Any:
        try:
            return int(raw)
        except ValueError:
            pass  # raised outside the except block so the env var's value is not chained into the error
        raise PostProcessingError(f'Value stored in env variable "{name}" cannot be coerced into an int.')


class BoolSourceType(_SourceType):
    def __init__(self) -> None:
        super().__init__(bool, "BoolSourceType")

    def coerce(self, name: str, raw: str) -> Any:
        return raw.lower() not in {"false", "none", "0", ""}


StringSource = StringSourceType()
IntSource = IntSourceType()
BoolSource = BoolSourceType()
