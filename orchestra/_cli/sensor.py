"""`orchestra sensor list|start|stop|preview|cursor`: the sensors of the instance of $ORCHESTRA_HOME.

Thin over `scheduling` selectors and services; names, options and output follow Dagster's `dagster sensor`.
"""

from __future__ import annotations

import click

from orchestra._cli import cli
from orchestra._cli.job import fail
from orchestra._cli.schedule import (
    find_state,
    list_states,
    location_option,
    print_evaluation,
    print_tick,
    setup,
)


@cli.group(name="sensor")
def sensor_group() -> None:
    """Commands for working with sensors."""


@sensor_group.command(name="list")
@click.option("--running", is_flag=True, help="Filter for running sensors.")
@click.option("--stopped", is_flag=True, help="Filter for stopped sensors.")
@click.option("--name", "names_only", is_flag=True, help="Only display sensor names.")
@location_option
def list_command(running: bool, stopped: bool, names_only: bool, location_name: str | None) -> None:
    """List the sensors with their status."""
    setup()
    list_states("SENSOR", location_name, running, stopped, names_only)


@sensor_group.command(name="start")
@click.argument("sensor_name", required=False)
@click.option("--start-all", is_flag=True, help="Start every sensor.")
@location_option
def start_command(sensor_name: str | None, start_all: bool, location_name: str | None) -> None:
    """Start a sensor."""
    setup()
    from core.audit import cli_actor
    from core.exceptions import Conflict
    from scheduling import selectors, services

    if start_all:
        for state in selectors.instigator_list(kind="SENSOR", location_name=location_name):
            services.sensor_start(location_name=state.location_name, name=state.name, actor=cli_actor())
        click.echo("Started all sensors" + (f" of code location {location_name}" if location_name else ""))
        return
    if not sensor_name:
        fail("Give a sensor name, or --start-all.")
    state = find_state("SENSOR", sensor_name, location_name)
    try:
        services.sensor_start(location_name=state.location_name, name=state.name, actor=cli_actor())
    except Conflict as exc:
        fail(str(exc), 1)
    click.echo(f"Started sensor {sensor_name}")


@sensor_group.command(name="stop")
@click.argument("sensor_name")
@location_option
def stop_command(sensor_name: str, location_name: str | None) -> None:
    """Stop a sensor."""
    setup()
    from core.audit import cli_actor
    from scheduling import services

    state = find_state("SENSOR", sensor_name, location_name)
    services.sensor_stop(location_name=state.location_name, name=state.name, actor=cli_actor())
    click.echo(f"Stopped sensor {sensor_name}")


@sensor_group.command(name="preview")
@click.argument("sensor_name")
@click.option("--cursor", help="The cursor to evaluate with (default: the stored one).")
@click.option("--last_run_key", "--last-run-key", "last_run_key", help="The last run key to evaluate with.")
@location_option
def preview_command(sensor_name: str, cursor: str | None, last_run_key: str | None, location_name: str | None) -> None:
    """Evaluate a sensor in its code server and print the runs it would request; nothing is recorded."""
    setup()
    from core.exceptions import Conflict, NotFound
    from scheduling import services

    state = find_state("SENSOR", sensor_name, location_name)
    try:
        result = services.sensor_preview(location_name=state.location_name, name=state.name,
                                         cursor=cursor if cursor is not None else state.cursor,
                                         last_run_key=last_run_key if last_run_key is not None else state.last_run_key)
    except (Conflict, NotFound) as exc:
        fail(str(exc), 1)
    print_evaluation(result)
    if result.get("cursor") is not None:
        click.echo(f"New cursor: {result['cursor']}")


@sensor_group.command(name="cursor")
@click.argument("sensor_name")
@click.option("--set", "value", help="Set the cursor value for the sensor.")
@click.option("--delete", is_flag=True, help="Delete the cursor value for the sensor.")
@location_option
def cursor_command(sensor_name: str, value: str | None, delete: bool, location_name: str | None) -> None:
    """Set or delete the cursor the sensor's next evaluation gets."""
    if (value is None) == (not delete):
        fail("Give exactly one of --set VALUE or --delete.")
    setup()
    from core.audit import cli_actor
    from scheduling import services

    state = find_state("SENSOR", sensor_name, location_name)
    services.sensor_cursor_set(location_name=state.location_name, name=state.name, cursor=None if delete else value,
                               actor=cli_actor())
    if delete:
        click.echo(f"Cleared cursor state for sensor {sensor_name}")
    else:
        click.echo(f'Set cursor state for sensor {sensor_name} to "{value}"')


@sensor_group.command(name="logs")
@click.argument("sensor_name")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="How many ticks.")
@location_option
def logs_command(sensor_name: str, limit: int, location_name: str | None) -> None:
    """Print a sensor's recent ticks, newest first: time, status, runs, skip reason or error."""
    setup()
    from scheduling import selectors

    state = find_state("SENSOR", sensor_name, location_name)
    ticks = list(selectors.tick_list(state_id=state.pk, limit=limit))
    if not ticks:
        click.echo(f"Sensor {sensor_name} has no ticks yet.")
    for tick in ticks:
        print_tick(tick)
