"""The workspace app's GraphQL: code locations, their repositories and definitions (read from stored
snapshots, never from user code), and the reload and shutdown mutations, with Dagster's names and unions.
"""

from __future__ import annotations

from typing import Any

import graphene

from core.exceptions import Conflict, NotFound
from core.graphql import (
    AssetKeyInput,
    Error,
    PermissionGrant,
    PythonError,
    UnauthorizedError,
    errors_as_data,
    permission_grants,
)
from core.permissions import actor_from_request
from workspace import reload, selectors
from workspace.models import CodeLocation, LocationStatus
from workspace.schema_definitions import (
    AssetNode,
    DefinitionRef,
    Job,
    JobRef,
    Pipeline,
    PipelineNotFoundError,
    ReloadNotSupported,
    RepositoryLocationNotFound,
    RepositoryNotFoundError,
    RepositoryRef,
    repositories_of,
)

# --- repositories and locations -----------------------------------------------------------------------


class RepositoryMetadata(graphene.ObjectType):
    key = graphene.NonNull(graphene.String)
    value = graphene.NonNull(graphene.String)


def _display_metadata(origin: dict[str, Any]) -> list[RepositoryMetadata]:
    shown = ("python_file", "module_name", "package_name", "attribute", "working_directory",
             "executable_path", "host", "port")
    return [RepositoryMetadata(key=key, value=str(origin[key])) for key in shown if origin.get(key) is not None]


def _jobs(repository: RepositoryRef) -> list[JobRef]:
    return [JobRef(repository, job) for job in repository.snapshot.get("jobs") or []]


class Repository(graphene.ObjectType):
    class Meta:
        possible_types = (RepositoryRef,)

    id = graphene.NonNull(graphene.ID)
    name = graphene.NonNull(graphene.String)
    location = graphene.NonNull(lambda: RepositoryLocation)
    pipelines = graphene.NonNull(graphene.List(graphene.NonNull(Pipeline)))
    jobs = graphene.NonNull(graphene.List(graphene.NonNull(Job)))
    # Their types (with their running state) live in the scheduling app, above this one: named by path.
    schedules = graphene.NonNull(graphene.List(graphene.NonNull("scheduling.schema.Schedule")))
    sensors = graphene.NonNull(graphene.List(graphene.NonNull("scheduling.schema.Sensor")))
    assetNodes = graphene.NonNull(graphene.List(graphene.NonNull(AssetNode)))
    displayMetadata = graphene.NonNull(graphene.List(graphene.NonNull(RepositoryMetadata)))

    def resolve_id(repository: RepositoryRef, info) -> str:
        return repository.id

    def resolve_name(repository: RepositoryRef, info) -> str:
        return repository.name

    def resolve_location(repository: RepositoryRef, info) -> CodeLocation:
        return repository.location

    def resolve_pipelines(repository: RepositoryRef, info) -> list[JobRef]:
        return _jobs(repository)

    def resolve_jobs(repository: RepositoryRef, info) -> list[JobRef]:
        return _jobs(repository)

    def resolve_schedules(repository: RepositoryRef, info) -> list[DefinitionRef]:
        return [DefinitionRef(repository, s) for s in repository.snapshot.get("schedules") or []]

    def resolve_sensors(repository: RepositoryRef, info) -> list[DefinitionRef]:
        return [DefinitionRef(repository, s) for s in repository.snapshot.get("sensors") or []]

    def resolve_assetNodes(repository: RepositoryRef, info) -> list[DefinitionRef]:
        return [DefinitionRef(repository, a) for a in repository.snapshot.get("asset_nodes") or []]

    def resolve_displayMetadata(repository: RepositoryRef, info) -> list[RepositoryMetadata]:
        return _display_metadata(repository.location.origin)


class RepositoryLocation(graphene.ObjectType):
    """A loaded code location; its root is the `CodeLocation` row."""

    class Meta:
        possible_types = (CodeLocation,)

    id = graphene.NonNull(graphene.ID)
    name = graphene.NonNull(graphene.String)
    isReloadSupported = graphene.NonNull(graphene.Boolean)
    environmentPath = graphene.String()
    repositories = graphene.NonNull(graphene.List(graphene.NonNull(Repository)))
    serverId = graphene.String()

    def resolve_id(location: CodeLocation, info) -> str:
        return location.name

    def resolve_name(location: CodeLocation, info) -> str:
        return location.name

    def resolve_isReloadSupported(location: CodeLocation, info) -> bool:
        return True

    def resolve_environmentPath(location: CodeLocation, info) -> str | None:
        return (location.origin or {}).get("executable_path") or (location.server or {}).get("executable")

    def resolve_repositories(location: CodeLocation, info) -> list[RepositoryRef]:
        return repositories_of([location])

    def resolve_serverId(location: CodeLocation, info) -> str | None:
        return (location.server or {}).get("server_id")


class RepositoryLocationOrLoadError(graphene.Union):
    class Meta:
        types = (RepositoryLocation, PythonError)


RepositoryLocationLoadStatus = graphene.Enum("RepositoryLocationLoadStatus", [("LOADING", "LOADING"),
                                                                              ("LOADED", "LOADED")])


class WorkspaceLocationEntry(graphene.ObjectType):
    """A location of the workspace in whatever state it is: loading, loaded, or failed to load."""

    class Meta:
        possible_types = (CodeLocation,)

    id = graphene.NonNull(graphene.ID)
    name = graphene.NonNull(graphene.String)
    locationOrLoadError = graphene.Field(RepositoryLocationOrLoadError)
    loadStatus = graphene.NonNull(RepositoryLocationLoadStatus)
    displayMetadata = graphene.NonNull(graphene.List(graphene.NonNull(RepositoryMetadata)))
    updatedTimestamp = graphene.NonNull(graphene.Float)
    versionKey = graphene.NonNull(graphene.String)
    permissions = graphene.NonNull(graphene.List(graphene.NonNull(PermissionGrant)),
                                   description="What the caller may do in this location.")

    def resolve_id(location: CodeLocation, info) -> str:
        return location.name

    def resolve_permissions(location: CodeLocation, info) -> list[PermissionGrant]:
        return permission_grants(info.context, location.name)

    def resolve_name(location: CodeLocation, info) -> str:
        return location.name

    def resolve_locationOrLoadError(location: CodeLocation, info) -> Any:
        if location.status == LocationStatus.LOADED:
            return location
        if location.status == LocationStatus.ERROR:
            return PythonError.from_error_data(location.load_error or {"message": "the location failed to load"})
        return None

    def resolve_loadStatus(location: CodeLocation, info) -> str:
        return "LOADING" if location.status == LocationStatus.LOADING else "LOADED"

    def resolve_displayMetadata(location: CodeLocation, info) -> list[RepositoryMetadata]:
        return _display_metadata(location.origin or {})

    def resolve_updatedTimestamp(location: CodeLocation, info) -> float:
        return location.updated_at.timestamp()

    def resolve_versionKey(location: CodeLocation, info) -> str:
        return location.snapshot_id or str(location.updated_at.timestamp())


class Workspace(graphene.ObjectType):
    id = graphene.NonNull(graphene.String)
    locationEntries = graphene.NonNull(graphene.List(graphene.NonNull(WorkspaceLocationEntry)))

    def resolve_id(root, info) -> str:
        return "Workspace"


class WorkspaceLocationStatusEntry(graphene.ObjectType):
    """A location's load state without its definitions (what a UI polls to notice a reload)."""

    class Meta:
        possible_types = (CodeLocation,)

    id = graphene.NonNull(graphene.ID)
    name = graphene.NonNull(graphene.String)
    loadStatus = graphene.NonNull(RepositoryLocationLoadStatus)
    updateTimestamp = graphene.NonNull(graphene.Float)
    versionKey = graphene.NonNull(graphene.String)
    permissions = graphene.NonNull(graphene.List(graphene.NonNull(PermissionGrant)),
                                   description="What the caller may do in this location.")

    resolve_id = WorkspaceLocationEntry.resolve_id
    resolve_permissions = WorkspaceLocationEntry.resolve_permissions
    resolve_name = WorkspaceLocationEntry.resolve_name
    resolve_loadStatus = WorkspaceLocationEntry.resolve_loadStatus
    resolve_versionKey = WorkspaceLocationEntry.resolve_versionKey

    def resolve_updateTimestamp(location: CodeLocation, info) -> float:
        return location.updated_at.timestamp()


class WorkspaceLocationStatusEntries(graphene.ObjectType):
    entries = graphene.NonNull(graphene.List(graphene.NonNull(WorkspaceLocationStatusEntry)))


class WorkspaceLocationStatusEntriesOrError(graphene.Union):
    class Meta:
        types = (WorkspaceLocationStatusEntries, PythonError)


class WorkspaceOrError(graphene.Union):
    class Meta:
        types = (Workspace, PythonError)


class WorkspaceLocationEntryOrError(graphene.Union):
    class Meta:
        types = (WorkspaceLocationEntry, PythonError)


class RepositoryConnection(graphene.ObjectType):
    nodes = graphene.NonNull(graphene.List(graphene.NonNull(Repository)))


class RepositoriesOrError(graphene.Union):
    class Meta:
        types = (RepositoryConnection, RepositoryNotFoundError, PythonError)


class RepositoryOrError(graphene.Union):
    class Meta:
        types = (PythonError, Repository, RepositoryNotFoundError)


class RepositorySelector(graphene.InputObjectType):
    repositoryName = graphene.NonNull(graphene.String)
    repositoryLocationName = graphene.NonNull(graphene.String)


class AssetCheckHandleInput(graphene.InputObjectType):
    assetKey = graphene.NonNull(AssetKeyInput)
    name = graphene.NonNull(graphene.String)


class PipelineSelector(graphene.InputObjectType):
    pipelineName = graphene.NonNull(graphene.String)
    repositoryName = graphene.NonNull(graphene.String)
    repositoryLocationName = graphene.NonNull(graphene.String)
    solidSelection = graphene.List(graphene.NonNull(graphene.String))
    assetSelection = graphene.List(graphene.NonNull(AssetKeyInput))
    assetCheckSelection = graphene.List(graphene.NonNull(AssetCheckHandleInput))


class InvalidSubsetError(graphene.ObjectType):
    class Meta:
        interfaces = (Error,)

    pipeline = graphene.NonNull(Pipeline)


class PipelineOrError(graphene.Union):
    class Meta:
        types = (Pipeline, PipelineNotFoundError, InvalidSubsetError, PythonError)


# --- mutation results ---------------------------------------------------------------------------------


class ShutdownRepositoryLocationSuccess(graphene.ObjectType):
    repositoryLocationName = graphene.NonNull(graphene.String)


class ReloadRepositoryLocationMutationResult(graphene.Union):
    class Meta:
        types = (WorkspaceLocationEntry, ReloadNotSupported, RepositoryLocationNotFound, UnauthorizedError,
                 PythonError)


class ReloadWorkspaceMutationResult(graphene.Union):
    class Meta:
        types = (Workspace, UnauthorizedError, PythonError)


class ShutdownRepositoryLocationMutationResult(graphene.Union):
    class Meta:
        types = (ShutdownRepositoryLocationSuccess, RepositoryLocationNotFound, UnauthorizedError, PythonError)


# --- resolvers ----------------------------------------------------------------------------------------


def _location_not_found(name: str) -> RepositoryLocationNotFound:
    return RepositoryLocationNotFound(message=f"Location {name} does not exist.")


def _repository_not_found(selector: dict[str, str]) -> RepositoryNotFoundError:
    name, location = selector["repositoryName"], selector["repositoryLocationName"]
    return RepositoryNotFoundError(
        message=f"Could not find Repository {location}.{name}",
        repositoryName=name,
        repositoryLocationName=location,
    )


def _find_repository(selector: dict[str, str]) -> RepositoryRef | None:
    try:
        location = selectors.location_get_cached(name=selector["repositoryLocationName"])
    except NotFound:
        return None
    found = [r for r in repositories_of([location]) if r.name == selector["repositoryName"]]
    return found[0] if found else None


@errors_as_data
def resolve_workspace(root, info) -> Any:
    return Workspace(locationEntries=selectors.location_list_with_snapshots())


@errors_as_data
def resolve_location_statuses(root, info) -> Any:
    return WorkspaceLocationStatusEntries(entries=list(selectors.location_list()))


@errors_as_data
def resolve_workspace_location_entry(root, info, name: str) -> Any:
    try:
        return selectors.location_get(name=name)
    except NotFound:
        return None


@errors_as_data
def resolve_repositories(root, info, repositorySelector=None) -> Any:
    if repositorySelector is not None:
        repository = _find_repository(repositorySelector)
        if repository is None:
            return _repository_not_found(repositorySelector)
        return RepositoryConnection(nodes=[repository])
    return RepositoryConnection(nodes=repositories_of(selectors.location_list_with_snapshots()))


@errors_as_data
def resolve_repository(root, info, repositorySelector) -> Any:
    return _find_repository(repositorySelector) or _repository_not_found(repositorySelector)


@errors_as_data
def resolve_pipeline(root, info, params) -> Any:
    location, repo_name, job_name = params["repositoryLocationName"], params["repositoryName"], params["pipelineName"]
    repository = _find_repository({"repositoryLocationName": location, "repositoryName": repo_name})
    jobs = [j for j in _jobs(repository) if j.job["name"] == job_name] if repository is not None else []
    if not jobs:
        return PipelineNotFoundError.for_job(job_name, repo_name, location)
    return jobs[0]


@errors_as_data
def resolve_reload_location(root, info, repositoryLocationName: str) -> Any:
    try:
        return reload.location_reload_wait(name=repositoryLocationName, actor=actor_from_request(info.context))
    except NotFound:
        return _location_not_found(repositoryLocationName)


@errors_as_data
def resolve_reload_workspace(root, info) -> Any:
    return Workspace(locationEntries=reload.workspace_reload_wait(actor=actor_from_request(info.context)))


@errors_as_data
def resolve_shutdown_location(root, info, repositoryLocationName: str) -> Any:
    try:
        reload.location_shutdown(name=repositoryLocationName, actor=actor_from_request(info.context))
    except NotFound:
        return _location_not_found(repositoryLocationName)
    except Conflict as exc:
        return PythonError.from_exception(exc)
    return ShutdownRepositoryLocationSuccess(repositoryLocationName=repositoryLocationName)


class WorkspaceQueries(graphene.ObjectType):
    """The workspace app's root query fields; composed into the root `Query` by `orchestra_site.schema`."""

    workspaceOrError = graphene.NonNull(WorkspaceOrError, resolver=resolve_workspace)
    locationStatusesOrError = graphene.NonNull(WorkspaceLocationStatusEntriesOrError,
                                               resolver=resolve_location_statuses)
    workspaceLocationEntryOrError = graphene.Field(
        WorkspaceLocationEntryOrError, name=graphene.String(required=True), resolver=resolve_workspace_location_entry
    )
    repositoriesOrError = graphene.NonNull(
        RepositoriesOrError, repositorySelector=RepositorySelector(), resolver=resolve_repositories
    )
    repositoryOrError = graphene.NonNull(
        RepositoryOrError, repositorySelector=RepositorySelector(required=True), resolver=resolve_repository
    )
    pipelineOrError = graphene.NonNull(PipelineOrError, params=PipelineSelector(required=True),
                                       resolver=resolve_pipeline)


class WorkspaceMutations(graphene.ObjectType):
    """The workspace app's mutations; composed into the root `Mutation` by `orchestra_site.schema`."""

    reloadRepositoryLocation = graphene.NonNull(
        ReloadRepositoryLocationMutationResult,
        repositoryLocationName=graphene.String(required=True),
        resolver=resolve_reload_location,
    )
    reloadWorkspace = graphene.NonNull(ReloadWorkspaceMutationResult, resolver=resolve_reload_workspace)
    shutdownRepositoryLocation = graphene.NonNull(
        ShutdownRepositoryLocationMutationResult,
        repositoryLocationName=graphene.String(required=True),
        resolver=resolve_shutdown_location,
    )

