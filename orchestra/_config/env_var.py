"""`EnvVar`: a reference to an environment variable, resolved when config is processed, not when written."""

from __future__ import annotations

import os
from typing import Any


def _direct_access_error(cls: type, name: str) -> RuntimeError:
    return RuntimeError(
        f'Attempted to directly retrieve environment variable {cls.__name__}("{name}"). {cls.__name__} defers '
        "resolution of the environment variable value until run time, and should only be used as input to "
        f"Dagster config or resources.\n\nTo access the environment variable value, call `get_value` on the "
        f"{cls.__name__}, or use os.getenv directly."
    )


class IntEnvVar(int):
    """An environment variable whose value is an int; made with `EnvVar.int("NAME")`."""

    name: str

    @classmethod
    def create(cls, name: str) -> IntEnvVar:
        var = cls(0)
        var.name = name
        return var

    def __int__(self) -> int:
        raise _direct_access_error(type(self), self.name)

    def __str__(self) -> str:
        raise _direct_access_error(type(self), self.name)

    def __repr__(self) -> str:
        return f"IntEnvVar({self.name!r})"

    @property
    def env_var_name(self) -> str:
        return self.name

    def get_value(self, default: int | None = None) -> int | None:
        value = os.getenv(self.name, default=default)  # type: ignore[arg-type]
        return int(value) if value else None


class EnvVar(str):
    """The name of an environment variable whose value config should receive at run time.

    Reading it as a string raises, so a secret is never baked into a definition by accident;
    call `get_value()` to read the variable now.

    Example:
        ```python
        class DbConfig(dg.Config):
            password: str

        dg.RunConfig(ops={"query": DbConfig(password=dg.EnvVar("DB_PASSWORD"))})
        ```
    """

    @classmethod
    def int(cls, name: str) -> IntEnvVar:
        return IntEnvVar.create(name)

    def __str__(self) -> str:
        raise _direct_access_error(type(self), self.env_var_name)

    @property
    def env_var_name(self) -> str:
        return str.__str__(self)

    def get_value(self, default: str | None = None) -> str | None:
        return os.getenv(self.env_var_name, default=default)


def is_env_var(value: Any) -> bool:
    return isinstance(value, (EnvVar, IntEnvVar))


def env_var_to_config_dict(value: EnvVar | IntEnvVar) -> dict[str, str]:
    """The run-config form of an env var reference: `{"env": NAME}`."""
    return {"env": value.env_var_name}
