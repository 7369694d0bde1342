"""`manage.py workspace_load`: start the workspace's code servers, store every location, print their status."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from workspace.config import WorkspaceConfigError, find_workspace, load_workspace_files
from workspace.hosting import location_status_lines
from workspace.services import workspace_start


class Command(BaseCommand):
    help = ("Load the workspace (workspace.yaml or pyproject.toml), start a code server per local location, "
            "store each location's snapshot or load error and print their status.")

    def add_arguments(self, parser):
        parser.add_argument("-w", "--workspace", action="append", default=[],
                            help="Workspace file (repeatable; default: found in the current directory).")
        parser.add_argument("--serve", action="store_true",
                            help="Keep the code servers running (restarted if they die) until interrupted.")
        parser.add_argument("--evaluation-timeout", type=float, default=60.0,
                            help="Seconds a schedule or sensor evaluation may run (default 60).")

    def handle(self, *args, workspace: list[str], serve: bool, evaluation_timeout: float, **options):
        paths = workspace or [find_workspace(Path.cwd())]
        if paths == [None]:
            raise CommandError("no workspace: give -w FILE, or add workspace.yaml or [tool.orchestra] in "
                               "pyproject.toml to the current directory")
        try:
            entries = load_workspace_files(paths)
        except WorkspaceConfigError as exc:
            raise CommandError(str(exc)) from None
        supervisor = workspace_start(entries=entries, evaluation_timeout=evaluation_timeout)
        try:
            self._print_status()
            if serve:
                stop = threading.Event()
                signal.signal(signal.SIGTERM, lambda *_: stop.set())
                self.stdout.write("Serving the workspace's code servers; Ctrl-C stops them.")
                try:
                    while not stop.wait(1):
                        pass
                except KeyboardInterrupt:
                    pass
        finally:
            supervisor.stop()

    def _print_status(self) -> None:
        for line in location_status_lines():
            self.stdout.write(line)
