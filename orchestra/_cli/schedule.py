"""`orchestra schedule list|start|stop|restart|preview|logs|wipe`: the schedules of the instance of $ORCHESTRA_HOME.

Each command sets Django up and calls `scheduling` selectors and services only, so it behaves as GraphQL and REST
do for the same action. Names, options and output follow Dagster's `dagster schedule`; `-l/--location` picks
the code location when the same name is defined in several.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import click

from orchestra._cli import cli
from orchestra._cli.job import fail


def setup() -> None:
    from orchestra._cli.server import setup_django

    setup_django()


def location_option(fn):
    return click.option("-l", "--location", "location_name", help="The code location defining it (needed only "
                        "when several define the same name).")(fn)


def find_state(kind: str, name: str, location_name: str | None) -> Any:
    """The stored state of the schedule or sensor `name`, or exit naming what was expected."""
    from scheduling import selectors

    states = [s for s in selectors.instigator_list(kind=kind, location_name=location_name) if s.name == name]
    noun = kind.lower()
    if not states:
        where = f" in code location {location_name!r}" if location_name else ""
        known = sorted({s.name for s in selectors.instigator_list(kind=kind, location_name=location_name)})
        hint = f" Known {noun}s: {', '.join(known)}." if known else f" No {noun}s are defined."
        fail(f"No {noun} named {name!r}{where}.{hint}", 1)
    if len(states) > 1:
        locations = ", ".join(s.location_name for s in states)
        fail(f"{noun.capitalize()} {name!r} is defined in several code locations ({locations}); give -l/--location.")
    return states[0]


def status_of(state: Any) -> str:
    return "RUNNING" if state.is_running else "STOPPED"


def print_tick(tick: Any) -> None:
    when = tick.scheduled_time or tick.timestamp
    line = f"{when.isoformat()}  {tick.status}"
    if tick.run_ids:
        line += f"  runs: {', '.join(tick.run_ids)}"
    if tick.skip_reason:
        line += f"  skipped: {tick.skip_reason}"
    if tick.error:
        line += f"  error: {tick.error.get('message', '')}"
    click.echo(line)


def print_evaluation(result: dict[str, Any]) -> None:
    if result.get("error"):
        error = result["error"]
        fail(f"The evaluation failed: {error.get('cls_name', '')}: {error.get('message', '')}", 1)
    requests = result.get("run_requests") or []
    if result.get("skip_message"):
        click.echo(f"Skipped: {result['skip_message']}")
    for request in requests:
        click.echo(json.dumps({k: request.get(k) for k in ("run_key", "job_name", "tags", "run_config")
                               if request.get(k) is not None}, sort_keys=True, default=str))
    if not requests and not result.get("skip_message"):
        click.echo("No run requested.")


def list_states(kind: str, location_name: str | None, running: bool, stopped: bool, names_only: bool) -> None:
    from scheduling import selectors

    states = list(selectors.instigator_list(kind=kind, location_name=location_name))
    by_repository: dict[str, list[Any]] = {}
    for state in states:
        if (running and not state.is_running) or (stopped and state.is_running):
            continue
        by_repository.setdefault(f"{state.repository_name or '__repository__'}@{state.location_name}", []).append(state)
    for repository, members in by_repository.items():
        if not names_only:
            title = f"Repository {repository}"
            click.echo(title)
            click.echo("*" * len(title))
        for index, state in enumerate(members):
            if names_only:
                click.echo(state.name)
                continue
            title = f"{kind.capitalize()}: {state.name} [{status_of(state)}]"
            if index:
                click.echo("*" * len(title))
            click.echo(title)
            if kind == "SCHEDULE":
                cron = state.definition.get("cron_schedule")
                click.echo(f"Cron Schedule: {cron if isinstance(cron, str) else json.dumps(cron)}")
            else:
                click.echo(f"Minimum interval: {int(state.definition.get('min_interval') or 30)} s")


@cli.group(name="schedule")
def schedule_group() -> None:
    """Commands for working with schedules."""


@schedule_group.command(name="list")
@click.option("--running", is_flag=True, help="Filter for running schedules.")
@click.option("--stopped", is_flag=True, help="Filter for stopped schedules.")
@click.option("--name", "names_only", is_flag=True, help="Only display schedule names.")
@location_option
def list_command(running: bool, stopped: bool, names_only: bool, location_name: str | None) -> None:
    """List the schedules with their status."""
    setup()
    list_states("SCHEDULE", location_name, running, stopped, names_only)


@schedule_group.command(name="start")
@click.argument("schedule_name", required=False)
@click.option("--start-all", is_flag=True, help="Start every schedule.")
@location_option
def start_command(schedule_name: str | None, start_all: bool, location_name: str | None) -> None:
    """Start a schedule: it ticks from now on (missed ticks from before are not run)."""
    setup()
    from core.audit import cli_actor
    from core.exceptions import Conflict
    from scheduling import selectors, services

    if start_all:
        for state in selectors.instigator_list(kind="SCHEDULE", location_name=location_name):
            services.schedule_start(location_name=state.location_name, name=state.name, actor=cli_actor())
        click.echo("Started all schedules" + (f" of code location {location_name}" if location_name else ""))
        return
    if not schedule_name:
        fail("Give a schedule name, or --start-all.")
    state = find_state("SCHEDULE", schedule_name, location_name)
    try:
        services.schedule_start(location_name=state.location_name, name=state.name, actor=cli_actor())
    except Conflict as exc:
        fail(str(exc), 1)
    click.echo(f"Started schedule {schedule_name}")


@schedule_group.command(name="stop")
@click.argument("schedule_name")
@location_option
def stop_command(schedule_name: str, location_name: str | None) -> None:
    """Stop a schedule."""
    setup()
    from core.audit import cli_actor
    from scheduling import services

    state = find_state("SCHEDULE", schedule_name, location_name)
    services.schedule_stop(location_name=state.location_name, name=state.name, actor=cli_actor())
    click.echo(f"Stopped schedule {schedule_name}")


@schedule_group.command(name="restart")
@click.argument("schedule_name", required=False)
@click.option("--restart-all-running", is_flag=True, help="Restart every running schedule.")
@location_option
def restart_command(schedule_name: str | None, restart_all_running: bool, location_name: str | None) -> None:
    """Stop and start a running schedule again (its ticks are due from now on)."""
    setup()
    from core.audit import cli_actor
    from scheduling import selectors, services

    if restart_all_running:
        states = [s for s in selectors.instigator_list(kind="SCHEDULE", location_name=location_name) if s.is_running]
    elif schedule_name:
        states = [find_state("SCHEDULE", schedule_name, location_name)]
        if not states[0].is_running:
            fail(f"Schedule {schedule_name!r} is not running; start it with `orchestra schedule start`.", 1)
    else:
        fail("Give a schedule name, or --restart-all-running.")
    for state in states:
        services.schedule_stop(location_name=state.location_name, name=state.name, actor=cli_actor())
        services.schedule_start(location_name=state.location_name, name=state.name, actor=cli_actor())
    click.echo(f"Restarted schedule {schedule_name}" if schedule_name and not restart_all_running
               else "Restarted all running schedules")


@schedule_group.command(name="preview")
@click.argument("schedule_name")
@click.option("--at", "at", help="The scheduled time to evaluate (ISO 8601); default: its next tick.")
@location_option
def preview_command(schedule_name: str, at: str | None, location_name: str | None) -> None:
    """Evaluate a schedule in its code server and print the runs it would request; nothing is recorded."""
    setup()
    from core.exceptions import Conflict, NotFound
    from scheduling import services

    state = find_state("SCHEDULE", schedule_name, location_name)
    when = None
    if at:
        try:
            when = dt.datetime.fromisoformat(at)
        except ValueError:
            fail(f"--at {at!r} is not an ISO 8601 time, e.g. 2026-01-01T09:00:00+00:00.")
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
    try:
        result = services.schedule_preview(location_name=state.location_name, name=state.name, scheduled_time=when)
    except (Conflict, NotFound) as exc:
        fail(str(exc), 1)
    click.echo(f"Tick at {result['scheduled_time'].isoformat()}")
    print_evaluation(result)


@schedule_group.command(name="logs")
@click.argument("schedule_name")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="How many ticks.")
@location_option
def logs_command(schedule_name: str, limit: int, location_name: str | None) -> None:
    """Print a schedule's recent ticks, newest first: time, status, runs, skip reason or error."""
    setup()
    from scheduling import selectors

    state = find_state("SCHEDULE", schedule_name, location_name)
    ticks = list(selectors.tick_list(state_id=state.pk, limit=limit))
    if not ticks:
        click.echo(f"Schedule {schedule_name} has no ticks yet.")
    for tick in ticks:
        print_tick(tick)


@schedule_group.command(name="wipe")
@click.option("--yes", "assume_yes", is_flag=True, help="Do not ask for confirmation.")
def wipe_command(assume_yes: bool) -> None:
    """Turn off every schedule and delete every schedule's tick history."""
    setup()
    from core.audit import cli_actor
    from scheduling import services

    if not assume_yes:
        answer = click.prompt("Are you sure you want to turn off all schedules and delete all schedule history? "
                              "Type DELETE", default="", show_default=False)
        if answer != "DELETE":
            click.echo("Exiting without turning off schedules or deleting schedule history")
            return
    services.schedules_wipe(actor=cli_actor())
    click.echo("Turned off all schedules and deleted all schedule history")
