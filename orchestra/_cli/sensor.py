"""`orchestra sensor list|start|stop|preview|cursor`: the sensors of the instance of $ORCHESTRA_HOME.

`list`, `start`, `stop` and `logs` are shared with `orchestra schedule` (orchestra/_cli/instigator.py); names,
options and output follow Dagster's `dagster sensor`.
"""

from __future__ import annotations

import click

from orchestra._cli import cli
from orchestra._cli.instigator import add_state_commands, find_state, location_option, print_evaluation, setup
from orchestra._cli.job import fail


@cli.group(name="sensor")
def sensor_group() -> None:
    """Commands for working with sensors."""


add_state_commands(sensor_group, "SENSOR", "Start a sensor.")


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
