"""What op bodies return or yield: `Output`, `DynamicOutput` and `ExpectationResult`."""

from __future__ import annotations

import re
import types
from typing import Any, NamedTuple

from orchestra._errors import DagsterInvalidDefinitionError

_MAPPING_KEY = re.compile(r"^[A-Za-z0-9_]+$")


class Output:
    """A value for one of the op's outputs, with optional metadata.

    Example:
        >>> @op(out={"a": Out(), "b": Out()})
        ... def two():
        ...     yield Output(1, "a", metadata={"rows": 1})
        ...     yield Output(2, "b")
    """

    __slots__ = ("value", "output_name", "metadata", "data_version", "tags")

    # `-> Output[int]` annotations, as in Dagster (the op's output type is then `int`)
    __class_getitem__ = classmethod(types.GenericAlias)

    def __init__(
        self,
        value: Any,
        output_name: str = "result",
        metadata: dict[str, Any] | None = None,
        data_version: Any = None,
        *,
        tags: dict[str, str] | None = None,
    ):
        from orchestra._core.metadata import normalize_metadata

        self.value = value
        self.output_name = output_name
        self.metadata = normalize_metadata(metadata) if metadata else {}
        self.data_version = data_version
        self.tags = tags or {}

    @property
    def mapping_key(self) -> str | None:
        return None

    def __repr__(self) -> str:
        return f"Output(value={self.value!r}, output_name={self.output_name!r})"

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and self.value == other.value  # type: ignore[attr-defined]
            and self.output_name == other.output_name  # type: ignore[attr-defined]
            and self.metadata == other.metadata  # type: ignore[attr-defined]
            and self.mapping_key == other.mapping_key  # type: ignore[attr-defined]
        )


class DynamicOutput(Output):
    """One value of a `DynamicOut`, identified by a unique `mapping_key` (letters, digits, underscores).

    Example:
        >>> @op(out=DynamicOut())
        ... def chunks():
        ...     for i in range(3):
        ...         yield DynamicOutput(i, mapping_key=str(i))
    """

    __slots__ = ("_mapping_key",)

    def __init__(
        self,
        value: Any,
        mapping_key: str,
        output_name: str = "result",
        metadata: dict[str, Any] | None = None,
        *,
        tags: dict[str, str] | None = None,
    ):
        if not isinstance(mapping_key, str) or not _MAPPING_KEY.match(mapping_key):
            raise DagsterInvalidDefinitionError(
                f'"{mapping_key}" is not a valid name in Dagster. Names must be in regex {_MAPPING_KEY.pattern}.'
            )
        super().__init__(value, output_name, metadata, tags=tags)
        self._mapping_key = mapping_key

    @property
    def mapping_key(self) -> str:
        return self._mapping_key

    def __repr__(self) -> str:
        return f"DynamicOutput(value={self.value!r}, mapping_key={self._mapping_key!r}, output_name={self.output_name!r})"


class _ExpectationResultFields(NamedTuple):
    success: bool
    label: str
    description: str | None
    metadata: dict[str, Any]


class ExpectationResult(_ExpectationResultFields):
    """The outcome of a data-quality check made inside an op; yield it or pass it to `context.log_event`.

    Example:
        >>> @op
        ... def check_rows(context, rows: list):
        ...     yield ExpectationResult(success=len(rows) > 0, label="non_empty", metadata={"rows": len(rows)})
        ...     yield Output(rows)
    """

    def __new__(
        cls, success: bool, label: str | None = None, description: str | None = None, metadata: Any = None
    ) -> ExpectationResult:
        from orchestra._core.metadata import normalize_metadata

        return super().__new__(
            cls, bool(success), label or "result", description, normalize_metadata(metadata or {}, allow_invalid=True)
        )
