"""A workspace's code servers supervised from a thread of a long-running process (`orchestra dev`'s webserver).

`orchestra workspace load --serve` is the process that supervises code servers in production. In
`orchestra dev` the webserver does it instead (`orchestra_site.asgi.dev_application`): the same
`workspace_start`, from a thread, so dev runs one Django process fewer (about 70 MiB of PSS).
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from django.db import connections

from workspace.config import load_workspace_files
from workspace.selectors import location_list
from workspace.services import workspace_start
from workspace.supervisor import Supervisor

logger = logging.getLogger(__name__)


def location_status_lines() -> list[str]:
    """One line per stored location: its status, and its server or the first line of its load error."""
    lines = []
    for location in location_list():
        line = f"{location.name}: {location.status}"
        if location.load_error:
            first = (location.load_error.get("message") or "").strip().splitlines()
            line += f" — {location.load_error.get('cls_name')}: {first[0] if first else ''}"
        elif location.server:
            line += (f" ({location.server.get('host')}:{location.server.get('port')}, "
                     f"snapshot {location.snapshot_id[:12]})")
        lines.append(line)
    return lines


class WorkspaceHost:
    """Starts the workspace's code servers in a background thread and stops them on `stop()`.

    The workspace files are parsed in `start()` (a bad file raises `WorkspaceConfigError` there, before
    anything starts); the servers start in the background so the host process serves meanwhile, and
    each location shows as LOADING until its snapshot is stored.
    """

    def __init__(self, files: Sequence[str | Path], *, evaluation_timeout: float = 60.0):
        self.files = [Path(f) for f in files]
        self.evaluation_timeout = evaluation_timeout
        self.supervisor: Supervisor | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopped = False

    def start(self) -> None:
        entries = load_workspace_files(self.files)
        self._thread = threading.Thread(target=self._serve, args=(entries,), name="workspace host", daemon=True)
        self._thread.start()

    def _serve(self, entries) -> None:
        try:
            supervisor = workspace_start(entries=entries, evaluation_timeout=self.evaluation_timeout)
            with self._lock:
                self.supervisor = supervisor
                stopped = self._stopped
            if stopped:  # asked to stop while the servers were starting
                supervisor.stop()
                return
            for line in location_status_lines():
                sys.stdout.write(line + "\n")
            sys.stdout.flush()
        except Exception:
            logger.exception("Starting the workspace's code servers failed")
        finally:
            connections.close_all()  # this thread's own connections

    def stop(self) -> None:
        """Stop every code server (waits for a start still under way)."""
        with self._lock:
            self._stopped = True
            supervisor = self.supervisor
        if supervisor is None and self._thread is not None:
            self._thread.join()  # its start finishes, sees `_stopped` and stops the servers itself
            return
        if supervisor is not None:
            supervisor.stop()
