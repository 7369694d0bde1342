"""Server-rendered pages of runs, jobs (with the launchpad), assets and the deployment.

Thin over `runs.selectors` / `runs.services` / `workspace.selectors`: each page makes a constant number
of queries whatever the number of rows. The run page renders on the server, then follows the run by
reading `/graphql` from the browser (static/ui/run_live.js); every page works without JavaScript.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import yaml
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_POST

from core.audit import LAUNCHED_BY_TAG
from core.exceptions import Conflict, InvalidInput
from core.permissions import Permission, actor_from_request, has_permission
from core.ui import not_found_as_404, require_permission
from runs import compute_logs, selectors, services
from runs.daemon_health import daemon_statuses
from runs.metadata_display import link_templates, metadata_items
from runs.models import RunStatus
from runs.queue import run_queue_usage
from runs.reexecution import run_reexecute
from runs.views_assets import asset_page_extras
from runs.views_launchpad import launchpad_form
from workspace import selectors as workspace_selectors
from workspace.config_types import config_schema_tree
from workspace.graphs import dep_key_string
from workspace.models import LocationStatus

PAGE_SIZE = 50
EVENT_PAGE = 500
ASSET_PAGE = 200
LOG_CHUNK = 64 * 1024
LEVEL_NAMES = {10: "DEBUG", 20: "INFO", 30: "WARNING", 40: "ERROR", 50: "CRITICAL"}
REEXECUTION_STRATEGIES = ("FROM_FAILURE", "ALL_STEPS")


# ---------------------------------------------------------------------------------------------- runs


def _parse_time(value: str, name: str) -> datetime | None:
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        raise InvalidInput(f"{name} must be a date and time like 2026-11-25T10:00, got {value!r}")
    return timezone.make_aware(parsed, timezone.get_current_timezone()) if timezone.is_naive(parsed) else parsed


def _tag_pairs(values: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for raw in values:
        raw = raw.strip()
        if not raw:
            continue
        sep = "=" if "=" in raw else ":"
        key, found, value = raw.partition(sep)
        if not found or not key:
            raise InvalidInput(f"tag filter must be key=value, got {raw!r}")
        pairs.append((key, value))
    return pairs


def _run_filter(request: HttpRequest) -> tuple[selectors.RunFilter, dict[str, Any]]:
    """The runs filter named by the query string, and the values to show back in the filter form."""
    statuses = [s for s in request.GET.getlist("status") if s]
    unknown = [s for s in statuses if s not in RunStatus.values]
    if unknown:
        raise InvalidInput(f"unknown run status {unknown[0]!r}; expected one of {', '.join(RunStatus.values)}")
    tags = [t for t in request.GET.getlist("tag") if t.strip()]
    form = {
        "statuses": statuses, "job": request.GET.get("job", "").strip(), "tags": tags,
        "launched_by": request.GET.get("launched_by", "").strip(),
        "created_after": request.GET.get("created_after", ""), "created_before": request.GET.get("created_before", ""),
        "asset": request.GET.get("asset", "").strip().strip("/"), "backfill": request.GET.get("backfill", "").strip(),
    }
    launched_by = [(LAUNCHED_BY_TAG, form["launched_by"])] if form["launched_by"] else []
    backfill = [(selectors.BACKFILL_TAG, form["backfill"])] if form["backfill"] else []
    filters = selectors.RunFilter(
        statuses=statuses or None, job_name=form["job"] or None, asset_key=form["asset"] or None,
        tags=selectors.tag_filter(_tag_pairs(tags) + launched_by + backfill),
        created_after=_parse_time(form["created_after"], "created_after"),
        created_before=_parse_time(form["created_before"], "created_before"),
    )
    return filters, form


def _run_rows(runs: list[Any]) -> list[dict[str, Any]]:
    rows = []
    for run in runs:
        tags = selectors.run_tags(run)
        rows.append({"run": run, "tags": sorted(tags.items()), "launched_by": tags.get(LAUNCHED_BY_TAG, "")})
    return rows


@require_GET
def runs_list(request: HttpRequest) -> HttpResponse:
    cursor = request.GET.get("cursor") or None
    error = None
    runs: list[Any] = []
    form: dict[str, Any] = {"statuses": [], "job": "", "tags": [], "launched_by": "", "created_after": "",
                            "created_before": ""}
    try:
        filters, form = _run_filter(request)
        runs = selectors.run_list(filters=filters, cursor=cursor, limit=PAGE_SIZE)
    except InvalidInput as exc:
        error = str(exc)
    except selectors.NotFound:
        error = f"cursor {cursor!r} names no run"
    next_url = None
    if len(runs) == PAGE_SIZE:
        query = request.GET.copy()
        query["cursor"] = runs[-1].run_id
        next_url = "?" + query.urlencode()
    first_url = None
    if cursor:
        query = request.GET.copy()
        query.pop("cursor", None)
        first_url = "?" + query.urlencode()
    return render(request, "ui/runs_list.html", {
        "nav": "runs", "rows": _run_rows(runs), "form": form, "error": error, "statuses": RunStatus.values,
        "next_url": next_url, "first_url": first_url, "status": 400 if error else 200,
    }, status=400 if error else 200)


def _event_rows(events: list[Any]) -> list[dict[str, Any]]:
    return [{"event": e, "level": LEVEL_NAMES.get(e.level, str(e.level))} for e in events]


def _log_tail(run_id: str, file_key: str, io_type: str, cursor: int) -> dict[str, Any]:
    chunk = compute_logs.captured_log_read(run_id=run_id, file_key=file_key, io_type=io_type, cursor=cursor,
                                           limit=LOG_CHUNK)
    return {"file_key": file_key, "io": io_type, "data": chunk.data, "cursor": chunk.cursor, "eof": chunk.eof}


def _event_window(request: HttpRequest, run_id: str) -> dict[str, Any]:
    """The events a run page opens on: the newest EVENT_PAGE (following the run live from there), those
    before `?before=<id>` (paged back: newer ones a click away), or those after `?after=<id>` (no JavaScript)."""
    after, before = request.GET.get("after", ""), request.GET.get("before", "")
    if after.isdigit():
        page = selectors.events_page(run_id=run_id, cursor=int(after), limit=EVENT_PAGE)
        first = page.events[0].id if page.events else int(after) + 1
        return {"events": page.events, "cursor": page.cursor or 0, "has_more": page.has_more, "follow": True,
                "earliest": first, "has_earlier": True}
    tail = selectors.events_tail(run_id=run_id, before=int(before) if before.isdigit() else None, limit=EVENT_PAGE)
    paged_back = before.isdigit()
    return {"events": tail.events, "cursor": tail.latest or (int(before) - 1 if paged_back else 0),
            "has_more": paged_back and bool(tail.events), "follow": not paged_back,
            "earliest": tail.earliest or 0, "has_earlier": tail.has_earlier}


def _launchpad_url(run: Any) -> str | None:
    if not run.location_name:
        return None
    return reverse("job-detail", args=[run.location_name, run.job_name]) + f"?from_run={run.run_id}#launchpad"


def _live_config(request: HttpRequest, run: Any, window: dict[str, Any], log: dict[str, Any] | None) -> dict[str, Any]:
    """What static/ui/run_live.js needs to follow the run through `/graphql` from where the page left off (the
    CSRF token it sends is the page's own, in `<body hx-headers>`, as static/ui/gql.js reads it)."""
    tail = None
    if log and not log.get("error") and not log.get("eof"):
        # capturedLogs reads both streams from one "<stdout offset>:<stderr offset>" cursor; the page shows one.
        offsets = {"stdout": 0, "stderr": 0, log["io"]: log["cursor"]}
        tail = {"logKey": [run.run_id, "compute_logs", log["file_key"]], "io": log["io"],
                "cursor": f"{offsets['stdout']}:{offsets['stderr']}"}
    return {
        "graphql": reverse("graphql"), "runId": run.run_id,
        "follow": bool(window["follow"]), "cursor": str(window["cursor"]), "hasMore": bool(window["has_more"]),
        "finished": run.is_finished, "log": tail,
        # As ui/_steps.html lists a finished run's planned steps that never started: live, from `executionPlan`.
        "planSteps": bool(run.location_name) and has_permission(
            request, Permission.LAUNCH_PIPELINE_REEXECUTION, run.location_name),
        "downloadBase": reverse("api:download_captured_log", args=[run.run_id, "FILE_KEY"]),
        "earlierUrl": reverse("run-events", args=[run.run_id]),
        "links": link_templates(),  # the run, asset and job pages that metadata links to
    }


@require_GET
@not_found_as_404
def run_detail(request: HttpRequest, run_id: str) -> HttpResponse:
    run = selectors.run_get(run_id=run_id)
    window = _event_window(request, run_id)
    steps = selectors.run_step_stats(run_id=run_id)
    captures = compute_logs.captured_log_keys(run_id=run_id)
    log = None
    file_key = request.GET.get("logs")
    if file_key:
        try:
            log = _log_tail(run_id, file_key, request.GET.get("io", "stdout"), 0)
        except InvalidInput as exc:
            log = {"error": str(exc), "file_key": file_key}
    return render(request, "ui/run_detail.html", {
        "nav": "runs", "run": run, "tags": sorted(selectors.run_tags(run).items()),
        "launched_by": selectors.run_tags(run).get(LAUNCHED_BY_TAG, ""),
        "steps": steps, **window, "events": _event_rows(window["events"]),
        "captures": captures, "log": log, "strategies": REEXECUTION_STRATEGIES, "launchpad_url": _launchpad_url(run),
        "config_text": yaml.safe_dump(run.run_config, sort_keys=False) if run.run_config else "",
        "live": _live_config(request, run, window, log),
    })


@require_GET
@not_found_as_404
def run_events(request: HttpRequest, run_id: str) -> HttpResponse:
    """The "Load earlier events" fragment: the page of events before `before` (a storage id), to go above those shown.

    The live page reads new events from `/graphql` (`logsForRun`); Dagster's schema pages only forward, so
    paging back stays this fragment (the same page as `?before=` on the run page without JavaScript).
    """
    run = selectors.run_get(run_id=run_id)
    before = request.GET.get("before", "")
    if not before.isdigit():
        return HttpResponse("before=<event id> is required", status=400, content_type="text/plain")
    tail = selectors.events_tail(run_id=run_id, before=int(before), limit=EVENT_PAGE)
    return render(request, "ui/_event_earlier_rows.html", {
        "run": run, "events": _event_rows(tail.events), "earliest": tail.earliest or 0,
        "has_earlier": tail.has_earlier,
    })


@require_POST
@not_found_as_404
def run_terminate(request: HttpRequest, run_id: str) -> HttpResponse:
    require_permission(request, Permission.TERMINATE_PIPELINE_EXECUTION, selectors.run_location_name(run_id=run_id))
    try:
        services.run_terminate(run_id=run_id, force=request.POST.get("force") == "1", actor=actor_from_request(request))
        messages.success(request, "Termination requested.")
    except Conflict as exc:
        messages.error(request, str(exc))
    return redirect("run-detail", run_id=run_id)


@require_POST
@not_found_as_404
def run_reexecute_view(request: HttpRequest, run_id: str) -> HttpResponse:
    require_permission(request, Permission.LAUNCH_PIPELINE_REEXECUTION, selectors.run_location_name(run_id=run_id))
    strategy = request.POST.get("strategy", "FROM_FAILURE")
    step_keys = None
    if strategy == "SELECTED":  # the steps ticked in the step list or on the Gantt chart
        strategy, step_keys = "ALL_STEPS", request.POST.getlist("step")
    elif strategy not in REEXECUTION_STRATEGIES:
        messages.error(request, f"unknown re-execution strategy {strategy!r}; expected one of "
                                f"{', '.join(REEXECUTION_STRATEGIES)} or SELECTED")
        return redirect("run-detail", run_id=run_id)
    try:
        child = run_reexecute(parent_run_id=run_id, strategy=strategy, step_keys=step_keys,
                              actor=actor_from_request(request))
    except (InvalidInput, Conflict) as exc:
        messages.error(request, str(exc))
        return redirect("run-detail", run_id=run_id)
    return redirect("run-detail", run_id=child.run_id)


# ---------------------------------------------------------------------------------------------- jobs


def _visible_jobs(snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    return [job for job in snapshot.get("jobs") or [] if not job["name"].startswith("__")]


@require_GET
def jobs_list(request: HttpRequest) -> HttpResponse:
    rows = []
    for location_name, snapshot in workspace_selectors.loaded_snapshots_cached().items():
        for job in _visible_jobs(snapshot):
            rows.append({"location": location_name, "job": job})
    return render(request, "ui/jobs_list.html", {"nav": "jobs", "rows": rows})


def config_scaffold(schema: dict[str, Any]) -> Any:
    """The part of a run config a user must fill in, from the job's JSON schema: every required field
    (recursively), with a placeholder of its type; optional fields and defaulted ones are left out."""
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        required = schema.get("required") or []
        out = {}
        for name, sub in (schema.get("properties") or {}).items():
            if name in required or _needs_config(sub):
                out[name] = config_scaffold(sub)
        return out
    if "default" in schema:
        return schema["default"]
    for branch in schema.get("anyOf") or []:  # a value or {env: NAME}, an optional value: the first non-null
        if branch.get("type") != "null":
            return config_scaffold(branch)
    return {"integer": 0, "number": 0.0, "string": "", "boolean": False, "array": []}.get(kind, None)


def _needs_config(schema: dict[str, Any]) -> bool:
    if "default" in schema and not schema.get("required"):
        return False
    if schema.get("required"):
        return True
    return any(_needs_config(sub) for sub in (schema.get("properties") or {}).values())


def _scaffold_yaml(job: dict[str, Any]) -> str:
    schema = (job.get("run_config_schema") or {}).get("json_schema") or {}
    scaffold = config_scaffold(schema) if schema else {}
    return yaml.safe_dump(scaffold, sort_keys=False) if scaffold else ""


@not_found_as_404
def job_detail(request: HttpRequest, location_name: str, job_name: str) -> HttpResponse:
    """A job with its recent runs and the launchpad: run config (YAML), tags, Launch."""
    job = workspace_selectors.cached_job(location_name=location_name, job_name=job_name)
    if request.method not in ("GET", "POST"):
        return HttpResponse(status=405)
    form = launchpad_form(request, location_name=location_name, job_name=job_name, scaffold=_scaffold_yaml(job))
    if not isinstance(form, dict):
        return form  # launched: the run's page
    config_text, tags_text, error, errors = form["config_text"], form["tags_text"], form["error"], form["errors"]
    op_selection_text, partition = form["op_selection_text"], form["partition"]
    recent = selectors.run_list(filters=selectors.RunFilter(job_name=job_name, location_name=location_name), limit=10)
    return render(request, "ui/job_detail.html", {
        "nav": "jobs", "location_name": location_name, "job": job, "config_text": config_text,
        "repository_name": workspace_selectors.location_repository_name(location_name=location_name),
        "tags_text": tags_text, "error": error, "errors": errors, "rows": _run_rows(recent),
        "ops": [node["name"] for node in (job.get("graph") or {}).get("nodes") or []],
        # the graph is drawn from GraphQL's solidHandles (static/ui/graph.js), from the job's top level
        "job_href": reverse("job-detail", args=[location_name, job_name]), "graph_source": "job", "graph_path": "",
        "op_selection_text": op_selection_text, "partition": partition, "config_schema": config_schema_tree(job.get("run_config_schema")),
        "partitions": job.get("partitions"), "asset_selection": form["asset_selection"],
        "asset_keys": job.get("asset_keys") or [], "from_run": form.get("from_run"),
        "instigators": workspace_selectors.job_instigators(location_name=location_name, job_name=job_name),
    }, status=400 if error else 200)


# -------------------------------------------------------------------------------------------- assets


def _asset_nodes() -> list[tuple[str, dict[str, Any]]]:
    nodes = []
    for location_name, snapshot in workspace_selectors.loaded_snapshots_cached().items():
        for node in snapshot.get("asset_nodes") or []:
            nodes.append((location_name, node))
    return nodes


@require_GET
def assets_list(request: HttpRequest) -> HttpResponse:
    prefix = request.GET.get("prefix", "").strip().strip("/")
    group = request.GET.get("group", "").strip()
    text = request.GET.get("q", "").strip().lower()
    kind, owner, location = (request.GET.get(name, "").strip() for name in ("kind", "owner", "location"))
    all_nodes = _asset_nodes()
    groups = sorted({node.get("group_name") or "default" for _, node in all_nodes})
    choices = {"kinds": sorted({k for _, node in all_nodes for k in node.get("kinds") or []}),
               "owners": sorted({o for _, node in all_nodes for o in node.get("owners") or []}),
               "locations": sorted({loc for loc, _ in all_nodes})}
    nodes = [
        (loc, node) for loc, node in all_nodes
        if (not prefix or node["key_string"] == prefix or node["key_string"].startswith(prefix + "/"))
        and (not group or (node.get("group_name") or "default") == group)
        and (not text or text in node["key_string"].lower() or text in (node.get("description") or "").lower())
        and (not kind or kind in (node.get("kinds") or [])) and (not owner or owner in (node.get("owners") or []))
        and (not location or loc == location)
    ]
    after = request.GET.get("after", "")
    nodes = sorted((item for item in nodes if item[1]["key_string"] > after), key=lambda item: item[1]["key_string"])
    page, more = nodes[:ASSET_PAGE], len(nodes) > ASSET_PAGE
    keys = [node["key_string"] for _, node in page]
    latest = selectors.asset_latest_materializations(asset_keys=keys)
    checks = selectors.asset_check_summary(asset_keys=keys)
    rows = [{"location": loc, "node": node, "latest": latest.get(node["key_string"]),
             "checks": checks.get(node["key_string"])} for loc, node in page]
    next_url = None
    if more:
        query = request.GET.copy()
        query["after"] = page[-1][1]["key_string"]
        next_url = "?" + query.urlencode()
    return render(request, "ui/assets_list.html", {
        "nav": "assets", "rows": rows, "prefix": prefix, "group": group, "groups": groups, "next_url": next_url,
        "total": len(nodes), "q": text, "kind": kind, "owner": owner, "location": location, **choices,
    })


def _metadata_items(payload: dict[str, Any]) -> list[tuple[str, Any]]:
    """An event's metadata entries as (label, value shown), as everywhere (runs.metadata_display)."""
    return metadata_items(payload.get("metadata"))


def _asset_node(key: str) -> tuple[str, dict[str, Any]]:
    for location_name, node in _asset_nodes():
        if node["key_string"] == key:
            return location_name, node
    raise selectors.NotFound("asset", key)


@not_found_as_404
def asset_detail(request: HttpRequest, key: str) -> HttpResponse:
    location_name, node = _asset_node(key.strip("/"))
    key = node["key_string"]
    error = None
    if request.method == "POST":
        require_permission(request, Permission.LAUNCH_PIPELINE_EXECUTION, location_name)
        job_names = node.get("job_names") or []
        job_name = "__ASSET_JOB" if "__ASSET_JOB" in job_names else (job_names[0] if job_names else None)
        if job_name is None or not node.get("is_materializable", True):
            error = f"asset {key!r} has no job that materializes it"
        else:
            try:
                partition = request.POST.get("partition", "").strip()
                run = services.run_submit(job_name=job_name, location_name=location_name, asset_selection=[key],
                                          tags={"dagster/partition": partition} if partition else None,
                                          actor=actor_from_request(request))
                return redirect("run-detail", run_id=run.run_id)
            except InvalidInput as exc:
                error = str(exc)
    elif request.method != "GET":
        return HttpResponse(status=405)
    history = [{"event": e, "metadata": _metadata_items(e.payload)}
               for e in selectors.asset_materializations(asset_key=key, limit=50)]
    return render(request, "ui/asset_detail.html", {
        **asset_page_extras(key, node, _asset_nodes(), [row["event"] for row in history]),
        "nav": "assets", "location_name": location_name, "node": node, "history": history, "error": error,
        "deps": [dep_key_string(dep) for dep in node.get("deps") or []],
    }, status=400 if error else 200)


# ---------------------------------------------------------------------------------------- deployment


@require_GET
def deployment(request: HttpRequest) -> HttpResponse:
    locations = list(workspace_selectors.location_list())
    return render(request, "ui/deployment.html", {
        "nav": "deployment", "locations": locations, "daemons": daemon_statuses(),
        "loading": any(location.status == LocationStatus.LOADING for location in locations),
        "queue": run_queue_usage(),
    })


@require_GET
def deployment_config(request: HttpRequest) -> HttpResponse:
    """The resolved instance configuration (orchestra.yaml and its defaults), secrets masked."""
    described = settings.INSTANCE.describe()
    return render(request, "ui/deployment_config.html", {
        "nav": "deployment", "described": described,
        "yaml": yaml.safe_dump(described, sort_keys=False, default_flow_style=False),
    })
