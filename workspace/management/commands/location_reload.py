"""`manage.py location_reload NAME...`: reload code locations (their servers restart wherever they are served)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from core.audit import cli_actor
from core.exceptions import NotFound
from workspace.conf import code_servers
from workspace.models import LocationStatus
from workspace.selectors import location_get
from workspace.services import location_reload


class Command(BaseCommand):
    help = "Reload code locations by name; with --wait, wait until each is loaded again (or failed) and print it."

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="+", metavar="NAME")
        parser.add_argument("--wait", action="store_true", help="Wait up to code_servers.reload_timeout for each.")

    def handle(self, *args, names: list[str], wait: bool, **options):
        for name in names:
            try:
                location = location_reload(name=name, actor=cli_actor())
            except NotFound as exc:
                raise CommandError(str(exc)) from None
            if wait:
                deadline = time.monotonic() + code_servers().reload_timeout
                while location.status == LocationStatus.LOADING and time.monotonic() < deadline:
                    time.sleep(0.2)
                    location = location_get(name=name)
            message = (location.load_error or {}).get("message", "").strip().splitlines()
            self.stdout.write(f"{name}: {location.status}" + (f" — {message[0]}" if message else ""))
