"""The launchpad's form: Launch (the run config (YAML), tags, op or asset selection and partition checked
against the job's stored snapshot, the errors sent back each at its path), and the form pre-filled from an
earlier run ("Open in launchpad"). Checking as you type is the browser's: `static/ui/launchpad.js` asks
/graphql's `isPipelineConfigValid`, which checks with the same `selectors.run_config_check`."""

from __future__ import annotations

from typing import Any

import yaml
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from core.exceptions import InvalidInput, NotFound
from core.permissions import Permission, actor_from_request
from core.ui import require_permission
from runs import selectors, services

PARTITION_TAG = "dagster/partition"
# Tags the system sets on a run (who launched it, lineage, the location): not carried into a new launch.
SYSTEM_TAG_PREFIXES = ("dagster/", ".dagster/", "orchestra/")


def parse_op_selection(text: str) -> list[str]:
    """`a, b*, +c` or one per line: Dagster's op selection strings."""
    return [part.strip() for line in text.splitlines() for part in line.split(",") if part.strip()]


def check_launch_input(*, location_name: str, job_name: str, config_text: str, op_selection: list[str],
                       asset_selection: list[str] | None = None) -> tuple[dict[str, Any] | None, str | None, list[Any]]:
    """The run config as a dict, or the error and the config errors (each with its path)."""
    try:
        run_config = yaml.safe_load(config_text) if config_text.strip() else {}
    except yaml.YAMLError as exc:
        return None, f"run config is not valid YAML: {exc}", []
    if run_config is not None and not isinstance(run_config, dict):
        return None, f"run config must be a YAML mapping, got {type(run_config).__name__}", []
    try:
        selectors.run_config_check(job_name=job_name, location_name=location_name, run_config=run_config or {},
                                   op_selection=op_selection or None, asset_selection=asset_selection or None)
    except services.RunConfigInvalid as exc:
        return None, "run config is invalid", list(exc.errors)
    except InvalidInput as exc:
        return None, str(exc), []
    return run_config or {}, None, []


def parse_tags(text: str) -> dict[str, str]:
    """One `key=value` a line (blank lines skipped)."""
    tags = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        key, found, value = line.partition("=")
        if not found or not key.strip():
            raise InvalidInput(f"tag line {number} must be key=value, got {line.strip()!r}")
        tags[key.strip()] = value.strip()
    return tags


def launchpad_from_run(*, run_id: str, location_name: str, job_name: str) -> dict[str, Any]:
    """The launchpad's fields as run `run_id` was launched: its config, its own tags (not the system's), its op
    or asset selection and partition. Raises NotFound for an unknown run, InvalidInput for a run of another job."""
    run = selectors.run_get(run_id=run_id)
    if run.job_name != job_name or (run.location_name or "") != location_name:
        raise InvalidInput(f"run {run_id!r} is a run of {run.job_name}@{run.location_name or '-'}, "
                           f"not of {job_name}@{location_name}")
    tags = selectors.run_tags(run)
    return {
        "config_text": yaml.safe_dump(run.run_config, sort_keys=False) if run.run_config else "",
        "tags_text": "\n".join(f"{key}={value}" for key, value in sorted(tags.items())
                               if not key.startswith(SYSTEM_TAG_PREFIXES)),
        "op_selection_text": ", ".join(run.op_selection or []),
        "asset_selection": ["/".join(path) for path in run.asset_selection or []],
        "partition": tags.get(PARTITION_TAG, ""),
    }


def launchpad_form(request: HttpRequest, *, location_name: str, job_name: str, scaffold: str
                   ) -> dict[str, Any] | HttpResponse:
    """The launchpad of a job page: on GET its fields (the config scaffold, or `?from_run=<id>`'s launch); on
    POST the run launched (a redirect to its page), or the fields sent back with the error."""
    form: dict[str, Any] = {"config_text": scaffold, "tags_text": "", "op_selection_text": "", "partition": "",
                            "asset_selection": [], "error": None, "errors": []}
    if request.method == "GET":
        if request.GET.get("from_run"):
            try:
                form.update(launchpad_from_run(run_id=request.GET["from_run"], location_name=location_name,
                                               job_name=job_name))
                form["from_run"] = request.GET["from_run"]
            except (NotFound, InvalidInput) as exc:
                form["error"] = str(exc)
        return form
    require_permission(request, Permission.LAUNCH_PIPELINE_EXECUTION, location_name)
    form.update(config_text=request.POST.get("run_config", ""), tags_text=request.POST.get("tags", ""),
                op_selection_text=request.POST.get("op_selection", ""),
                partition=request.POST.get("partition", "").strip(),
                asset_selection=[key for key in request.POST.getlist("asset_selection") if key])
    op_selection = parse_op_selection(form["op_selection_text"])
    run_config, form["error"], form["errors"] = check_launch_input(
        location_name=location_name, job_name=job_name, config_text=form["config_text"], op_selection=op_selection,
        asset_selection=form["asset_selection"])
    if form["error"] is None:
        try:
            tags = parse_tags(form["tags_text"])
            if form["partition"]:
                tags[PARTITION_TAG] = form["partition"]
            # The same arguments as GraphQL launchRun's selector (solidSelection, assetSelection).
            run = services.run_submit(job_name=job_name, location_name=location_name, run_config=run_config,
                                      tags=tags, op_selection=op_selection or None,
                                      asset_selection=form["asset_selection"] or None,
                                      actor=actor_from_request(request))
            return redirect("run-detail", run_id=run.run_id)
        except services.RunConfigInvalid as exc:
            form["error"], form["errors"] = "run config is invalid", list(exc.errors)
        except InvalidInput as exc:
            form["error"] = str(exc)
    return form
