"""What `orchestra schedule` and `orchestra sensor` share: finding a state, printing ticks and evaluations, and
the list, start, stop and logs commands, registered on each group by `add_state_commands`.

Each command sets Django up and calls `scheduling` selectors and services only, so it behaves as GraphQL and
REST do for the same action.
"""

from __future__ import annotations

import json
from typing import Any

import click

from orchestra._cli.job import fail


def setup() -> None:
    from orchestra._cli.server import setup_django

    setup_django()


def location_option(fn):
    return click.option(
        "-l",
        "--location",
        "location_name",
        help="The code location defining it (needed only when several define the same name).",
    )(fn)


def find_state(kind: str, name: str, location_name: str | None) -> Any:
    """The stored state of the schedule or sensor `name`, or exit naming what was expected."""
    from scheduling import selectors

    states = selectors.instigator_find(kind=kind, name=name, location_name=location_name)
    noun = kind.lower()
    if not states:
        where = f" in code location {location_name!r}" if location_name else ""
        known = selectors.instigator_names(kind=kind, location_name=location_name)
        hint = f" Known {noun}s: {', '.join(known)}." if known else f" No {noun}s are defined."
        fail(f"No {noun} named {name!r}{where}.{hint}", 1)
    if len(states) > 1:
        locations = ", ".join(s.location_name for s in states)
        fail(
            f"{noun.capitalize()} {name!r} is defined in several code locations ({locations}); give -l/--location."
        )
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
        click.echo(
            json.dumps(
                {
                    k: request.get(k)
                    for k in ("run_key", "job_name", "tags", "run_config")
                    if request.get(k) is not None
                },
                sort_keys=True,
                default=str,
            )
        )
    if not requests and not result.get("skip_message"):
        click.echo("No run requested.")


def list_states(kind: str, location_name: str | None, running: bool, stopped: bool, names_only: bool) -> None:
    from scheduling import selectors

    states = list(selectors.instigator_list(kind=kind, location_name=location_name))
    by_repository: dict[str, list[Any]] = {}
    for state in states:
        if (running and not state.is_running) or (stopped and state.is_running):
            continue
        by_repository.setdefault(
            f"{state.repository_name or '__repository__'}@{state.location_name}", []
        ).append(state)
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


def _change(kind: str, action: str) -> Any:
    """The service that starts or stops a state of `kind`."""
    from scheduling import services

    return getattr(services, f"{kind.lower()}_{action}")


def add_state_commands(group: click.Group, kind: str, start_help: str) -> None:
    """Register `list`, `start`, `stop` and `logs` on `group` (`orchestra schedule` or `orchestra sensor`)."""
    noun = kind.lower()

    @group.command(name="list", help=f"List the {noun}s with their status.")
    @click.option("--running", is_flag=True, help=f"Filter for running {noun}s.")
    @click.option("--stopped", is_flag=True, help=f"Filter for stopped {noun}s.")
    @click.option("--name", "names_only", is_flag=True, help=f"Only display {noun} names.")
    @location_option
    def list_command(running: bool, stopped: bool, names_only: bool, location_name: str | None) -> None:
        setup()
        list_states(kind, location_name, running, stopped, names_only)

    @group.command(name="start", help=start_help)
    @click.argument("name", metavar=f"{noun.upper()}_NAME", required=False)
    @click.option("--start-all", is_flag=True, help=f"Start every {noun}.")
    @location_option
    def start_command(name: str | None, start_all: bool, location_name: str | None) -> None:
        setup()
        from core.audit import cli_actor
        from core.exceptions import Conflict
        from scheduling import selectors

        start = _change(kind, "start")
        if start_all:
            for state in selectors.instigator_list(kind=kind, location_name=location_name):
                start(location_name=state.location_name, name=state.name, actor=cli_actor())
            click.echo(
                f"Started all {noun}s" + (f" of code location {location_name}" if location_name else "")
            )
            return
        if not name:
            fail(f"Give a {noun} name, or --start-all.")
        state = find_state(kind, name, location_name)
        try:
            start(location_name=state.location_name, name=state.name, actor=cli_actor())
        except Conflict as exc:
            fail(str(exc), 1)
        click.echo(f"Started {noun} {name}")

    @group.command(name="stop", help=f"Stop a {noun}.")
    @click.argument("name", metavar=f"{noun.upper()}_NAME")
    @location_option
    def stop_command(name: str, location_name: str | None) -> None:
        setup()
        from core.audit import cli_actor

        state = find_state(kind, name, location_name)
        _change(kind, "stop")(location_name=state.location_name, name=state.name, actor=cli_actor())
        click.echo(f"Stopped {noun} {name}")

    @group.command(
        name="logs",
        help=f"Print a {noun}'s recent ticks, newest first: time, status, runs, skip reason or error.",
    )
    @click.argument("name", metavar=f"{noun.upper()}_NAME")
    @click.option(
        "--limit", type=click.IntRange(min=1), default=20, show_default=True, help="How many ticks."
    )
    @location_option
    def logs_command(name: str, limit: int, location_name: str | None) -> None:
        setup()
        from scheduling import selectors

        state = find_state(kind, name, location_name)
        ticks = list(selectors.tick_list(state_id=state.pk, limit=limit))
        if not ticks:
            click.echo(f"{noun.capitalize()} {name} has no ticks yet.")
        for tick in ticks:
            print_tick(tick)
