"""The builtin scalar markers (`Any`, `Bool`, `Float`, `Int`, `String`, `Nothing`).

Like Dagster's, each is usable both in a config schema (where the config system maps it to a
config scalar) and as a `dagster_type` on `In`/`Out` (where the type system maps it to a DagsterType).
This module imports nothing so both sides can depend on it.
"""

from __future__ import annotations

import enum


class BuiltinEnum(enum.Enum):
    ANY = "Any"
    BOOL = "Bool"
    FLOAT = "Float"
    INT = "Int"
    STRING = "String"
    NOTHING = "Nothing"

    def __repr__(self) -> str:
        return f"orchestra.{self.value}"


Any = BuiltinEnum.ANY
Bool = BuiltinEnum.BOOL
Float = BuiltinEnum.FLOAT
Int = BuiltinEnum.INT
String = BuiltinEnum.STRING
Nothing = BuiltinEnum.NOTHING
