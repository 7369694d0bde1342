"""The runs app's GraphQL mutations that start and stop runs: launch, re-execute, terminate.

Dagster's names, arguments and result unions, so its Python client works unchanged. Resolvers parse
the execution params, call `runs.services` / `runs.reexecution`, and pick the union member for each
outcome; an unexpected exception is a `PythonError` member.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import graphene
import yaml

from core.exceptions import Conflict, InvalidInput, NotFound
from core.graphql import AssetKeyInput, Error, InputRefused, PythonError, UnauthorizedError, errors_as_data
from core.guards import allowed, denied_message
from core.permissions import actor_from_request
from runs import selectors, services
from runs.permissions import TERMINATE_RUN
from runs.reexecution import run_reexecute
from runs.schema import ExecutionTag, Run, RunConfigData, RunNotFoundError
from runs.schema_config_errors import CONFIG_ERROR_TYPES, PipelineConfigValidationError, config_error
from workspace.config_types import default_config_yaml
from workspace.schema import (
    AssetCheckHandleInput,
    InvalidSubsetError,
    JobRef,
    PipelineNotFoundError,
    PipelineSelector,
    RepositoryRef,
)
from workspace.selectors import location_get

# --- inputs -------------------------------------------------------------------------------------------


class JobOrPipelineSelector(graphene.InputObjectType):
    pipelineName = graphene.String()
    jobName = graphene.String()
    repositoryName = graphene.NonNull(graphene.String)
    repositoryLocationName = graphene.NonNull(graphene.String)
    solidSelection = graphene.List(graphene.NonNull(graphene.String))
    assetSelection = graphene.List(graphene.NonNull(AssetKeyInput))
    assetCheckSelection = graphene.List(graphene.NonNull(AssetCheckHandleInput))


class ExecutionMetadata(graphene.InputObjectType):
    tags = graphene.List(graphene.NonNull(ExecutionTag))
    rootRunId = graphene.String()
    parentRunId = graphene.String()


class ExecutionParams(graphene.InputObjectType):
    selector = graphene.NonNull(JobOrPipelineSelector)
    runConfigData = RunConfigData()
    mode = graphene.String()
    executionMetadata = ExecutionMetadata()
    stepKeys = graphene.List(graphene.NonNull(graphene.String))
    preset = graphene.String()


ReexecutionStrategy = graphene.Enum(
    "ReexecutionStrategy", [("FROM_ASSET_FAILURE", "FROM_ASSET_FAILURE"), ("FROM_FAILURE", "FROM_FAILURE"),
                            ("ALL_STEPS", "ALL_STEPS")]
)


class ReexecutionParams(graphene.InputObjectType):
    parentRunId = graphene.NonNull(graphene.String)
    strategy = graphene.NonNull(ReexecutionStrategy)
    extraTags = graphene.List(graphene.NonNull(ExecutionTag))
    useParentRunTags = graphene.Boolean()


TerminateRunPolicy = graphene.Enum(
    "TerminateRunPolicy", [("SAFE_TERMINATE", "SAFE_TERMINATE"),
                           ("MARK_AS_CANCELED_IMMEDIATELY", "MARK_AS_CANCELED_IMMEDIATELY")]
)


# --- launch results -----------------------------------------------------------------------------------


class LaunchPipelineRunSuccess(graphene.Interface):
    run = graphene.NonNull(Run)


class LaunchRunSuccess(graphene.ObjectType):
    class Meta:
        interfaces = (LaunchPipelineRunSuccess,)


class InvalidStepError(graphene.ObjectType):
    invalidStepKey = graphene.NonNull(graphene.String)


class InvalidOutputError(graphene.ObjectType):
    stepKey = graphene.NonNull(graphene.String)
    invalidOutputName = graphene.NonNull(graphene.String)


class PipelineConfigValidationInvalid(graphene.Interface):
    pipelineName = graphene.NonNull(graphene.String)
    errors = graphene.NonNull(graphene.List(graphene.NonNull(PipelineConfigValidationError)))


class RunConfigValidationInvalid(graphene.ObjectType):
    class Meta:
        interfaces = (PipelineConfigValidationInvalid,)


class PipelineRunConflict(graphene.Interface):
    message = graphene.NonNull(graphene.String)


class RunConflict(graphene.ObjectType):
    class Meta:
        interfaces = (Error, PipelineRunConflict)


class PresetNotFoundError(graphene.ObjectType):
    class Meta:
        interfaces = (Error,)

    preset = graphene.NonNull(graphene.String)


class ConflictingExecutionParamsError(graphene.ObjectType):
    class Meta:
        interfaces = (Error,)


class NoModeProvidedError(graphene.ObjectType):
    class Meta:
        interfaces = (Error,)

    pipelineName = graphene.NonNull(graphene.String)


_LAUNCH_MEMBERS = (LaunchRunSuccess, InvalidStepError, InvalidOutputError, RunConfigValidationInvalid,
                   PipelineNotFoundError, RunConflict, UnauthorizedError, PythonError, InvalidSubsetError,
                   PresetNotFoundError, ConflictingExecutionParamsError, NoModeProvidedError)


class LaunchRunResult(graphene.Union):
    class Meta:
        types = _LAUNCH_MEMBERS


class LaunchRunReexecutionResult(graphene.Union):
    class Meta:
        types = _LAUNCH_MEMBERS


class PipelineConfigValidationValid(graphene.ObjectType):
    pipelineName = graphene.NonNull(graphene.String)


class PipelineConfigValidationResult(graphene.Union):
    class Meta:
        types = (InvalidSubsetError, PipelineConfigValidationValid, RunConfigValidationInvalid,
                 PipelineNotFoundError, PythonError)


@dataclass(frozen=True)
class ConfigSchemaRef:
    """A job (or subset) whose run config schema is asked for: the selector and its schema's defaults."""

    pipeline: Mapping[str, Any]
    defaults: dict[str, Any]


class RunConfigSchema(graphene.ObjectType):
    """A job's run config schema (Dagster's type; served: its default config and a validity check)."""

    class Meta:
        possible_types = (ConfigSchemaRef,)

    rootDefaultYaml = graphene.NonNull(graphene.String)
    isRunConfigValid = graphene.NonNull(PipelineConfigValidationResult, runConfigData=RunConfigData())

    def resolve_rootDefaultYaml(root: ConfigSchemaRef, info) -> str:
        return default_config_yaml(root.defaults)

    def resolve_isRunConfigValid(root: ConfigSchemaRef, info, runConfigData=None) -> Any:
        return resolve_is_config_valid(None, info, root.pipeline, runConfigData=runConfigData)


class ModeNotFoundError(graphene.ObjectType):
    """A mode other than `default` was asked for (Dagster's: jobs have one mode, named `default`)."""

    class Meta:
        interfaces = (Error,)

    mode = graphene.NonNull(graphene.String)


class RunConfigSchemaOrError(graphene.Union):
    class Meta:
        types = (RunConfigSchema, PipelineNotFoundError, InvalidSubsetError, ModeNotFoundError, PythonError)


# --- terminate results --------------------------------------------------------------------------------


class TerminatePipelineExecutionSuccess(graphene.Interface):
    run = graphene.NonNull(Run)


class TerminatePipelineExecutionFailure(graphene.Interface):
    run = graphene.NonNull(Run)
    message = graphene.NonNull(graphene.String)


class TerminateRunSuccess(graphene.ObjectType):
    class Meta:
        interfaces = (TerminatePipelineExecutionSuccess,)


class TerminateRunFailure(graphene.ObjectType):
    class Meta:
        interfaces = (TerminatePipelineExecutionFailure,)


class TerminateRunResult(graphene.Union):
    class Meta:
        types = (TerminateRunSuccess, TerminateRunFailure, RunNotFoundError, UnauthorizedError, PythonError)


class TerminateRunsResult(graphene.ObjectType):
    terminateRunResults = graphene.NonNull(graphene.List(graphene.NonNull(TerminateRunResult)))


class TerminateRunsResultOrError(graphene.Union):
    class Meta:
        types = (TerminateRunsResult, PythonError)


# --- resolvers ----------------------------------------------------------------------------------------


def _actor(info) -> Any:
    return actor_from_request(info.context)


def _tags(entries: Any) -> dict[str, str]:
    return {entry["key"]: entry["value"] for entry in entries or []}


def _job_ref(location_name: str, job_name: str) -> JobRef | None:
    """The job's snapshot entry, for `InvalidSubsetError.pipeline`; None when it cannot be found."""
    try:
        location = location_get(name=location_name)
    except NotFound:
        return None
    for job in (location.snapshot or {}).get("jobs") or []:
        if job["name"] == job_name:
            return JobRef(RepositoryRef(location, location.snapshot), job)
    return None


def _submit_outcome(submit: Any, *, job_name: str, repository_name: str, location_name: str,
                    success: Any = None) -> Any:
    """Call `submit()` and answer the union member for what happened (`success(result)` when it worked,
    by default LaunchRunSuccess of the run it returned)."""
    try:
        result = submit()
    except services.JobNotFound as exc:
        if not exc.location_loaded:  # the job may well exist: its location is unavailable, not "not found"
            return PythonError.from_exception(exc)
        return PipelineNotFoundError.for_job(job_name, repository_name, location_name, str(exc))
    except services.RunConfigInvalid as exc:
        return RunConfigValidationInvalid(pipelineName=job_name, errors=[config_error(e) for e in exc.errors])
    except services.SelectionInvalid as exc:
        job = _job_ref(location_name, job_name)
        return InvalidSubsetError(message=str(exc), pipeline=job) if job is not None else PythonError.from_exception(exc)
    except Conflict as exc:
        return RunConflict(message=str(exc))
    except InvalidInput as exc:  # bad tags, ids or selections with no union member of their own: a 400
        raise InputRefused(str(exc)) from None
    except NotFound as exc:
        return PythonError.from_exception(exc)
    return success(result) if success is not None else LaunchRunSuccess(run=result)


def _selection(pipeline: Mapping[str, Any]) -> dict[str, Any]:
    """A `PipelineSelector`'s job and op or asset selection as the selectors take them."""
    assets = pipeline.get("assetSelection")
    return {"job_name": pipeline["pipelineName"], "location_name": pipeline["repositoryLocationName"],
            "repository_name": pipeline["repositoryName"], "op_selection": pipeline.get("solidSelection") or None,
            "asset_selection": ["/".join(key["path"]) for key in assets] if assets else None}


@errors_as_data
def resolve_is_config_valid(root, info, pipeline, mode=None, runConfigData=None) -> Any:
    job_name, location_name = pipeline["pipelineName"], pipeline["repositoryLocationName"]
    run_config, yaml_error = _parse_run_config(runConfigData)
    if yaml_error is not None:  # Dagster answers a type mismatch at the root; the parser's words say more
        return RunConfigValidationInvalid(pipelineName=job_name, errors=[config_error(
            {"message": f"Run config is not valid YAML: {yaml_error}", "path": [], "reason": "RUNTIME_TYPE_MISMATCH"})])
    return _submit_outcome(
        lambda: selectors.run_config_check(run_config=run_config, **_selection(pipeline)),
        job_name=job_name, repository_name=pipeline["repositoryName"], location_name=location_name,
        success=lambda config: PipelineConfigValidationValid(pipelineName=job_name),
    )


@errors_as_data
def resolve_run_config_schema(root, info, selector, mode=None) -> Any:
    """Dagster's `runConfigSchemaOrError`: the job's schema, of which `rootDefaultYaml` and `isRunConfigValid`
    are served (from the stored snapshot). A mode other than `default` is not found, before the job is looked
    up, as Dagster checks it."""
    if mode and mode != "default":
        return ModeNotFoundError(mode=mode, message=f"Mode {mode} not found in pipeline {selector['pipelineName']}.")
    return _submit_outcome(
        lambda: selectors.run_config_defaults(**_selection(selector)),
        job_name=selector["pipelineName"], repository_name=selector["repositoryName"],
        location_name=selector["repositoryLocationName"],
        success=lambda defaults: ConfigSchemaRef(pipeline=selector, defaults=defaults),
    )


class _YamlWithoutAliases(yaml.SafeLoader):
    """Aliases let a few bytes of YAML expand to gigabytes (a "billion laughs"); run config needs none."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise yaml.YAMLError("YAML aliases (*name) are not accepted in run config")
        return super().compose_node(parent, index)


def _parse_run_config(run_config: Any) -> tuple[Any, str | None]:
    """Dagster's `RunConfigData` also takes YAML text: the config, and what is wrong with text that does not
    parse (then the text itself is the config, to fail validation as Dagster's does)."""
    if run_config and isinstance(run_config, str):
        try:
            parsed = yaml.load(run_config, Loader=_YamlWithoutAliases)  # noqa: S506 - a SafeLoader subclass
            return ({} if parsed is None else parsed), None  # only comments: no config
        except yaml.YAMLError as exc:
            return run_config, str(exc)
        except RecursionError:
            return run_config, "it nests too deeply"
    return run_config or {}, None


def _run_config_input(run_config: Any) -> Any:
    return _parse_run_config(run_config)[0]


def _launch(executionParams: Mapping[str, Any], info) -> Any:
    selector = executionParams["selector"]
    job_name = selector.get("jobName") or selector.get("pipelineName")
    location_name, repository_name = selector["repositoryLocationName"], selector["repositoryName"]
    if selector.get("jobName") and selector.get("pipelineName") and selector["jobName"] != selector["pipelineName"]:
        return ConflictingExecutionParamsError(
            message=f"jobName {selector['jobName']!r} and pipelineName {selector['pipelineName']!r} differ; give one")
    if not job_name:
        return PipelineNotFoundError.for_job("", repository_name, location_name, "the selector names no job")
    if executionParams.get("preset"):
        return PresetNotFoundError(preset=executionParams["preset"],
                                   message=f"Preset {executionParams['preset']} not found in job {job_name}.")
    metadata = executionParams.get("executionMetadata") or {}
    asset_selection = selector.get("assetSelection")
    check_selection = selector.get("assetCheckSelection")
    return _submit_outcome(
        lambda: services.run_submit(
            job_name=job_name,
            location_name=location_name,
            repository_name=repository_name,
            run_config=_run_config_input(executionParams.get("runConfigData")),
            tags=_tags(metadata.get("tags")),
            op_selection=selector.get("solidSelection"),
            asset_selection=["/".join(k["path"]) for k in asset_selection] if asset_selection is not None else None,
            asset_check_selection=(
                [f"{'/'.join(c['assetKey']['path'])}:{c['name']}" for c in check_selection]
                if check_selection is not None else None
            ),
            step_keys_to_execute=executionParams.get("stepKeys") or None,
            parent_run_id=metadata.get("parentRunId"),
            root_run_id=metadata.get("rootRunId"),
            actor=_actor(info),
        ),
        job_name=job_name,
        repository_name=repository_name,
        location_name=location_name,
    )


@errors_as_data
def resolve_launch_run(root, info, executionParams) -> Any:
    return _launch(executionParams, info)


@errors_as_data
def resolve_launch_reexecution(root, info, executionParams=None, reexecutionParams=None) -> Any:
    if (executionParams is None) == (reexecutionParams is None):
        return ConflictingExecutionParamsError(message="Give exactly one of executionParams and reexecutionParams.")
    if executionParams is not None:
        return _launch(executionParams, info)
    parent_run_id = reexecutionParams["parentRunId"]
    try:
        parent = selectors.run_get(run_id=parent_run_id)
    except NotFound as exc:
        return PythonError.from_exception(exc)
    strategy = getattr(reexecutionParams["strategy"], "value", reexecutionParams["strategy"])
    return _submit_outcome(
        lambda: run_reexecute(
            parent_run_id=parent_run_id,
            strategy=strategy,
            extra_tags=_tags(reexecutionParams.get("extraTags")),
            actor=_actor(info),
        ),
        job_name=parent.job_name,
        repository_name=parent.repository_name,
        location_name=parent.location_name,
    )


def _terminate_one(info, run_id: str, force: bool) -> Any:
    try:
        run = services.run_terminate(run_id=run_id, force=force, actor=_actor(info))
    except NotFound:
        return RunNotFoundError.for_run(run_id)
    except Conflict:
        run = selectors.run_get(run_id=run_id)
        return TerminateRunFailure(
            run=run, message=f"Run {run_id} could not be terminated due to having status {run.status}."
        )
    return TerminateRunSuccess(run=run)


def _force(terminatePolicy: Any) -> bool:
    return getattr(terminatePolicy, "value", terminatePolicy) == "MARK_AS_CANCELED_IMMEDIATELY"


@errors_as_data
def resolve_terminate_run(root, info, runId: str, terminatePolicy=None) -> Any:
    return _terminate_one(info, runId, _force(terminatePolicy))


@errors_as_data
def resolve_terminate_runs(root, info, runIds: list[str], terminatePolicy=None) -> Any:
    force = _force(terminatePolicy)
    return TerminateRunsResult(terminateRunResults=[errors_as_data(_terminate_if_allowed)(info, run_id, force)
                                                    for run_id in runIds])


def _terminate_if_allowed(info, run_id: str, force: bool) -> Any:
    # terminateRuns answers each run on its own, so its permission is checked here, per run's location.
    ok, location = allowed(info.context, TERMINATE_RUN, {"runId": run_id})
    if not ok:
        return UnauthorizedError(message=denied_message(TERMINATE_RUN.permission, location))
    return _terminate_one(info, run_id, force)


class LaunchMutations(graphene.ObjectType):
    """Launch, re-execute and terminate; composed into the root `Mutation` by `orchestra_site.schema`."""

    launchRun = graphene.NonNull(LaunchRunResult, executionParams=ExecutionParams(required=True),
                                 resolver=resolve_launch_run)
    launchPipelineExecution = graphene.NonNull(
        LaunchRunResult, executionParams=ExecutionParams(required=True), resolver=resolve_launch_run
    )
    launchRunReexecution = graphene.NonNull(
        LaunchRunReexecutionResult,
        executionParams=ExecutionParams(),
        reexecutionParams=ReexecutionParams(),
        resolver=resolve_launch_reexecution,
    )
    launchPipelineReexecution = graphene.NonNull(
        LaunchRunReexecutionResult,
        executionParams=ExecutionParams(),
        reexecutionParams=ReexecutionParams(),
        resolver=resolve_launch_reexecution,
    )
    terminateRun = graphene.NonNull(
        TerminateRunResult, runId=graphene.String(required=True), terminatePolicy=TerminateRunPolicy(),
        resolver=resolve_terminate_run,
    )
    terminatePipelineExecution = graphene.NonNull(
        TerminateRunResult, runId=graphene.String(required=True), terminatePolicy=TerminateRunPolicy(),
        resolver=resolve_terminate_run,
    )
    terminateRuns = graphene.NonNull(
        TerminateRunsResultOrError,
        runIds=graphene.NonNull(graphene.List(graphene.NonNull(graphene.String))),
        terminatePolicy=TerminateRunPolicy(),
        resolver=resolve_terminate_runs,
    )


class LaunchQueries(graphene.ObjectType):
    """Checks made before a launch; composed into the root `Query` by `orchestra_site.schema`."""

    isPipelineConfigValid = graphene.NonNull(
        PipelineConfigValidationResult,
        pipeline=PipelineSelector(required=True),
        mode=graphene.String(required=True),
        runConfigData=RunConfigData(),
        resolver=resolve_is_config_valid,
    )
    runConfigSchemaOrError = graphene.NonNull(
        RunConfigSchemaOrError,
        selector=PipelineSelector(required=True),
        mode=graphene.String(),
        resolver=resolve_run_config_schema,
    )


# Types reachable only through an interface, which the root schema lists explicitly.
INTERFACE_ONLY_TYPES = CONFIG_ERROR_TYPES
