"""`orchestra schedule list|start|stop|restart|preview|logs|wipe`: the schedules of the instance of $ORCHESTRA_HOME.

`list`, `start`, `stop` and `logs` are shared with `orchestra sensor` (orchestra/_cli/instigator.py). Names,
options and output follow Dagster's `dagster schedule`; `-l/--location` picks the code location when the same
name is defined in several.
"""

from __future__ import annotations

import datetime as dt

import click

from orchestra._cli import cli
from orchestra._cli.instigator import add_state_commands, find_state, location_option, print_evaluation, setup
from orchestra._cli.job import fail


@cli.group(name="schedule")
def schedule_group() -> None:
    """Commands for working with schedules."""


add_state_commands(schedule_group, "SCHEDULE",
                   "Start a schedule: it ticks from now on (missed ticks from before are not run).")


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
