"""`orchestra job list|execute|launch`, with Dagster's options and output.

`list` and `execute` load the definitions in this process (`-f`, `-m`, `--package-name` or `-w`);
`execute` runs the job here against `DagsterInstance.get()`, printing events as they happen.
`launch` goes through the server: `run_submit` validates against the stored snapshot and hands the
run to the configured coordinator and launcher. Bad input ends with one line naming it (exit 2),
a failed run with exit 1; never a traceback.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import click

from orchestra._cli import cli

# --- shared by job, asset and run commands ------------------------------------------------------------


def fail(message: str, code: int = 2) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def target_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Dagster's workspace options: one Python pointer, or workspace files."""
    for option in reversed([
        click.option("-f", "--python-file", type=click.Path(dir_okay=False), help="Python file with the definitions."),
        click.option("-m", "--module-name", help="Module with the definitions."),
        click.option("--package-name", help="Package with the definitions."),
        click.option("-a", "--attribute", help="Attribute holding the Definitions (or a job)."),
        click.option("-d", "--working-directory", type=click.Path(file_okay=False), help="Directory put first on sys.path."),
        click.option("-w", "--workspace", "workspace_files", multiple=True, type=click.Path(dir_okay=False),
                     help="Workspace file (repeatable)."),
    ]):
        fn = option(fn)
    return fn


def load_targets(python_file: str | None, module_name: str | None, package_name: str | None, attribute: str | None,
                 working_directory: str | None, workspace_files: tuple[str, ...]) -> list[tuple[str, Any]]:
    """`[(location name, Definitions)]` from the options; without any, `./workspace.yaml` as Dagster does."""
    pointers = [v for v in (python_file, module_name, package_name) if v]
    if len(pointers) > 1 or (pointers and workspace_files):
        raise click.UsageError("give one of -f, -m, --package-name or -w")
    if pointers:
        if python_file and not os.path.isfile(python_file):
            fail(f"python file {python_file!r} not found")
        name = os.path.splitext(os.path.basename(python_file))[0] if python_file else (module_name or package_name)
        return [(str(name), _load(python_file=python_file, module_name=module_name, package_name=package_name,
                                  attribute=attribute, working_directory=working_directory))]
    if not workspace_files:
        for candidate in ("workspace.yaml", "workspace.yml"):
            if os.path.isfile(candidate):
                workspace_files = (candidate,)
                break
        else:
            raise click.UsageError("no code to load: give -f FILE, -m MODULE or -w workspace.yaml "
                                   "(or run where a workspace.yaml is)")
    for path in workspace_files:
        if not os.path.isfile(path):
            fail(f"workspace file {path!r} not found")
    from workspace.config import WorkspaceConfigError, load_workspace_files

    try:
        entries = load_workspace_files(workspace_files)
    except WorkspaceConfigError as exc:
        fail(str(exc).splitlines()[0] if str(exc) else repr(exc))
    found = []
    for entry in entries:
        if not entry.is_local:
            click.echo(f"Skipping code location {entry.name}: a code server run elsewhere.", err=True)
            continue
        found.append((entry.name, _load(python_file=entry.python_file, module_name=entry.module_name,
                                        package_name=entry.package_name, attribute=entry.attribute,
                                        working_directory=entry.working_directory)))
    return found


def _load(**pointer: Any) -> Any:
    from orchestra._core.definitions_class.module_loading import load_definitions

    target = pointer.get("python_file") or pointer.get("module_name") or pointer.get("package_name")
    try:
        return load_definitions(**pointer)
    except BaseException as exc:  # user code: anything it raises is a load error
        if isinstance(exc, KeyboardInterrupt):
            raise
        fail(f"could not load definitions from {target!r}: {type(exc).__name__}: {_one_line(exc)}")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def find_job(targets: list[tuple[str, Any]], job_name: str | None) -> Any:
    jobs = {}
    for _, defs in targets:
        for job_def in defs.get_repository_def().get_all_jobs():
            jobs.setdefault(job_def.name, job_def)
    if job_name is None:
        names = [n for n in jobs if not n.startswith("__")]
        if len(names) != 1:
            raise click.UsageError(f"give the job with -j; found {sorted(names)}")
        job_name = names[0]
    if job_name not in jobs:
        fail(f'Job "{job_name}" not found. Found {sorted(jobs)} instead.')
    return jobs[job_name]


def load_run_config(config_files: tuple[str, ...], config_json: str | None) -> dict[str, Any]:
    """Merge the YAML files (later ones win, deeply) and `--config-json`, as Dagster's `-c`."""
    import yaml

    if config_files and config_json:
        raise click.UsageError("give -c/--config or --config-json, not both")
    merged: dict[str, Any] = {}
    for path in config_files:
        if not os.path.isfile(path):
            fail(f"config file {path!r} not found")
        try:
            with open(path) as file:
                loaded = yaml.safe_load(file)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
            fail(f"config file {path!r} is not valid YAML{where}: {getattr(exc, 'problem', None) or exc}")
        if loaded is None:
            continue
        if not isinstance(loaded, dict):
            fail(f"config file {path!r} must hold a mapping, got {type(loaded).__name__}")
        merged = _deep_merge(merged, loaded)
    if config_json:
        try:
            loaded = json.loads(config_json)
        except json.JSONDecodeError as exc:
            fail(f"--config-json is not valid JSON: {exc}")
        if not isinstance(loaded, dict):
            fail("--config-json must be a JSON object")
        merged = loaded
    return merged


def _deep_merge(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    result = dict(left)
    for key, value in right.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _deep_merge(result[key], value)
        else:
            result[key] = value
    return result


def parse_tags(tags: str | None) -> dict[str, str]:
    if tags is None:
        return {}
    try:
        loaded = json.loads(tags)
    except json.JSONDecodeError as exc:
        raise click.UsageError(f"Invalid JSON-string given for `--tags`: {tags} ({exc})") from None
    if not isinstance(loaded, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in loaded.items()):
        raise click.UsageError(f"`--tags` must be a JSON object of strings to strings, got {tags}")
    return loaded


def execute_here(job_def: Any, run_config: dict[str, Any], tags: dict[str, str], op_selection: list[str] | None = None,
                 partition_key: str | None = None) -> Any:
    """Execute `job_def` in this process against `DagsterInstance.get()`, events echoed to stderr."""
    from orchestra._core.execute import execute_run
    from orchestra._core.instance import DagsterInstance
    from orchestra._core.log import ConsoleWriter
    from orchestra._core.run_config import validate_run_config
    from orchestra._errors import DagsterError

    subset = job_def.get_subset(op_selection=op_selection) if op_selection else job_def
    try:
        validate_run_config(subset, run_config)
    except DagsterError as exc:
        errors = [getattr(e, "message", str(e)) for e in getattr(exc, "errors", [])] or [_one_line(exc)]
        fail(f"invalid run config for job {job_def.name!r}: {'; '.join(errors)}")
    try:
        instance = DagsterInstance.get()
    except DagsterError as exc:
        fail(str(exc))
    run_tags = {**job_def.run_tags, **tags}
    if partition_key is not None:
        run_tags.setdefault("dagster/partition", partition_key)
    run = instance.create_run(job_name=job_def.name, run_config=run_config, tags=run_tags, op_selection=op_selection)
    click.echo(f"Executing run {run.run_id} of job {job_def.name}.", err=True)
    final = execute_run(job_def, dagster_run=run, instance=instance, console=ConsoleWriter())
    dispose = getattr(instance, "dispose", None)
    if callable(dispose):
        dispose()
    return final


# --- commands -----------------------------------------------------------------------------------------


@cli.group()
def job() -> None:
    """Commands for working with jobs."""


@job.command(name="list")
@target_options
def list_command(**target: Any) -> None:
    """List the jobs of the definitions, each with its ops in execution order."""
    from orchestra._core.plan import plan_for_job

    for _, defs in load_targets(**target):
        repository = defs.get_repository_def()
        title = f"Repository {repository.name}"
        click.echo(title)
        click.echo("*" * len(title))
        for index, job_def in enumerate(repository.get_all_jobs()):
            job_title = f"Job: {job_def.name}"
            if index:
                click.echo("*" * len(job_title))
            click.echo(job_title)
            if job_def.description:
                click.echo("Description:")
                for line in job_def.description.strip().splitlines():
                    click.echo("    " + line)
            click.echo("Ops: (Execution Order)")
            seen: list[str] = []
            for step in plan_for_job(job_def).steps:
                name = str(step.node_handle).split(".", 1)[0]
                if name not in seen:
                    seen.append(name)
                    click.echo("    " + name)


@job.command(name="execute")
@target_options
@click.option("-j", "--job", "job_name", help="Job within the definitions.")
@click.option("-c", "--config", "config_files", multiple=True, help="YAML run config file (repeatable, merged in order).")
@click.option("--config-json", help="Run config as a JSON string.")
@click.option("--tags", help="JSON string of tags to add to the run.")
@click.option("-o", "--op-selection", help="Comma-separated op selection (`*op`, `op+`, ...).")
def execute_command(job_name: str | None, config_files: tuple[str, ...], config_json: str | None, tags: str | None,
                    op_selection: str | None, **target: Any) -> None:
    """Execute a job in this process against the instance in $ORCHESTRA_HOME."""
    run_tags = parse_tags(tags)
    run_config = load_run_config(config_files, config_json)
    job_def = find_job(load_targets(**target), job_name)
    selection = [s.strip() for s in op_selection.split(",")] if op_selection else None
    final = execute_here(job_def, run_config, run_tags, selection)
    if getattr(final.status, "value", final.status) != "SUCCESS":
        fail(f"Run {final.run_id} resulted in failure.", 1)


@job.command(name="launch")
@click.option("-j", "--job", "job_name", required=True, help="Job to launch.")
@click.option("-l", "--location", "location_name", help="Code location of the job.")
@click.option("-r", "--repository", "repository_name", help="Repository of the job.")
@click.option("-c", "--config", "config_files", multiple=True, help="YAML run config file (repeatable, merged in order).")
@click.option("--config-json", help="Run config as a JSON string.")
@click.option("--tags", help="JSON string of tags to add to the run.")
@click.option("-o", "--op-selection", help="Comma-separated op selection.")
def launch_command(job_name: str, location_name: str | None, repository_name: str | None, config_files: tuple[str, ...],
                   config_json: str | None, tags: str | None, op_selection: str | None) -> None:
    """Submit a run of a job of the workspace through the instance's run coordinator; print its run id."""
    from orchestra._cli.server import setup_django

    run_tags = parse_tags(tags)
    run_config = load_run_config(config_files, config_json)
    setup_django()
    from core.audit import cli_actor
    from core.exceptions import OrchestraError
    from runs import services

    try:
        run = services.run_submit(
            job_name=job_name, location_name=location_name, repository_name=repository_name, run_config=run_config,
            tags=run_tags, op_selection=[s.strip() for s in op_selection.split(",")] if op_selection else None,
            actor=cli_actor(),
        )
    except services.RunConfigInvalid as exc:
        click.echo(f"Error: invalid run config for job {job_name!r}:", err=True)
        for error in exc.errors:
            path = ".".join(error.get("path") or []) or "<root>"
            click.echo(f"  {path}: {error.get('message')}", err=True)
        sys.exit(2)
    except OrchestraError as exc:
        fail(str(exc))
    click.echo(run.run_id)
