"""What asset and check bodies report: materializations, observations, check results, and the
payloads of the ASSET_* events built from them."""

from __future__ import annotations

import enum
import types
from typing import Any, NamedTuple

from orchestra._core.assets.keys import AssetCheckKey, AssetKey, coerce_asset_key, event_asset_key
from orchestra._errors import DagsterInvariantViolationError


def _metadata(raw: Any) -> dict[str, Any]:
    if not raw:
        return {}
    from orchestra._core.metadata import normalize_metadata

    return normalize_metadata(raw, allow_invalid=True)


class AssetCheckSeverity(enum.Enum):
    """How bad a failed check is: `WARN` never blocks, `ERROR` fails a blocking check's step."""

    WARN = "WARN"
    ERROR = "ERROR"


class _AssetEvent:
    """Shared shape of `AssetMaterialization` and `AssetObservation`."""

    __slots__ = ("asset_key", "description", "metadata", "partition", "tags")

    def __init__(self, asset_key: Any, description: str | None = None, metadata: Any = None,
                 partition: str | None = None, tags: dict[str, str] | None = None):
        self.asset_key = event_asset_key(asset_key)
        self.description = description
        self.metadata = _metadata(metadata)
        self.partition = partition
        self.tags = dict(tags) if tags else None

    @property
    def label(self) -> str:
        return self.asset_key.to_user_string()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and all(getattr(self, s) == getattr(other, s) for s in self.__slots__)

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.asset_key, self.partition))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(asset_key={self.asset_key!r}, description={self.description!r}, "
            f"metadata={self.metadata!r}, partition={self.partition!r}, tags={self.tags!r})"
        )

    def _with(self, **changes: Any) -> Any:
        values = {s: getattr(self, s) for s in self.__slots__}
        values.update(changes)
        copy = object.__new__(type(self))
        for key, value in values.items():
            setattr(copy, key, value)
        return copy


class AssetMaterialization(_AssetEvent):
    """Records that an asset was written; yield or `context.log_event` it from an op or asset.

    Example:
        >>> @op
        ... def write(context):
        ...     context.log_event(AssetMaterialization("report", metadata={"rows": 10}))
    """

    @staticmethod
    def file(path: str, description: str | None = None, asset_key: Any = None) -> AssetMaterialization:
        from orchestra._core.metadata import MetadataValue

        return AssetMaterialization(asset_key or path, description, {"path": MetadataValue.path(path)})


class AssetObservation(_AssetEvent):
    """Records something seen about an asset without it being written.

    Example:
        >>> yield AssetObservation("orders", metadata={"row_count": 3})
    """


class AssetCheckResult:
    """The outcome of an asset check.

    Example:
        >>> @asset_check(asset=orders)
        ... def has_rows(orders):
        ...     return AssetCheckResult(passed=len(orders) > 0, metadata={"rows": len(orders)})
    """

    __slots__ = ("passed", "asset_key", "check_name", "metadata", "severity", "description")

    def __init__(self, *, passed: bool, asset_key: Any = None, check_name: str | None = None, metadata: Any = None,
                 severity: AssetCheckSeverity = AssetCheckSeverity.ERROR, description: str | None = None):
        if not isinstance(passed, bool):
            raise DagsterInvariantViolationError(f"AssetCheckResult passed must be a bool, got {passed!r}.")
        self.passed = passed
        self.asset_key = coerce_asset_key(asset_key) if asset_key is not None else None
        self.check_name = check_name
        self.metadata = _metadata(metadata)
        self.severity = AssetCheckSeverity(severity)
        self.description = description

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AssetCheckResult) and all(getattr(self, s) == getattr(other, s) for s in self.__slots__)

    def __hash__(self) -> int:
        return hash((self.passed, self.asset_key, self.check_name))

    def __repr__(self) -> str:
        return (
            f"AssetCheckResult(passed={self.passed!r}, asset_key={self.asset_key!r}, check_name={self.check_name!r}, "
            f"metadata={self.metadata!r}, severity={self.severity!r}, description={self.description!r})"
        )


class _NoValue:
    def __repr__(self) -> str:
        return "<no value>"


NO_VALUE = _NoValue()


class MaterializeResult:
    """Returned by an asset that stores its own data: metadata and check results, no IO manager call.

    Example:
        >>> @asset
        ... def table() -> MaterializeResult:
        ...     write_table()
        ...     return MaterializeResult(metadata={"rows": 42})
    """

    def __init__(self, *, asset_key: Any = None, metadata: Any = None, check_results: Any = None,
                 data_version: Any = None, tags: dict[str, str] | None = None, value: Any = NO_VALUE):
        self.asset_key = coerce_asset_key(asset_key) if asset_key is not None else None
        self.metadata = dict(metadata or {})
        self.check_results = list(check_results or [])
        self.data_version = data_version
        self.tags = dict(tags) if tags else None
        self.value = value

    def __repr__(self) -> str:
        return f"{type(self).__name__}(asset_key={self.asset_key!r}, metadata={self.metadata!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(self) == vars(other)

    __hash__ = None  # type: ignore[assignment]

    # `-> MaterializeResult[int]` annotations, as in Dagster
    __class_getitem__ = classmethod(types.GenericAlias)


class ObserveResult(MaterializeResult):
    """Returned by an observation function (`@observable_source_asset`): metadata, data version, checks."""

    def __init__(self, *, asset_key: Any = None, metadata: Any = None, check_results: Any = None,
                 data_version: Any = None, tags: dict[str, str] | None = None):
        super().__init__(asset_key=asset_key, metadata=metadata, check_results=check_results,
                         data_version=data_version, tags=tags)


class DataVersion(NamedTuple):
    """An opaque version string of an asset's data."""

    value: str


# --- event payloads -----------------------------------------------------------------------------


class AssetMaterializationPlannedData(NamedTuple):
    asset_key: AssetKey
    partition: str | None = None
    partitions_subset: Any = None


class AssetCheckEvaluationPlanned(NamedTuple):
    asset_key: AssetKey
    check_name: str
    partitions_subset: Any = None

    @property
    def asset_check_key(self) -> AssetCheckKey:
        return AssetCheckKey(self.asset_key, self.check_name)


class AssetCheckEvaluationTargetMaterializationData(NamedTuple):
    storage_id: int | None
    run_id: str
    timestamp: float


class AssetCheckEvaluation(NamedTuple):
    """The stored outcome of one check execution (the ASSET_CHECK_EVALUATION payload)."""

    asset_key: AssetKey
    check_name: str
    passed: bool
    metadata: dict[str, Any] = {}
    target_materialization_data: AssetCheckEvaluationTargetMaterializationData | None = None
    severity: AssetCheckSeverity = AssetCheckSeverity.ERROR
    description: str | None = None
    blocking: bool | None = None
    partition: str | None = None

    @property
    def asset_check_key(self) -> AssetCheckKey:
        return AssetCheckKey(self.asset_key, self.check_name)
