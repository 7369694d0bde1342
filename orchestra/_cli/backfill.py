"""`orchestra backfill launch|create|list|show|cancel|reexecute`: backfills of partitioned jobs or assets in
the instance of $ORCHESTRA_HOME. `launch` (alias `create`) takes the options of Dagster's `dagster job
backfill` (-j, --partitions, --all, --from/--to, --tags, --noprompt), or `--select KEY[,KEY]` for partitioned
assets; the daemon submits the runs.
"""

from __future__ import annotations

from typing import Any

import click

from orchestra._cli import cli
from orchestra._cli.job import fail, parse_tags
from orchestra._cli.schedule import setup

STATUSES = ("REQUESTED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELING", "CANCELED")


def _job_location(job_name: str, location_name: str | None) -> str:
    from workspace import selectors

    found = [name for name, snapshot in selectors.loaded_snapshots().items()
             if (location_name is None or name == location_name)
             and any(job["name"] == job_name for job in snapshot.get("jobs") or [])]
    if not found:
        where = f" in code location {location_name!r}" if location_name else " in any loaded code location"
        fail(f"No job named {job_name!r}{where}.", 1)
    if len(found) > 1:
        fail(f"Job {job_name!r} is defined in several code locations ({', '.join(found)}); give -l/--location.")
    return found[0]


def _print(backfill: Any) -> None:
    click.echo(f"Backfill: {backfill.backfill_id}")
    click.echo(f"     Job: {backfill.job_name} ({backfill.location_name})")
    if backfill.asset_selection:
        click.echo(f"  Assets: {', '.join(backfill.asset_selection)}")
    click.echo(f"  Status: {backfill.status}")
    click.echo(f"  Partitions: {len(backfill.partition_names)} ({backfill.submitted} submitted)")


@cli.group(name="backfill")
def backfill_group() -> None:
    """Commands for working with backfills of partitioned jobs."""


@backfill_group.command(name="launch")
@click.option("-j", "--job", "job_name", help="The partitioned job to backfill.")
@click.option("--select", "select", help="Or: comma-separated asset keys (a/b) sharing one partitions definition.")
@click.option("-l", "--location", "location_name", help="Its code location (needed only when several define it).")
@click.option("--partitions", help="Comma-separated partition keys.")
@click.option("--all", "all_partitions", help="Every partition of the job.", is_flag=True)
@click.option("--from", "from_key", help="The first partition of a range (inclusive).")
@click.option("--to", "to_key", help="The last partition of a range (inclusive).")
@click.option("--tags", help="JSON string of tags to put on each run.")
@click.option("--max-runs-in-flight", type=click.IntRange(min=1), help="At most this many of its runs unfinished.")
@click.option("--noprompt", is_flag=True, help="Do not ask for confirmation.")
def launch_command(job_name: str | None, select: str | None, location_name: str | None, partitions: str | None, all_partitions: bool,
                   from_key: str | None, to_key: str | None, tags: str | None, max_runs_in_flight: int | None,
                   noprompt: bool) -> None:
    """Create a backfill: one run per partition, submitted by the daemon."""
    if (job_name is None) == (select is None):
        fail("Give exactly one of -j/--job JOB or --select KEY[,KEY].")
    chosen = sum([partitions is not None, all_partitions, from_key is not None or to_key is not None])
    if chosen != 1:
        fail("Give exactly one of --partitions a,b,c, --all, or --from FIRST --to LAST.")
    if (from_key is None) != (to_key is None):
        fail("--from and --to go together: give both ends of the range.")
    run_tags = parse_tags(tags)
    setup()
    from core.audit import cli_actor
    from core.exceptions import InvalidInput, NotFound
    from scheduling import backfills

    assets = [k.strip() for k in select.split(",") if k.strip()] if select is not None else []
    if select is not None and not assets:
        fail("--select needs at least one asset key.")
    location = _job_location(job_name, location_name) if job_name else (location_name or "")
    target = f"job {job_name}" if job_name else f"assets {', '.join(assets)}"
    names = [p.strip() for p in partitions.split(",") if p.strip()] if partitions is not None else None
    if not noprompt:
        what = "all partitions" if all_partitions else (f"{from_key}..{to_key}" if from_key else f"{len(names)} "
                                                        "partitions")
        if not click.confirm(f"Launch a backfill of {target} for {what}?", default=True):
            click.echo("Aborted.")
            return
    try:
        backfill = backfills.backfill_create(
            location_name=location, job_name=job_name or "", asset_selection=assets or None, partition_names=names,
            partition_range=(from_key, to_key) if from_key is not None else None, all_partitions=all_partitions,
            tags=run_tags, max_runs_in_flight=max_runs_in_flight, actor=cli_actor())
    except (InvalidInput, NotFound) as exc:
        fail(str(exc), 1)
    click.echo(f"Launched backfill {backfill.backfill_id} of {target}: "
               f"{len(backfill.partition_names)} partitions")


backfill_group.add_command(launch_command, name="create")  # the issue's `orchestra backfill create`


@backfill_group.command(name="list")
@click.option("--status", type=click.Choice(STATUSES, case_sensitive=False), help="Only backfills in this status.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
def list_command(status: str | None, limit: int) -> None:
    """List the backfills, newest first."""
    setup()
    from scheduling.selectors import backfill_list

    for backfill in backfill_list(status=status or None, limit=limit):
        _print(backfill)


def _get(backfill_id: str) -> Any:
    from core.exceptions import NotFound
    from scheduling.selectors import backfill_get

    try:
        return backfill_get(backfill_id=backfill_id)
    except NotFound:
        fail(f"No backfill found with id {backfill_id}.", 1)


@backfill_group.command(name="show")
@click.argument("backfill_id")
def show_command(backfill_id: str) -> None:
    """Print a backfill: job, status, partitions and how many were submitted."""
    setup()
    backfill = _get(backfill_id)
    _print(backfill)
    if backfill.error:
        click.echo(f"  Error: {backfill.error.get('message', '')}")


@backfill_group.command(name="cancel")
@click.argument("backfill_id")
def cancel_command(backfill_id: str) -> None:
    """Stop submitting a backfill's runs and terminate those not finished."""
    setup()
    from core.audit import cli_actor
    from core.exceptions import Conflict, NotFound
    from scheduling import backfills

    try:
        backfill = backfills.backfill_cancel(backfill_id=backfill_id, actor=cli_actor())
    except NotFound:
        fail(f"No backfill found with id {backfill_id}.", 1)
    except Conflict as exc:
        fail(str(exc), 1)
    click.echo(f"Backfill {backfill_id} is {backfill.status}")


@backfill_group.command(name="reexecute")
@click.argument("backfill_id")
def reexecute_command(backfill_id: str) -> None:
    """Launch a new backfill of a finished backfill's failed (or never submitted) partitions."""
    setup()
    from core.audit import cli_actor
    from core.exceptions import Conflict, InvalidInput, NotFound
    from scheduling import backfills

    try:
        backfill = backfills.backfill_reexecute_failed(backfill_id=backfill_id, actor=cli_actor())
    except NotFound:
        fail(f"No backfill found with id {backfill_id}.", 1)
    except (Conflict, InvalidInput) as exc:
        fail(str(exc), 1)
    click.echo(f"Launched backfill {backfill.backfill_id} of job {backfill.job_name}: "
               f"{len(backfill.partition_names)} partitions")
