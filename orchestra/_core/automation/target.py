"""What a schedule or sensor launches (a job, a job name or an asset selection), and the checks all
automation definitions share: names, owners, metadata."""

from __future__ import annotations

import keyword
import re
import warnings
from collections.abc import Sequence
from typing import Any

from orchestra._errors import DagsterInvalidDefinitionError

ANONYMOUS_ASSET_JOB_PREFIX = "__anonymous_asset_job"
_NAME = re.compile(r"^[A-Za-z0-9_]+$")
_RESERVED_NAMES = frozenset(
    ["context", "conf", "config", "meta", "arg_dict", "dict", "input_arg_dict", "output_arg_dict", "int",
     "str", "float", "bool", "input", "output", "type", *keyword.kwlist]
)


def check_valid_name(name: str) -> str:
    """`name` if it is a valid definition name; DagsterInvalidDefinitionError otherwise."""
    if not isinstance(name, str):
        raise DagsterInvalidDefinitionError(f"Name must be a str, got {name!r}")
    if name in _RESERVED_NAMES:
        raise DagsterInvalidDefinitionError(
            f'"{name}" is not a valid name in Dagster. It conflicts with a Dagster or python reserved keyword.'
        )
    if not _NAME.match(name):
        raise DagsterInvalidDefinitionError(
            f'"{name}" is not a valid name in Dagster. Names must be in regex ^[A-Za-z0-9_]+$.'
        )
    return name


def _definition_classes() -> tuple[type, ...]:
    try:  # the execution core may still be under construction; job objects are duck-typed meanwhile
        from orchestra._core.definitions.graph import GraphDefinition
        from orchestra._core.definitions.job import JobDefinition
    except ImportError:
        return ()
    return (JobDefinition, GraphDefinition)


def is_job_like(value: Any) -> bool:
    """True for job definitions, graphs and unresolved asset jobs (anything launchable by name)."""
    if isinstance(value, _definition_classes()):
        return True
    return type(value).__name__.endswith(("JobDefinition", "GraphDefinition")) and hasattr(value, "name")


def _as_job(value: Any) -> Any:
    classes = _definition_classes()
    graph_class = classes[1] if classes else None
    if graph_class is not None and isinstance(value, graph_class) and not isinstance(value, classes[0]):
        warnings.warn(
            "Passing GraphDefinition as a job/target argument to ScheduleDefinition and SensorDefinition is "
            "deprecated and will be removed in 2.0.",
            DeprecationWarning,
            stacklevel=4,
        )
        return value.to_job()
    return value


class AutomationTarget:
    """One job a schedule or sensor launches: the job object when given, else only its name.

    An asset selection target becomes an anonymous asset job named `__anonymous_asset_job_<name>`;
    `asset_selection` keeps what the user passed so the repository can build that job.
    """

    __slots__ = ("asset_selection", "assets_defs", "job", "job_name")

    def __init__(self, job: Any = None, job_name: str | None = None, asset_selection: Any = None, assets_defs: Sequence[Any] = ()):
        self.job = job
        self.job_name: str = job_name if job_name is not None else job.name
        self.asset_selection = asset_selection
        self.assets_defs = list(assets_defs)

    @property
    def has_job_def(self) -> bool:
        return self.job is not None

    @classmethod
    def from_job(cls, job: Any) -> AutomationTarget:
        job = _as_job(job)
        if not isinstance(getattr(job, "name", None), str):
            raise DagsterInvalidDefinitionError(f"Invalid job passed to schedule/sensor: {job!r} has no name.")
        return cls(job=job)

    @classmethod
    def from_coercible(cls, target: Any, automation_name: str | None, what: str = "schedule") -> AutomationTarget:
        """A target from `target=`: a job, or anything an asset selection can be made from."""
        if is_job_like(target):
            return cls.from_job(target)
        if automation_name is None:
            raise DagsterInvalidDefinitionError(f"If you specify target you must specify {what} name")
        if not _is_asset_selection_like(target):
            extra = (
                " If you pass a sequence to a schedule, it must be a sequence of strings, AssetKeys, "
                "AssetsDefinitions, or SourceAssets."
                if isinstance(target, Sequence)
                else ""
            )
            raise DagsterInvalidDefinitionError(f"Invalid target passed to schedule/sensor.{extra} Target: {target}")
        job_name = f"{ANONYMOUS_ASSET_JOB_PREFIX}_{automation_name}"
        job = _anonymous_asset_job(job_name, target)
        assets_defs = [t for t in target if _is_assets_def(t)] if isinstance(target, list | tuple) else []
        if _is_assets_def(target):
            assets_defs = [target]
        return cls(job=job, job_name=job_name, asset_selection=target, assets_defs=assets_defs)


def _is_assets_def(value: Any) -> bool:
    return type(value).__name__ in ("AssetsDefinition", "SourceAsset")


def _is_asset_selection_like(value: Any) -> bool:
    if isinstance(value, str) or _is_assets_def(value) or hasattr(value, "path"):
        return True
    if type(value).__name__.endswith("AssetSelection"):
        return True
    if isinstance(value, Sequence):
        return all(isinstance(item, str) or _is_assets_def(item) or hasattr(item, "path") for item in value)
    return False


def _anonymous_asset_job(name: str, selection: Any) -> Any:
    """The asset job for a selection target, once the assets area provides `define_asset_job`."""
    import orchestra

    if "define_asset_job" not in orchestra._EXPORTS:
        return None
    return orchestra.define_asset_job(name=name, selection=selection)


def resolve_targets(
    *,
    automation_name: str | None,
    what: str,
    job: Any = None,
    job_name: str | None = None,
    jobs: Sequence[Any] | None = None,
    target: Any = None,
    asset_selection: Any = None,
) -> list[AutomationTarget]:
    """The targets of a schedule or sensor from its mutually exclusive arguments."""
    if target is not None:
        return [AutomationTarget.from_coercible(target, automation_name, what)]
    if job is not None:
        return [AutomationTarget.from_job(job)]
    if job_name is not None:
        if not isinstance(job_name, str):
            raise DagsterInvalidDefinitionError(f'Param "job_name" is not a str. Got {job_name!r}.')
        return [AutomationTarget(job_name=job_name)]
    if jobs:
        return [AutomationTarget.from_job(j) for j in jobs]
    return []


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_owners(owners: Sequence[str] | None, kind: str, definition_name: str) -> list[str] | None:
    """Owners as given when each is an email address or `team:<name>`; DagsterInvalidDefinitionError otherwise."""
    if owners is None:
        return None
    for owner in owners:
        if isinstance(owner, str) and (_EMAIL.match(owner) or (owner.startswith("team:") and len(owner) > 5)):
            continue
        if isinstance(owner, str) and owner.startswith("team:"):
            reason = "Team name cannot be empty after 'team:' prefix."
        else:
            reason = "Owner must be an email address or a team name prefixed with 'team:'."
        raise DagsterInvalidDefinitionError(f"Invalid owner '{owner}' for {kind} '{definition_name}'. {reason}")
    return list(owners)


def normalize_definition_metadata(metadata: Any) -> dict[str, Any]:
    """Metadata values as typed `MetadataValue`s."""
    if not metadata:
        return {}
    from orchestra._core.metadata.values import normalize_metadata

    return dict(normalize_metadata(metadata))


def metadata_json(metadata: dict[str, Any]) -> list[dict[str, Any]]:
    """Metadata in the JSON form the event log and stored snapshots use (`[{label, type, data}]`)."""
    if not metadata:
        return []
    from orchestra._core.metadata.json_form import metadata_to_json

    return metadata_to_json(metadata)
