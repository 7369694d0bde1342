"""`orchestra run list|show|logs|delete|wipe|reexecute`: the runs stored in the instance of $ORCHESTRA_HOME.

Each command sets Django up and calls `runs` selectors and services only, so it behaves as the UI,
GraphQL and REST do for the same action. Names, prompts and output follow Dagster's `dagster run`.
"""

from __future__ import annotations

import time
from typing import Any

import click

from orchestra._cli import cli
from orchestra._cli.job import fail, parse_tags

STATUSES = ("QUEUED", "NOT_STARTED", "STARTING", "STARTED", "SUCCESS", "FAILURE", "CANCELING", "CANCELED")


def _django() -> None:
    from orchestra._cli.server import setup_django

    setup_django()


def _run_or_exit(run_id: str) -> Any:
    from core.exceptions import NotFound
    from runs import selectors

    try:
        return selectors.run_get(run_id=run_id)
    except NotFound:
        fail(f"No run found with id {run_id}.", 1)


@cli.group(name="run")
def run_group() -> None:
    """Commands for working with runs."""


@run_group.command(name="list")
@click.option("--limit", type=click.IntRange(min=1), help="Only list a specified number of runs.")
@click.option("--status", "statuses", multiple=True, type=click.Choice(STATUSES, case_sensitive=False),
              help="Only runs in this status (repeatable).")
@click.option("--job", "job_name", help="Only runs of this job.")
def list_command(limit: int | None, statuses: tuple[str, ...], job_name: str | None) -> None:
    """List the runs, newest first."""
    _django()
    from runs import selectors

    filters = selectors.RunFilter(job_name=job_name, statuses=[s.upper() for s in statuses] or None)
    cursor, shown = None, 0
    while limit is None or shown < limit:
        page_size = min(selectors.MAX_PAGE, limit - shown) if limit is not None else selectors.MAX_PAGE
        page = selectors.run_list(filters=filters, cursor=cursor, limit=page_size)
        for run in page:
            click.echo(f"Run: {run.run_id}")
            click.echo(f"     Job: {run.job_name}")
        shown += len(page)
        if len(page) < page_size:
            break
        cursor = page[-1].run_id


@run_group.command(name="show")
@click.argument("run_id")
def show_command(run_id: str) -> None:
    """Print a run: job, status, times, lineage, tags and run config."""
    import yaml

    _django()
    from runs import selectors

    run = _run_or_exit(run_id)
    rows = [
        ("Run", run.run_id), ("Job", run.job_name), ("Status", run.status),
        ("Location", run.location_name or "-"), ("Created", run.created_at.isoformat()),
        ("Started", run.started_at.isoformat() if run.started_at else "-"),
        ("Ended", run.ended_at.isoformat() if run.ended_at else "-"),
        ("Parent run", run.parent_run_id or "-"), ("Root run", run.root_run_id or "-"),
    ]
    if run.failure_reason:
        rows.append(("Failure reason", run.failure_reason))
    if run.op_selection:
        rows.append(("Op selection", ", ".join(run.op_selection)))
    if run.asset_selection:
        rows.append(("Asset selection", ", ".join("/".join(p) for p in run.asset_selection)))
    if run.step_keys_to_execute is not None:
        rows.append(("Steps", ", ".join(run.step_keys_to_execute)))
    for label, value in rows:
        click.echo(f"{label + ':':<16}{value}")
    tags = selectors.run_tags(run)
    click.echo("Tags:" + ("" if tags else " -"))
    for key, value in sorted(tags.items()):
        click.echo(f"    {key}: {value}")
    click.echo("Run config:" + ("" if run.run_config else " {}"))
    if run.run_config:
        for line in yaml.safe_dump(run.run_config, sort_keys=False).splitlines():
            click.echo("    " + line)


def _event_line(event: Any, job_name: str) -> str:
    stamp = event.timestamp.strftime("%Y-%m-%d %H:%M:%S %z")
    parts = [stamp, job_name, event.run_id]
    if event.step_key:
        parts.append(event.step_key)
    if event.event_type:
        parts.append(event.event_type)
    parts.append(event.message or "")
    return " - ".join(parts)


@run_group.command(name="logs")
@click.argument("run_id")
@click.option("--follow", is_flag=True, help="Keep printing new events until the run ends.")
@click.option("--interval", default=0.5, show_default=True, type=click.FloatRange(min=0.05),
              help="Seconds between polls with --follow.")
def logs_command(run_id: str, follow: bool, interval: float) -> None:
    """Print the event log of a run (with --follow, until the run ends)."""
    _django()
    from runs import selectors
    from runs.models import FINISHED_STATUSES

    run = _run_or_exit(run_id)
    cursor = None
    while True:
        page = selectors.events_page(run_id=run_id, cursor=cursor, limit=1000)
        for event in page.events:
            click.echo(_event_line(event, run.job_name))
        cursor = page.cursor
        if page.has_more:
            continue
        if not follow:
            return
        status = selectors.run_get(run_id=run_id).status
        if status in FINISHED_STATUSES:
            # the terminal event may have landed after this page: one more read, then stop
            last = selectors.events_page(run_id=run_id, cursor=cursor, limit=1000)
            for event in last.events:
                click.echo(_event_line(event, run.job_name))
            if not last.has_more:
                return
            cursor = last.cursor
            continue
        time.sleep(interval)


@run_group.command(name="delete")
@click.argument("run_id")
@click.option("-f", "--force", is_flag=True, help="Skip prompt to delete run.")
def delete_command(run_id: str, force: bool) -> None:
    """Delete a run by id and its event log. Warning: cannot be undone."""
    _django()
    from core.audit import cli_actor
    from runs import services

    _run_or_exit(run_id)
    if not force:
        answer = click.prompt(f"Are you sure you want to delete run {run_id} and its event logs? Type DELETE.",
                              default="", show_default=False)
        if answer != "DELETE":
            fail("Exiting without deleting run.", 1)
    services.run_delete(run_id=run_id, actor=cli_actor())
    click.echo(f"Deleted run {run_id} and its event log entries.")


@run_group.command(name="wipe")
@click.option("-f", "--force", is_flag=True, help="Skip prompt to delete run history and event logs.")
def wipe_command(force: bool) -> None:
    """Delete all run history and event logs. Warning: cannot be undone."""
    if not force:
        answer = click.prompt("Are you sure you want to delete all run history and event logs? Type DELETE.",
                              default="", show_default=False)
        if answer != "DELETE":
            fail("Exiting without deleting all run history and event logs.", 1)
    _django()
    from core.audit import cli_actor
    from runs import services

    services.run_wipe(actor=cli_actor())
    click.echo("Deleted all run history and event logs.")


@run_group.command(name="reexecute")
@click.argument("run_id")
@click.option("--from-failure", "strategy", flag_value="FROM_FAILURE",
              help="Only the steps that failed or did not run, and their downstream.")
@click.option("--from-asset-failure", "strategy", flag_value="FROM_ASSET_FAILURE",
              help="Only the assets and checks that were not materialized or did not pass.")
@click.option("--all-steps", "strategy", flag_value="ALL_STEPS", default=True, help="Every step (the default).")
@click.option("--tags", help="JSON string of tags to add to the new run.")
def reexecute_command(run_id: str, strategy: str, tags: str | None) -> None:
    """Submit a re-execution of a finished run; print the new run's id."""
    extra_tags = parse_tags(tags)
    _django()
    from core.audit import cli_actor
    from core.exceptions import InvalidInput, NotFound, OrchestraError
    from runs.reexecution import run_reexecute

    _run_or_exit(run_id)
    try:
        run = run_reexecute(parent_run_id=run_id, strategy=strategy, extra_tags=extra_tags, actor=cli_actor())
    except NotFound as exc:
        fail(str(exc), 1)
    except (InvalidInput, OrchestraError) as exc:
        fail(str(exc), 2 if isinstance(exc, InvalidInput) else 1)
    click.echo(run.run_id)
