"""Backfills of partitioned jobs or partitioned assets: created from a list or range of partitions, their
runs submitted progressively by a daemon duty (`backfill_progress`) through `run_submit`, with a cap on runs
in flight. An asset backfill runs the assets' implicit asset job once per partition with the assets as its
asset selection and an empty run config, as Dagster's asset backfills do.

Each batch asks the code server for the batch's run config and tags (no network call inside a
transaction), then submits its runs and advances `Backfill.submitted` in one transaction under the
backfill's row lock; a batch another daemon already submitted is dropped, and a crash mid-batch
leaves nothing half-written.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.exceptions import Conflict, InvalidInput, NotFound
from core.permissions import Actor
from core.services import audit_record
from runs import services as run_services
from runs.models import FINISHED_STATUSES, Run, RunStatus
from scheduling.models import Backfill, BackfillStatus
from scheduling.selectors import BACKFILL_TAG, PARTITION_TAG, RANGE_END_TAG, RANGE_START_TAG
from workspace.client import CodeServerClient, CodeServerError
from workspace.models import CodeLocation, LocationStatus

logger = logging.getLogger(__name__)

IMPLICIT_ASSET_JOB = "__ASSET_JOB"
DEFAULT_BATCH_SIZE = 100


def backfill_create(*, location_name: str = "", job_name: str = "", asset_selection: Sequence[str] | None = None,
                    partition_names: Sequence[str] | None = None,
                    partition_range: tuple[str, str] | None = None, all_partitions: bool = False,
                    tags: Mapping[str, str] | None = None, max_runs_in_flight: int | None = None,
                    client: CodeServerClient | None = None, actor: Any = None, from_failure_of: str = "") -> Backfill:
    """A backfill of `job_name`, or of the partitioned assets `asset_selection` (key strings `a/b`),
    for the named partitions, an inclusive range of them, or all of them.

    An asset backfill runs, per partition, the assets' implicit asset job (`__ASSET_JOB`) with the
    selection as its asset selection, as Dagster's asset backfills do; the assets must share one
    partitions definition. Raises NotFound for an unknown location or job, InvalidInput for a job
    or asset without partitions, assets of different partitions, partitions they do not have, or not
    exactly one of the three ways of choosing them. Without `location_name` an asset backfill runs
    in the loaded location that has the first selected asset.
    """
    if sum([partition_names is not None, partition_range is not None, all_partitions]) != 1:
        raise InvalidInput("give exactly one of partition_names, partition_range or all_partitions")
    if bool(job_name) == bool(asset_selection):
        raise InvalidInput("give exactly one of job_name or asset_selection")
    if asset_selection and not location_name:
        location_name = _location_of_asset(asset_selection[0])
    location = CodeLocation.objects.filter(name=location_name, status=LocationStatus.LOADED).first()
    if location is None or location.snapshot is None:
        raise NotFound("code location", location_name)
    selection: list[str] = []
    if asset_selection:
        selection = list(dict.fromkeys(asset_selection))
        job_name, keys_source = _asset_backfill_job(location, selection)
        what = f"assets {', '.join(selection)}"
    else:
        job = next((j for j in location.snapshot.get("jobs", []) if j["name"] == job_name), None)
        if job is None:
            raise NotFound("job", f"{job_name}@{location_name}")
        if not job.get("partitions"):
            raise InvalidInput(f"job {job_name!r} has no partitions; a backfill needs a partitioned job")
        keys_source, what = job_name, f"job {job_name!r}"
    client = client or _client_for(location)
    answer = client.partition_keys(keys_source)
    if answer.get("error"):
        raise InvalidInput(f"the partitions of {what} could not be listed: {answer['error']['message']}")
    known = list(answer["partition_keys"])
    if all_partitions:
        names = known
    elif partition_range is not None:
        start, end = partition_range
        missing = [k for k in (start, end) if k not in known]
        if missing:
            raise InvalidInput(f"partition range of {what}: no partition named {missing[0]!r}")
        names = known[known.index(start):known.index(end) + 1]
        if not names:
            raise InvalidInput(f"partition range {start!r}..{end!r} is empty: the start comes after the end")
    else:
        known_set = set(known)
        unknown = [name for name in partition_names if name not in known_set]
        if unknown:
            raise InvalidInput(f"{what} has no partitions named {', '.join(map(repr, unknown[:5]))}")
        names = list(dict.fromkeys(partition_names))
    if not names:
        raise InvalidInput("a backfill needs at least one partition")
    if max_runs_in_flight is not None and max_runs_in_flight < 1:
        raise InvalidInput(f"max_runs_in_flight must be at least 1, got {max_runs_in_flight}")
    plan = asset_run_plan(location.snapshot.get("asset_nodes", []), selection, names, known) if selection else []
    with transaction.atomic():
        backfill = Backfill.objects.create(
            location_name=location_name, repository_name=location.snapshot.get("repository_name") or "",
            job_name=job_name, asset_selection=selection, partition_names=names, run_plan=plan,
            tags={str(k): str(v) for k, v in (tags or {}).items()},
            max_runs_in_flight=max_runs_in_flight, from_failure_of=from_failure_of,
        )
        audit_record(actor=actor, action="backfill.launch", target_type="backfill", target_id=backfill.backfill_id,
                     location_name=location_name,
                     details={"job_name": job_name, "asset_selection": selection[:100], "partitions": len(names),
                              **({"from_failure_of": from_failure_of} if from_failure_of else {})})
    return backfill


def backfill_progress(*, backfill_id: str, batch_size: int = DEFAULT_BATCH_SIZE, max_batches: int | None = None,
                      client: CodeServerClient | None = None) -> Backfill:
    """The daemon duty: submit the backfill's next partitions in batches until all are submitted, the
    cap on runs in flight is reached, or `max_batches`; settle CANCELING and finished backfills.
    Safe to run in several workers at once.
    """
    batches = 0
    while True:
        backfill = _get(backfill_id)
        if backfill.status == BackfillStatus.CANCELING:
            return _settle_canceling(backfill)
        if backfill.status != BackfillStatus.REQUESTED:
            return backfill
        remaining = len(backfill.run_plan or backfill.partition_names) - backfill.submitted
        if remaining <= 0:
            return _settle_finished(backfill)
        room = min(batch_size, remaining)
        if backfill.max_runs_in_flight is not None:
            room = min(room, backfill.max_runs_in_flight - _runs(backfill).exclude(status__in=FINISHED_STATUSES).count())
        if room <= 0 or (max_batches is not None and batches >= max_batches):
            return backfill
        try:
            _submit_batch(backfill, room, client)
        except BackfillWaiting:
            return _get(backfill_id)
        batches += 1


def backfill_cancel(*, backfill_id: str, actor: Any = None) -> Backfill:
    """Stop submitting, and terminate the backfill's runs that have not finished; CANCELED once they have."""
    with transaction.atomic():
        backfill = Backfill.objects.select_for_update().filter(backfill_id=backfill_id).first()
        if backfill is None:
            raise NotFound("backfill", backfill_id)
        if backfill.status != BackfillStatus.REQUESTED:
            raise Conflict(f"backfill {backfill_id} is {backfill.status}; only a requested backfill can be canceled")
        _set_status(backfill, BackfillStatus.CANCELING)
        audit_record(actor=actor, action="backfill.cancel", target_type="backfill", target_id=backfill_id,
                     location_name=backfill.location_name)
    return _settle_canceling(backfill, actor=actor)


def backfill_reexecute_failed(*, backfill_id: str, actor: Any = None, client: CodeServerClient | None = None
                              ) -> Backfill:
    """A new backfill of the partitions whose latest run in this backfill failed or was canceled."""
    backfill = _get(backfill_id)
    if backfill.status not in (BackfillStatus.COMPLETED_FAILED, BackfillStatus.COMPLETED_SUCCESS,
                               BackfillStatus.CANCELED, BackfillStatus.FAILED):
        raise Conflict(f"backfill {backfill_id} is {backfill.status}; re-execute it once it has finished")
    if backfill.run_plan:
        failed = _plan_failed_partitions(backfill)
    else:
        latest: dict[str, str] = {}
        for run in _runs(backfill).order_by("id").prefetch_related("tags"):
            partition = next((t.value for t in run.tags.all() if t.key == PARTITION_TAG), None)
            if partition is not None:
                latest[partition] = run.status
        failed = [p for p in backfill.partition_names[:backfill.submitted]
                  if latest.get(p) in (RunStatus.FAILURE, RunStatus.CANCELED)]
        failed += backfill.partition_names[backfill.submitted:]  # never submitted (failed or canceled backfill)
    if not failed:
        raise InvalidInput(f"backfill {backfill_id} has no failed partitions to re-execute")
    return backfill_create(location_name=backfill.location_name,
                           **({"asset_selection": backfill.asset_selection} if backfill.asset_selection
                              else {"job_name": backfill.job_name}), partition_names=failed,
                           tags=backfill.tags, max_runs_in_flight=backfill.max_runs_in_flight, client=client,
                           actor=actor, from_failure_of=backfill.backfill_id)


def backfill_resume(*, backfill_id: str, actor: Any = None) -> Backfill:
    """Submit a FAILED backfill's remaining partitions again (Dagster's resume: runs that failed are not
    retried; `backfill_reexecute_failed` does that)."""
    with transaction.atomic():
        backfill = Backfill.objects.select_for_update().filter(backfill_id=backfill_id).first()
        if backfill is None:
            raise NotFound("backfill", backfill_id)
        if backfill.status != BackfillStatus.FAILED:
            raise Conflict(f"backfill {backfill_id} is {backfill.status}; only a failed backfill can be resumed")
        backfill.error = None
        _set_status(backfill, BackfillStatus.REQUESTED)
        audit_record(actor=actor, action="backfill.resume", target_type="backfill", target_id=backfill_id,
                     location_name=backfill.location_name)
    return backfill


# --- the steps ----------------------------------------------------------------------------------


def _asset_backfill_job(location: CodeLocation, selection: list[str]) -> tuple[str, str]:
    """The implicit asset job that materializes all of `selection`, and the asset to ask for the
    partition keys; from the stored snapshot's asset nodes. InvalidInput if the assets are unknown,
    unpartitioned, of different partitions, or share no implicit asset job."""
    nodes = {node["key_string"]: node for node in location.snapshot.get("asset_nodes", [])}
    unknown = [key for key in selection if key not in nodes]
    if unknown:
        raise InvalidInput(f"code location {location.name!r} has no assets {', '.join(map(repr, unknown))}")
    unpartitioned = [key for key in selection if not nodes[key].get("partitions")]
    if unpartitioned:
        raise InvalidInput(f"assets {', '.join(map(repr, unpartitioned))} have no partitions; an asset backfill "
                           "needs partitioned assets")
    distinct: list[dict] = []
    for key in selection:
        if nodes[key]["partitions"] not in distinct:
            distinct.append(nodes[key]["partitions"])
    if len(distinct) > 1:
        described = "; ".join(f"{key!r}: {_describe_partitions(nodes[key]['partitions'])}" for key in selection)
        raise InvalidInput(f"the assets of a backfill must share one partitions definition, but {described}")
    common = set(nodes[selection[0]].get("job_names", []))
    for key in selection[1:]:
        common &= set(nodes[key].get("job_names", []))
    job_name = next((name for name in sorted(common) if name.startswith(IMPLICIT_ASSET_JOB)), None)
    if job_name is None:
        raise InvalidInput(f"assets {', '.join(map(repr, selection))} share no implicit asset job to run them in "
                           "(are they all materializable?)")
    return job_name, selection[0]


def _location_of_asset(key: str) -> str:
    for location in CodeLocation.objects.filter(status=LocationStatus.LOADED).order_by("name"):
        if any(node.get("key_string") == key for node in (location.snapshot or {}).get("asset_nodes", [])):
            return location.name
    raise NotFound("asset", key)


def _describe_partitions(partitions: Mapping[str, Any]) -> str:
    kind = partitions.get("kind")
    if kind == "time_window":
        start = dt.datetime.fromtimestamp(partitions["start"], tz=dt.UTC).strftime(partitions["fmt"])
        return f"{partitions.get('class') or 'TimeWindowPartitionsDefinition'} from {start}"
    if kind == "static":
        keys = partitions.get("partition_keys", [])
        return f"static partitions {keys[:5]!r}{' ...' if len(keys) > 5 else ''}"
    if kind == "dynamic":
        return f"dynamic partitions {partitions.get('name')!r}"
    return f"{kind} partitions"


def _submit_batch(backfill: Backfill, size: int, client: CodeServerClient | None) -> None:
    start = backfill.submitted
    if backfill.run_plan:
        _submit_plan_batch(backfill, start, size)
        return
    keys = backfill.partition_names[start:start + size]
    if backfill.asset_selection:
        _submit_asset_batch(backfill, start, keys)
        return
    try:
        client = client or _client_for(CodeLocation.objects.get(name=backfill.location_name))
        answer = client.partition_details(backfill.job_name, keys)
    except (CodeServerError, CodeLocation.DoesNotExist, Conflict) as exc:
        # A code server that is down is waited for: the next pass tries again.
        logger.warning("backfill %s: partition config unavailable: %s", backfill.backfill_id, exc)
        raise BackfillWaiting(str(exc)) from exc
    details = {p["partition_key"]: p for p in answer.get("partitions", [])}
    error = answer.get("error") or next((details[k]["error"] for k in keys if details.get(k, {}).get("error")), None)
    if error is None and any(k not in details for k in keys):
        error = {"cls_name": "CodeServerError", "message": "the code server left out partitions", "stack": [],
                 "cause": None}
    try:
        with transaction.atomic():
            locked = Backfill.objects.select_for_update().get(pk=backfill.pk)
            if locked.status != BackfillStatus.REQUESTED or locked.submitted != start:
                return  # another worker submitted this batch, or the backfill was canceled meanwhile
            if error is not None:
                locked.error = error
                _set_status(locked, BackfillStatus.FAILED)
                return
            for key in keys:
                tags = {**details[key].get("tags", {}), **locked.tags, BACKFILL_TAG: locked.backfill_id,
                        PARTITION_TAG: key, run_services.IDEMPOTENCY_KEY_TAG: f"backfill:{locked.backfill_id}:{key}"}
                run_services.run_submit(job_name=locked.job_name, location_name=locked.location_name,
                                        repository_name=locked.repository_name or None,
                                        run_config=details[key].get("run_config") or {}, tags=tags,
                                        actor=backfill_actor(locked))
            locked.submitted = start + len(keys)
            locked.updated_at = timezone.now()
            locked.save(update_fields=["submitted", "updated_at"])
    except (InvalidInput, NotFound) as exc:
        with transaction.atomic():
            locked = Backfill.objects.select_for_update().get(pk=backfill.pk)
            locked.error = {"cls_name": type(exc).__name__, "message": str(exc), "stack": [], "cause": None}
            _set_status(locked, BackfillStatus.FAILED)


def _submit_asset_batch(backfill: Backfill, start: int, keys: list[str]) -> None:
    """One run per partition of the implicit asset job over the selected assets, with an empty run
    config (Dagster's asset backfill runs carry only their tags); nothing to ask the code server."""
    try:
        with transaction.atomic():
            locked = Backfill.objects.select_for_update().get(pk=backfill.pk)
            if locked.status != BackfillStatus.REQUESTED or locked.submitted != start:
                return
            for key in keys:
                tags = {**locked.tags, BACKFILL_TAG: locked.backfill_id, PARTITION_TAG: key,
                        run_services.IDEMPOTENCY_KEY_TAG: f"backfill:{locked.backfill_id}:{key}"}
                run_services.run_submit(job_name=locked.job_name, location_name=locked.location_name,
                                        repository_name=locked.repository_name or None, run_config={},
                                        asset_selection=list(locked.asset_selection), tags=tags,
                                        actor=backfill_actor(locked))
            locked.submitted = start + len(keys)
            locked.updated_at = timezone.now()
            locked.save(update_fields=["submitted", "updated_at"])
    except (InvalidInput, NotFound) as exc:
        with transaction.atomic():
            locked = Backfill.objects.select_for_update().get(pk=backfill.pk)
            locked.error = {"cls_name": type(exc).__name__, "message": str(exc), "stack": [], "cause": None}
            _set_status(locked, BackfillStatus.FAILED)


# --- asset backfills by backfill policy -----------------------------------------------------------
# Dagster's asset backfill daemon groups the selected assets by backfill policy: assets without one run
# once per partition (`dagster/partition`), a `single_run()` asset once per contiguous range of the
# selected partitions, a `multi_run(N)` asset once per chunk of at most N partitions of a range (both
# tagged `dagster/asset_partition_range_start` / `_end`). Assets of one group run together (their run
# executes them in dependency order); a run of a downstream group waits until the runs of its upstream
# groups covering the same partitions have succeeded, and is skipped when one of them failed.


def _policy_key(node: Mapping[str, Any]) -> str:
    policy = node.get("backfill_policy")
    if policy is None:
        return "partition"
    limit = policy.get("max_partitions_per_run")
    return "single" if limit is None else f"multi:{int(limit)}"


def asset_run_plan(asset_nodes: Sequence[Mapping[str, Any]], selection: Sequence[str], partitions: Sequence[str],
                   known: Sequence[str]) -> list[dict[str, Any]]:
    """The runs of an asset backfill in submission order, or [] when every asset runs once per partition in
    one run with the others (no policy anywhere): the per-partition path needs no plan."""
    nodes = {node["key_string"]: node for node in asset_nodes}
    selected = set(selection)
    parents = {key: ["/".join(dep) for dep in nodes[key].get("deps", []) if "/".join(dep) in selected]
               for key in selection}
    policy = {key: _policy_key(nodes[key]) for key in selection}
    if set(policy.values()) == {"partition"}:
        return []
    generation: dict[str, int] = {}

    def generation_of(key: str, seen: frozenset = frozenset()) -> int:
        if key not in generation:
            generation[key] = max((generation_of(p, seen | {key}) + (policy[p] != policy[key])
                                   for p in parents[key] if p not in seen), default=0)
        return generation[key]

    groups: dict[tuple[int, str], list[str]] = {}
    for key in selection:
        groups.setdefault((generation_of(key), policy[key]), []).append(key)
    order = sorted(groups, key=lambda g: g[0])
    position = {key: i for i, key in enumerate(known)}
    chosen = sorted(partitions, key=position.__getitem__)
    ranges: list[list[str]] = []
    for key in chosen:
        if ranges and position[key] == position[ranges[-1][-1]] + 1:
            ranges[-1].append(key)
        else:
            ranges.append([key])
    plan: list[dict[str, Any]] = []
    units_of: dict[tuple[int, str], list[int]] = {}
    for group in order:
        assets, kind = groups[group], group[1]
        upstream = [g for g in order if g != group and any(p in groups[g] for a in assets for p in parents[a])]
        if kind == "partition":
            chunks = [[key] for key in chosen]
        else:
            size = None if kind == "single" else int(kind.split(":")[1])
            chunks = [r[i:i + size] if size else r for r in ranges for i in range(0, len(r), size or len(r))]
        for chunk in chunks:
            after = sorted(i for g in upstream for i in units_of[g] if set(plan[i]["partitions"]) & set(chunk))
            units_of.setdefault(group, []).append(len(plan))
            plan.append({"assets": assets, "partitions": chunk, "ranged": kind != "partition", "after": after,
                         "run_id": None, "skipped": False})
    return plan


def _plan_run_tags(backfill: Backfill, index: int, unit: Mapping[str, Any]) -> dict[str, str]:
    partitions = unit["partitions"]
    where = ({RANGE_START_TAG: partitions[0], RANGE_END_TAG: partitions[-1]} if unit["ranged"]
             else {PARTITION_TAG: partitions[0]})
    return {**backfill.tags, BACKFILL_TAG: backfill.backfill_id, **where,
            run_services.IDEMPOTENCY_KEY_TAG: f"backfill:{backfill.backfill_id}:run:{index}"}


def _submit_plan_batch(backfill: Backfill, start: int, size: int) -> None:
    """Submit the plan's next runs from `start`, up to `size`, stopping at the first whose upstream runs
    have not all finished (BackfillWaiting); a run whose upstream failed is skipped."""
    try:
        with transaction.atomic():
            locked = Backfill.objects.select_for_update().get(pk=backfill.pk)
            if locked.status != BackfillStatus.REQUESTED or locked.submitted != start:
                return
            plan = locked.run_plan
            statuses = dict(Run.objects.filter(run_id__in=[u["run_id"] for u in plan if u["run_id"]])
                            .values_list("run_id", "status"))
            index, waiting = start, False
            while index < min(start + size, len(plan)):
                unit = plan[index]
                upstream = [plan[i] for i in unit["after"]]
                if any(u["skipped"] or statuses.get(u["run_id"]) in (RunStatus.FAILURE, RunStatus.CANCELED)
                       for u in upstream):
                    unit["skipped"] = True
                elif any(statuses.get(u["run_id"]) != RunStatus.SUCCESS for u in upstream):
                    waiting = True
                    break
                else:
                    run = run_services.run_submit(
                        job_name=locked.job_name, location_name=locked.location_name,
                        repository_name=locked.repository_name or None, run_config={},
                        asset_selection=list(unit["assets"]), tags=_plan_run_tags(locked, index, unit),
                        actor=backfill_actor(locked))
                    unit["run_id"] = run.run_id
                index += 1
            locked.run_plan = plan
            locked.submitted = index
            locked.updated_at = timezone.now()
            locked.save(update_fields=["run_plan", "submitted", "updated_at"])
    except (InvalidInput, NotFound) as exc:
        with transaction.atomic():
            locked = Backfill.objects.select_for_update().get(pk=backfill.pk)
            locked.error = {"cls_name": type(exc).__name__, "message": str(exc), "stack": [], "cause": None}
            _set_status(locked, BackfillStatus.FAILED)
        return
    if waiting:
        raise BackfillWaiting("upstream runs of the backfill have not finished")


def _plan_failed_partitions(backfill: Backfill) -> list[str]:
    """The partitions of the plan's runs that failed, were canceled, skipped or never submitted."""
    plan = backfill.run_plan
    statuses = dict(Run.objects.filter(run_id__in=[u["run_id"] for u in plan if u["run_id"]])
                    .values_list("run_id", "status"))
    failed = {p for u in plan if u["skipped"] or not u["run_id"]
              or statuses.get(u["run_id"]) in (RunStatus.FAILURE, RunStatus.CANCELED) for p in u["partitions"]}
    return [p for p in backfill.partition_names if p in failed]


class BackfillWaiting(Exception):
    """The code server cannot answer now; the batch is tried again on the next pass."""


def backfill_actor(backfill: Backfill) -> Actor:
    """Who launches a backfill's runs: the backfill itself (`backfill:<id>`)."""
    return Actor(kind="backfill", name=backfill.backfill_id)


def _settle_finished(backfill: Backfill) -> Backfill:
    runs = _runs(backfill)
    if runs.exclude(status__in=FINISHED_STATUSES).exists():
        return backfill
    skipped = any(unit.get("skipped") for unit in backfill.run_plan or [])
    status = (BackfillStatus.COMPLETED_SUCCESS if not skipped and not runs.exclude(status=RunStatus.SUCCESS).exists()
              else BackfillStatus.COMPLETED_FAILED)
    with transaction.atomic():
        locked = Backfill.objects.select_for_update().get(pk=backfill.pk)
        if locked.status == BackfillStatus.REQUESTED:
            _set_status(locked, status)
    return locked


def _settle_canceling(backfill: Backfill, actor: Any = None) -> Backfill:
    for run_id in _runs(backfill).exclude(status__in=FINISHED_STATUSES).exclude(
            status=RunStatus.CANCELING).values_list("run_id", flat=True):
        try:
            run_services.run_terminate(run_id=run_id, actor=actor)
        except (Conflict, NotFound):
            pass  # finished or deleted meanwhile
    if _runs(backfill).exclude(status__in=FINISHED_STATUSES).exists():
        return backfill  # CANCELING until its runs stop; the next pass looks again
    with transaction.atomic():
        locked = Backfill.objects.select_for_update().get(pk=backfill.pk)
        if locked.status == BackfillStatus.CANCELING:
            _set_status(locked, BackfillStatus.CANCELED)
    return locked


def _runs(backfill: Backfill):
    return Run.objects.filter(tags__key=BACKFILL_TAG, tags__value=backfill.backfill_id)


def _set_status(backfill: Backfill, status: str) -> None:
    backfill.status = status
    backfill.updated_at = timezone.now()
    backfill.save(update_fields=["status", "error", "updated_at"])


def _get(backfill_id: str) -> Backfill:
    backfill = Backfill.objects.filter(backfill_id=backfill_id).first()
    if backfill is None:
        raise NotFound("backfill", backfill_id)
    return backfill


def _client_for(location: CodeLocation) -> CodeServerClient:
    server = location.server or {}
    if location.status != LocationStatus.LOADED or not server.get("host") or not server.get("port"):
        raise Conflict(f"code location {location.name!r} is not loaded; its code server cannot answer")
    return CodeServerClient(server["host"], int(server["port"]))
