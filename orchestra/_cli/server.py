"""Start-up of the Django side for CLI commands: configuration errors become clean exits."""

from __future__ import annotations

import os
import sys

import click


def setup_django() -> None:
    """Configure Django from ORCHESTRA_HOME; exit with the configuration problems if it is invalid."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestra_site.settings")
    from core.instance_config import InstanceConfigError, instance_home

    (instance_home() / "static_root").mkdir(parents=True, exist_ok=True)
    try:
        import django

        django.setup()
    except InstanceConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)


WEB_SETTINGS = "orchestra_site.settings"
WORKER_SETTINGS = "orchestra_site.settings_worker"


def setup_django_worker() -> None:
    """Configure Django for a run worker: the ORM and Orchestra's apps, without the web stack.

    Uses `orchestra_site.settings_worker` unless DJANGO_SETTINGS_MODULE names settings of the
    deployment's own (anything but Orchestra's web settings). As `django.setup()`, less the URL
    script prefix, which a process that serves no requests never reads (the default is "/").
    """
    if os.environ.get("DJANGO_SETTINGS_MODULE", WEB_SETTINGS) == WEB_SETTINGS:
        os.environ["DJANGO_SETTINGS_MODULE"] = WORKER_SETTINGS
    from core.instance_config import InstanceConfigError

    try:
        from django.apps import apps
        from django.conf import settings
        from django.utils.log import configure_logging

        configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
        apps.populate(settings.INSTALLED_APPS)
    except InstanceConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)


def run_system_checks() -> None:
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    try:
        call_command("check", fail_level="ERROR")
    except SystemCheckError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)


def is_loopback_host(host: str) -> bool:
    """Whether binding `host` listens on loopback only: 127.0.0.0/8, ::1, or a name resolving only to those.

    `0.0.0.0`, `::` and every other address are reachable from other machines.
    """
    import ipaddress
    import socket

    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(addresses) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses)


def refuse_open_mode_off_loopback(host: str) -> None:
    """Exit when `auth: {mode: none}` would serve an address other machines can reach."""
    from django.conf import settings

    if settings.ORCHESTRA_AUTH_MODE == "none" and not is_loopback_host(host):
        click.echo(
            f"Refusing to start: `auth: {{mode: none}}` lets anyone who reaches the server act as an "
            f"administrator, and --host {host} listens beyond this machine. Bind a loopback address "
            f"(127.0.0.1, ::1 or localhost) or set `auth: {{mode: login}}` in {settings.INSTANCE.home / 'orchestra.yaml'}.",
            err=True,
        )
        sys.exit(2)
