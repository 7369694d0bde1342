"""Which permission each runs edge needs and where: the runs app's GraphQL mutations and REST operations.

Launch and re-execute act in the job's code location (a re-execution in its parent run's); terminate
and delete in the run's. `core.guards` enforces the tables; `orchestra_site` installs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.exceptions import OrchestraError
from core.guards import Rule, operation_rules
from core.permissions import Permission
from runs import api, api_launch, selectors
from runs.submission import resolve_target


def _selector_location(executionParams: Mapping[str, Any] | None) -> str | None:
    selector = (executionParams or {}).get("selector") or {}
    return selector.get("repositoryLocationName") or None


def _launch_location(executionParams: Mapping[str, Any], **_: Any) -> str | None:
    return _selector_location(executionParams)


def _reexecution_location(executionParams: Mapping[str, Any] | None = None,
                          reexecutionParams: Mapping[str, Any] | None = None, **_: Any) -> str | None:
    if executionParams is not None:
        return _selector_location(executionParams)
    return selectors.run_location_name(run_id=(reexecutionParams or {}).get("parentRunId") or "")


def run_location(runId: str, **_: Any) -> str | None:
    return selectors.run_location_name(run_id=runId)


MUTATION_RULES: dict[str, Rule] = {
    "launchRun": Rule(Permission.LAUNCH_PIPELINE_EXECUTION, _launch_location),
    "launchPipelineExecution": Rule(Permission.LAUNCH_PIPELINE_EXECUTION, _launch_location),
    "launchRunReexecution": Rule(Permission.LAUNCH_PIPELINE_REEXECUTION, _reexecution_location),
    "launchPipelineReexecution": Rule(Permission.LAUNCH_PIPELINE_REEXECUTION, _reexecution_location),
    "terminateRun": Rule(Permission.TERMINATE_PIPELINE_EXECUTION, run_location),
    "terminatePipelineExecution": Rule(Permission.TERMINATE_PIPELINE_EXECUTION, run_location),
    # One answer per run: the resolver asks TERMINATE_RUN for each (UnauthorizedError for those denied).
    "terminateRuns": Rule(Permission.TERMINATE_PIPELINE_EXECUTION, per_item=True),
    "deleteRun": Rule(Permission.DELETE_PIPELINE_RUN, run_location),
    "deletePipelineRun": Rule(Permission.DELETE_PIPELINE_RUN, run_location),
}

TERMINATE_RUN = MUTATION_RULES["terminateRun"]


def _rest_launch_location(body: Any, **_: Any) -> str | None:
    if body.location_name:
        return body.location_name
    try:
        return resolve_target(job_name=body.job_name, location_name=None,
                              repository_name=body.repository_name).location_name
    except OrchestraError:
        return None  # unknown or ambiguous job: asked instance-wide, then answered by the handler


def _rest_run_location(run_id: str, **_: Any) -> str | None:
    return selectors.run_location_name(run_id=run_id)


OPERATION_RULES: dict[str, Rule] = operation_rules({
    api_launch.launch_run: Rule(Permission.LAUNCH_PIPELINE_EXECUTION, _rest_launch_location),
    api_launch.terminate_run: Rule(Permission.TERMINATE_PIPELINE_EXECUTION, _rest_run_location),
    api_launch.reexecute_run: Rule(Permission.LAUNCH_PIPELINE_REEXECUTION, _rest_run_location),
    api.delete_run: Rule(Permission.DELETE_PIPELINE_RUN, _rest_run_location),
})
