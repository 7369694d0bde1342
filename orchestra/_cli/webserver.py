"""`orchestra webserver`: the Django application under uvicorn, for production.

A replica keeps nothing another replica needs: runs, events, code location state and reload
requests are in the database, sessions in the database too, and static files are served by
WhiteNoise from the installed packages, so any number of replicas can stand behind a load balancer.
"""

from __future__ import annotations

import os
import warnings

import click

from orchestra._cli import cli
from orchestra._cli.server import refuse_open_mode_off_loopback, run_system_checks, setup_django

ASGI_APP = "orchestra_site.asgi:application"
# WhiteNoise answers static files with a file iterator, which Django's ASGI handler warns about on
# every request; the file is still streamed correctly.
STATIC_WARNING = "ignore:StreamingHttpResponse must consume synchronous iterators:Warning"


def quiet_static_warning() -> None:
    """Silence that warning in this process and the ones it starts (uvicorn's workers, dev's children)."""
    warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume synchronous iterators")
    current = os.environ.get("PYTHONWARNINGS", "")
    if STATIC_WARNING not in current:
        os.environ["PYTHONWARNINGS"] = f"{current},{STATIC_WARNING}" if current else STATIC_WARNING


def default_workers() -> int:
    """$WEB_CONCURRENCY (the convention uvicorn and gunicorn share), else one worker per CPU, at most 4.

    A worker runs requests' Python one at a time (the GIL), so a single one leaves a second core idle:
    on two cores, two workers halve the wait of 8 clients at once (`bench/runs_list.py`).
    """
    configured = os.environ.get("WEB_CONCURRENCY", "").strip()
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return max(1, min(os.cpu_count() or 1, 4))


@cli.command()
@click.option("-h", "--host", default="127.0.0.1", show_default=True,
              help="Address to bind (0.0.0.0 for every interface).")
@click.option("-p", "--port", default=3000, show_default=True, type=click.IntRange(min=0, max=65535),
              help="Port to bind.")
@click.option("-w", "--workers", type=click.IntRange(min=1),
              help="Worker processes of this replica. Default: $WEB_CONCURRENCY, else one per CPU (at most 4).")
@click.option("--log-level", default="warning", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]), help="uvicorn's log level.")
def webserver(host: str, port: int, workers: int | None, log_level: str) -> None:
    """Serve the UI, GraphQL (/graphql), REST (/api), the admin and /health with uvicorn."""
    workers = workers or default_workers()
    setup_django()  # refuses a bad orchestra.yaml with every mistake before binding
    run_system_checks()
    refuse_open_mode_off_loopback(host)
    from django.conf import settings
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        click.echo(
            f"The database of {settings.INSTANCE.home} needs migrating: run `orchestra instance migrate` first.",
            err=True,
        )
        raise SystemExit(2)
    connection.close()
    os.environ["ORCHESTRA_HOME"] = str(settings.INSTANCE.home)  # the worker processes read the same instance
    quiet_static_warning()
    import uvicorn

    click.echo(f"Orchestra webserver at http://{host}:{port}/ ({workers} worker{'s' if workers > 1 else ''}, "
               f"home: {settings.INSTANCE.home}, auth mode: {settings.ORCHESTRA_AUTH_MODE})")
    uvicorn.run(ASGI_APP, host=host, port=port, workers=workers, log_level=log_level, proxy_headers=True,
                forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"))
