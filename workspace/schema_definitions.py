"""The workspace app's GraphQL definitions: jobs, schedules, sensors and asset nodes of a repository, read
from its stored snapshot, the roots they resolve from, and the errors that name them. `workspace.schema`
composes them into repositories and locations.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import graphene

from core.graphql import AssetKey, Error
from core.permissions import Permission, has_permission
from workspace.models import CodeLocation, LocationStatus

# A repository's fields name its jobs and its jobs name their repository: the type is given by path.
REPOSITORY = "workspace.schema.Repository"

# --- roots the types resolve from ---------------------------------------------------------------------


@dataclass(frozen=True)
class RepositoryRef:
    """One repository: the snapshot of a loaded location (a location holds exactly one)."""

    location: CodeLocation
    snapshot: dict[str, Any]

    @property
    def name(self) -> str:
        return self.snapshot.get("repository_name") or "__repository__"

    @property
    def id(self) -> str:
        return f"{self.name}@{self.location.name}"


@dataclass(frozen=True)
class JobRef:
    repository: RepositoryRef
    job: dict[str, Any]


@dataclass(frozen=True)
class DefinitionRef:
    """A schedule, sensor or asset node of a repository, as its snapshot entry."""

    repository: RepositoryRef
    data: dict[str, Any]


def repositories_of(locations: list[CodeLocation]) -> list[RepositoryRef]:
    return [
        RepositoryRef(location, location.snapshot)
        for location in locations
        if location.status == LocationStatus.LOADED and location.snapshot is not None
    ]


def _description(text: str | None, characterLimit: int | None = None) -> str | None:
    if text is None or characterLimit is None:
        return text
    return text[:characterLimit]


# --- errors -------------------------------------------------------------------------------------------


class RepositoryNotFoundError(graphene.ObjectType):
    class Meta:
        interfaces = (Error,)

    repositoryName = graphene.NonNull(graphene.String)
    repositoryLocationName = graphene.NonNull(graphene.String)


class RepositoryLocationNotFound(graphene.ObjectType):
    class Meta:
        interfaces = (Error,)


class ReloadNotSupported(graphene.ObjectType):
    class Meta:
        interfaces = (Error,)


class PipelineNotFoundError(graphene.ObjectType):
    class Meta:
        interfaces = (Error,)

    pipelineName = graphene.NonNull(graphene.String)
    repositoryName = graphene.NonNull(graphene.String)
    repositoryLocationName = graphene.NonNull(graphene.String)

    @classmethod
    def for_job(cls, job_name: str, repository_name: str, location_name: str, detail: str = "") -> PipelineNotFoundError:
        message = f"Could not find Pipeline {location_name}.{repository_name}.{job_name}"
        return cls(
            message=f"{message}: {detail}" if detail else message,
            pipelineName=job_name,
            repositoryName=repository_name,
            repositoryLocationName=location_name,
        )


# --- definitions --------------------------------------------------------------------------------------


class DefinitionTag(graphene.ObjectType):
    key = graphene.NonNull(graphene.String)
    value = graphene.NonNull(graphene.String)


def _tags(mapping: dict[str, Any] | None) -> list[DefinitionTag]:
    return [DefinitionTag(key=str(k), value=v if isinstance(v, str) else json.dumps(v))
            for k, v in (mapping or {}).items()]


class SolidContainer(graphene.Interface):
    id = graphene.NonNull(graphene.ID)
    name = graphene.NonNull(graphene.String)
    description = graphene.String()

    def resolve_id(ref: JobRef, info) -> str:
        return f"{ref.repository.id}:{ref.job['name']}"

    def resolve_name(ref: JobRef, info) -> str:
        return ref.job["name"]

    def resolve_description(ref: JobRef, info) -> str | None:
        return ref.job.get("description")


class IPipelineSnapshot(graphene.Interface):
    name = graphene.NonNull(graphene.String)
    description = graphene.String()
    pipelineSnapshotId = graphene.NonNull(graphene.String)
    graphName = graphene.NonNull(graphene.String)

    def resolve_pipelineSnapshotId(ref: JobRef, info) -> str:
        return ref.job.get("snapshot_id", "")

    def resolve_graphName(ref: JobRef, info) -> str:
        return (ref.job.get("graph") or {}).get("name") or ref.job["name"]


# A job's op graph (Dagster's solid handles) is in `workspace.schema_graph`, which builds on JobRef: by path.
SOLID_HANDLE = "workspace.schema_graph.SolidHandle"


class _JobFields:
    solidHandles = graphene.NonNull(graphene.List(graphene.NonNull(SOLID_HANDLE)), parentHandleID=graphene.String())
    solidHandle = graphene.Field(SOLID_HANDLE, handleID=graphene.String(required=True))
    isJob = graphene.NonNull(graphene.Boolean)
    isAssetJob = graphene.NonNull(graphene.Boolean)
    repository = graphene.NonNull(REPOSITORY)
    hasLaunchExecutionPermission = graphene.NonNull(graphene.Boolean)
    hasLaunchReexecutionPermission = graphene.NonNull(graphene.Boolean)

    def resolve_solidHandles(ref: JobRef, info, parentHandleID: str | None = None) -> list[Any]:
        from workspace.schema_graph import solid_handles

        return solid_handles(ref, parentHandleID)

    def resolve_solidHandle(ref: JobRef, info, handleID: str) -> Any:
        from workspace.schema_graph import solid_handle

        return solid_handle(ref, handleID)

    def resolve_isJob(ref: JobRef, info) -> bool:
        return True

    def resolve_isAssetJob(ref: JobRef, info) -> bool:
        return bool(ref.job.get("is_asset_job"))

    def resolve_repository(ref: JobRef, info) -> RepositoryRef:
        return ref.repository

    def resolve_hasLaunchExecutionPermission(ref: JobRef, info) -> bool:
        return has_permission(info.context, Permission.LAUNCH_PIPELINE_EXECUTION, ref.repository.location.name)

    def resolve_hasLaunchReexecutionPermission(ref: JobRef, info) -> bool:
        return has_permission(info.context, Permission.LAUNCH_PIPELINE_REEXECUTION, ref.repository.location.name)


class Pipeline(_JobFields, graphene.ObjectType):
    """A job of a repository (Dagster's legacy name, still what its Python client asks for)."""

    class Meta:
        interfaces = (SolidContainer, IPipelineSnapshot)
        possible_types = (JobRef,)


class Job(_JobFields, graphene.ObjectType):
    class Meta:
        interfaces = (SolidContainer, IPipelineSnapshot)


# Schedule and Sensor (a repository's schedules and sensors with their state) are in `scheduling.schema`.


class AssetNode(graphene.ObjectType):
    """An asset's definition in a repository (from the snapshot; its history is `Asset`)."""

    id = graphene.NonNull(graphene.ID)
    assetKey = graphene.NonNull(AssetKey)
    description = graphene.String(characterLimit=graphene.Int())
    groupName = graphene.NonNull(graphene.String)
    jobNames = graphene.NonNull(graphene.List(graphene.NonNull(graphene.String)))
    opName = graphene.String()
    opNames = graphene.NonNull(graphene.List(graphene.NonNull(graphene.String)))
    computeKind = graphene.String()
    kinds = graphene.NonNull(graphene.List(graphene.NonNull(graphene.String)))
    isMaterializable = graphene.NonNull(graphene.Boolean)
    isObservable = graphene.NonNull(graphene.Boolean)
    isExecutable = graphene.NonNull(graphene.Boolean)
    isPartitioned = graphene.NonNull(graphene.Boolean)
    hasAssetChecks = graphene.NonNull(graphene.Boolean)
    dependencyKeys = graphene.NonNull(graphene.List(graphene.NonNull(AssetKey)))
    tags = graphene.NonNull(graphene.List(graphene.NonNull(DefinitionTag)))
    repository = graphene.NonNull(REPOSITORY)

    def resolve_id(ref: DefinitionRef, info) -> str:
        return f"{ref.repository.location.name}.{ref.repository.name}.{json.dumps(ref.data['key'])}"

    def resolve_assetKey(ref: DefinitionRef, info) -> AssetKey:
        return AssetKey(path=ref.data["key"])

    def resolve_description(ref: DefinitionRef, info, characterLimit: int | None = None) -> str | None:
        return _description(ref.data.get("description"), characterLimit)

    def resolve_groupName(ref: DefinitionRef, info) -> str:
        return ref.data.get("group_name") or "default"

    def resolve_jobNames(ref: DefinitionRef, info) -> list[str]:
        return list(ref.data.get("job_names") or [])

    def resolve_opName(ref: DefinitionRef, info) -> str | None:
        return ref.data.get("op_name")

    def resolve_opNames(ref: DefinitionRef, info) -> list[str]:
        return [ref.data["op_name"]] if ref.data.get("op_name") else []

    def resolve_computeKind(ref: DefinitionRef, info) -> str | None:
        return ref.data.get("compute_kind")

    def resolve_kinds(ref: DefinitionRef, info) -> list[str]:
        return list(ref.data.get("kinds") or [])

    def resolve_isMaterializable(ref: DefinitionRef, info) -> bool:
        return bool(ref.data.get("is_materializable"))

    def resolve_isObservable(ref: DefinitionRef, info) -> bool:
        return bool(ref.data.get("is_observable"))

    def resolve_isExecutable(ref: DefinitionRef, info) -> bool:
        return bool(ref.data.get("is_materializable") or ref.data.get("is_observable"))

    def resolve_isPartitioned(ref: DefinitionRef, info) -> bool:
        return ref.data.get("partitions") is not None

    def resolve_hasAssetChecks(ref: DefinitionRef, info) -> bool:
        return bool(ref.data.get("checks"))

    def resolve_dependencyKeys(ref: DefinitionRef, info) -> list[AssetKey]:
        return [AssetKey(path=path) for path in ref.data.get("deps") or []]

    def resolve_tags(ref: DefinitionRef, info) -> list[DefinitionTag]:
        return _tags(ref.data.get("tags"))

    def resolve_repository(ref: DefinitionRef, info) -> RepositoryRef:
        return ref.repository
