"""Packages that import their modules on first use of a name (PEP 562), so loading a code location imports only
what it uses."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_getattr(package: str, exports: Mapping[str, str], namespace: dict[str, Any]) -> Callable[[str], object]:
    """A module `__getattr__` for `package`: a name in `exports` (name -> submodule of `package`) is imported from its
    submodule on first use and kept in `namespace` (the package's globals), so later lookups do not come here."""

    def __getattr__(name: str) -> object:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value
        return value

    return __getattr__
