"""`orchestra code-server start`: serve one code location's definitions (runs in the location's own Python)."""

from __future__ import annotations

import click

from orchestra._cli import cli


@cli.group("code-server")
def code_server() -> None:
    """Run a code location server."""


@code_server.command()
@click.option("-f", "--python-file", type=click.Path(dir_okay=False), help="Python file with the definitions.")
@click.option("-m", "--module-name", help="Module with the definitions.")
@click.option("--package-name", help="Package with the definitions.")
@click.option("-a", "--attribute", help="Attribute holding the Definitions (or a function returning them).")
@click.option("-d", "--working-directory", type=click.Path(file_okay=False), help="Directory put first on sys.path.")
@click.option("--location-name", help="Name of the code location (default: file, module or package name).")
@click.option("-h", "--host", default="127.0.0.1", show_default=True, envvar="ORCHESTRA_CODE_SERVER_HOST",
              help="Address to listen on; loopback unless you mean to expose user code.")
@click.option("-p", "--port", default=4000, show_default=True, type=click.IntRange(0, 65535),
              envvar="ORCHESTRA_CODE_SERVER_PORT", help="Port to listen on (0 picks a free one).")
@click.option("--evaluation-timeout", default=60.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              envvar="ORCHESTRA_CODE_SERVER_EVALUATION_TIMEOUT",
              help="Seconds a schedule, sensor or partition evaluation may run before it is answered as an error.")
@click.option("--ready-file", hidden=True, help="Write {host, port, pid, server_id} here once listening.")
@click.option("--exit-with-parent", is_flag=True, hidden=True, help="Stop when the starting process dies.")
@click.option("-v", "--verbose", is_flag=True, help="Log every request to stderr.")
def start(python_file: str | None, module_name: str | None, package_name: str | None, attribute: str | None,
          working_directory: str | None, location_name: str | None, host: str, port: int,
          evaluation_timeout: float, ready_file: str | None, exit_with_parent: bool, verbose: bool) -> None:
    """Load the definitions once and answer the webserver and daemon over HTTP + JSON.

    User code that fails to load is served as a load error; the server keeps running.
    """
    given = [name for name, value in (("-f", python_file), ("-m", module_name), ("--package-name", package_name))
             if value]
    if len(given) != 1:
        raise click.UsageError("give exactly one of -f/--python-file, -m/--module-name or --package-name"
                               + (f" (got {', '.join(given)})" if given else ""))
    from orchestra._code_server.location import CodePointer
    from orchestra._code_server.server import serve

    pointer = CodePointer(python_file=python_file, module_name=module_name, package_name=package_name,
                          attribute=attribute, working_directory=working_directory)
    try:
        serve(pointer, location_name=location_name, host=host, port=port, evaluation_timeout=evaluation_timeout,
              ready_file=ready_file, exit_with_parent=exit_with_parent, verbose=verbose)
    except OSError as exc:  # the address is taken or not ours to bind
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
