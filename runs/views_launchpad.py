"""Launchpad validation as you type: the run config (YAML) and op selection checked against the job's stored
snapshot, creating nothing; answers the errors fragment, each error at its path."""

from __future__ import annotations

from typing import Any

import yaml
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from core.exceptions import InvalidInput
from core.ui import not_found_as_404
from runs import selectors, services


def parse_op_selection(text: str) -> list[str]:
    """`a, b*, +c` or one per line: Dagster's op selection strings."""
    return [part.strip() for line in text.splitlines() for part in line.split(",") if part.strip()]


def check_launch_input(*, location_name: str, job_name: str, config_text: str, op_selection: list[str]
                       ) -> tuple[dict[str, Any] | None, str | None, list[Any]]:
    """The run config as a dict, or the error and the config errors (each with its path)."""
    try:
        run_config = yaml.safe_load(config_text) if config_text.strip() else {}
    except yaml.YAMLError as exc:
        return None, f"run config is not valid YAML: {exc}", []
    if run_config is not None and not isinstance(run_config, dict):
        return None, f"run config must be a YAML mapping, got {type(run_config).__name__}", []
    try:
        selectors.run_config_check(job_name=job_name, location_name=location_name, run_config=run_config or {},
                                   op_selection=op_selection or None)
    except services.RunConfigInvalid as exc:
        return None, "run config is invalid", list(exc.errors)
    except InvalidInput as exc:
        return None, str(exc), []
    return run_config or {}, None, []


@require_POST
@not_found_as_404
def job_config_check(request: HttpRequest, location_name: str, job_name: str) -> HttpResponse:
    op_selection = parse_op_selection(request.POST.get("op_selection", ""))
    _, error, errors = check_launch_input(location_name=location_name, job_name=job_name,
                                          config_text=request.POST.get("run_config", ""), op_selection=op_selection)
    return render(request, "ui/_config_check.html", {"error": error, "errors": errors, "checked": True,
                                                     "op_selection": op_selection})
