"""The `orchestra` command line.

The SDK stays free of Django: commands that need the server import it inside their bodies, after
ORCHESTRA_HOME is known, so `import orchestra` and `orchestra --help` stay fast.
"""

from __future__ import annotations

import click

from orchestra import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-v", "--version", prog_name="orchestra")
def cli() -> None:
    """Orchestra: a data orchestrator with Dagster's API, on Django and Celery."""


def main() -> None:
    from orchestra._cli import (  # noqa: F401  (registers the subcommands)
        api,
        asset,
        backfill,
        code_server,
        daemon,
        definitions,
        dev,
        instance,
        job,
        run,
        schedule,
        sensor,
        token,
        user,
        webserver,
        workspace,
    )

    cli()
