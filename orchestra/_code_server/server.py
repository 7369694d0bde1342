"""The code server's HTTP + JSON face: routes onto `LoadedLocation`, bound to loopback by default."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from orchestra import __version__
from orchestra._code_server import API_VERSION
from orchestra._code_server.location import (
    BadRequest,
    CodePointer,
    LoadedLocation,
    NotFound,
    NotLoaded,
    error_data,
    optional,
    parse_time,
)

MAX_BODY_BYTES = 1024 * 1024


class CodeServer(ThreadingHTTPServer):
    """A threading HTTP server holding one `LoadedLocation`; each request gets its own thread."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], location: LoadedLocation, verbose: bool = False):
        super().__init__(address, CodeServerHandler)
        self.location = location
        self.verbose = verbose
        self.server_id = uuid.uuid4().hex
        self.started_at = time.time()


class CodeServerHandler(BaseHTTPRequestHandler):
    """The wire format. Every answer is a JSON object with `version` (Orchestra's) and `api_version`.

    - `GET /health` → `{status: "ok", location_name, loaded, server_id, pid, load_seconds}`
    - `GET /snapshot` → `{location_name, snapshot, error}` (one of them null)
    - `GET /snapshot.json` → the snapshot alone, its id in `X-Orchestra-Snapshot-Id` (409 if not loaded)
    - `POST /schedules/<name>/evaluate` `{scheduled_time, timeout?}` → `{run_requests, skip_message,
      error, log_lines}`
    - `POST /sensors/<name>/evaluate` `{cursor, last_run_key, last_tick_time, last_sensor_start_time?,
      timeout?}` → `{run_requests, skip_message, cursor, error, dynamic_partitions_requests, ...}`
    - `GET /partitions/<job, partition set or partitioned asset key a/b>[?current_time=T]` →
      `{job_name, partition_keys}` (`job_name` is the asset key for an asset);
      with `?key=K` (repeatable) → `{job_name, partitions: [{partition_key, run_config, tags}]}`

    Faults in user code are answered with 200 and an `error` member; malformed questions with 400,
    unknown names with 404, questions to a location that failed to load with 409, each as `{error}`.
    """

    server: CodeServer
    server_version = f"orchestra-code-server/{__version__}"

    # --- routing --------------------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802 — http.server's naming
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        parts = [unquote(p) for p in url.path.strip("/").split("/")] if url.path.strip("/") else []
        query = parse_qs(url.query)
        routes: list[tuple[str, int, str, Any]] = [
            ("GET", 1, "health", lambda: self._health()),
            ("GET", 1, "snapshot", lambda: self._snapshot()),
            ("GET", 1, "snapshot.json", lambda: self._snapshot_json()),
            ("GET", 2, "partitions", lambda: self._partitions(parts[1], query)),
            ("POST", 3, "schedules", lambda: self._evaluate_schedule(parts[1])),
            ("POST", 3, "sensors", lambda: self._evaluate_sensor(parts[1])),
        ]
        for route_method, length, head, handler in routes:
            if len(parts) != length or parts[0] != head or (length == 3 and parts[2] != "evaluate"):
                continue
            if method != route_method:
                return self._answer(HTTPStatus.METHOD_NOT_ALLOWED, {"error": f"use {route_method} for {url.path}"})
            try:
                status, body = handler()
            except BadRequest as exc:
                status, body = HTTPStatus.BAD_REQUEST, {"error": str(exc)}
            except NotFound as exc:
                status, body = HTTPStatus.NOT_FOUND, {"error": str(exc)}
            except NotLoaded as exc:
                status, body = HTTPStatus.CONFLICT, {"error": str(exc), "load_error": self.server.location.load_error}
            except Exception as exc:  # a fault of the server itself: answered, never fatal
                status, body = HTTPStatus.INTERNAL_SERVER_ERROR, {"error": error_data(exc)}
            if isinstance(body, RawJSON):
                return self._send(status, body.encode(), {"X-Orchestra-Snapshot-Id": body.snapshot_id})
            return self._answer(status, body)
        self._answer(HTTPStatus.NOT_FOUND, {"error": f"no such endpoint: {method} {url.path}"})

    # --- endpoints ------------------------------------------------------------------------------

    def _health(self) -> tuple[int, dict[str, Any]]:
        location = self.server.location
        return HTTPStatus.OK, {
            "status": "ok",
            "location_name": location.location_name,
            "loaded": location.loaded,
            "server_id": self.server.server_id,
            "pid": os.getpid(),
            "load_seconds": round(location.load_seconds, 3),
            # Where this server's code is, so a host that did not start it (a `code_server` entry)
            # can start run workers on the same code: Dagster's servers report their code pointer too.
            "code_pointer": location.code_pointer(),
        }

    def _snapshot_json(self) -> tuple[int, Any]:
        """The snapshot alone, as the canonical JSON built with it (no envelope to decode around it):
        the version, server id and snapshot id travel in headers. 409 with the load error when the
        location failed to load, as for evaluations."""
        location = self.server.location
        if location.snapshot_json is None or location.snapshot is None:
            raise NotLoaded(f"code location {location.location_name!r} failed to load; see its load error")
        document = RawJSON(location.snapshot_json)
        document.snapshot_id = str(location.snapshot.get("snapshot_id", ""))
        return HTTPStatus.OK, document

    def _snapshot(self) -> tuple[int, dict[str, Any]]:
        location = self.server.location
        return HTTPStatus.OK, {
            "location_name": location.location_name,
            "server_id": self.server.server_id,
            "snapshot": RawJSON(location.snapshot_json) if location.snapshot_json is not None else location.snapshot,
            "error": location.load_error,
        }

    def _evaluate_schedule(self, name: str) -> tuple[int, dict[str, Any]]:
        body = self._body({"scheduled_time", "timeout"})
        return HTTPStatus.OK, self.server.location.evaluate_schedule(
            name, parse_time(body.get("scheduled_time"), "scheduled_time"), timeout=_timeout(body)
        )

    def _evaluate_sensor(self, name: str) -> tuple[int, dict[str, Any]]:
        body = self._body({"cursor", "last_run_key", "last_tick_time", "last_sensor_start_time", "timeout",
                           "run_status_runs", "asset_events"})
        return HTTPStatus.OK, self.server.location.evaluate_sensor(
            name,
            cursor=optional(body, "cursor", str),
            last_run_key=optional(body, "last_run_key", str),
            last_tick_time=optional(body, "last_tick_time", (int, float)),
            last_sensor_start_time=optional(body, "last_sensor_start_time", (int, float)),
            timeout=_timeout(body),
            run_status_runs=optional(body, "run_status_runs", list),
            asset_events=optional(body, "asset_events", list),
        )

    def _partitions(self, name: str, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        unknown = set(query) - {"key", "current_time", "timeout"}
        if unknown:
            raise BadRequest(f"unknown query parameter(s): {', '.join(sorted(unknown))}; expected key, current_time, timeout")
        timeout = _timeout({"timeout": _number(query["timeout"][-1], "timeout")} if "timeout" in query else {})
        location = self.server.location
        if "key" in query:
            return HTTPStatus.OK, location.partition_details(name, query["key"], timeout=timeout)
        current_time = parse_time(query["current_time"][-1], "current_time") if "current_time" in query else None
        return HTTPStatus.OK, location.partition_keys(name, current_time, timeout=timeout)

    # --- plumbing -------------------------------------------------------------------------------

    def _body(self, allowed: set[str]) -> dict[str, Any]:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise BadRequest("Content-Length must be an integer") from None
        if length > MAX_BODY_BYTES:
            raise BadRequest(f"request body too large ({length} bytes; at most {MAX_BODY_BYTES})")
        raw = self.rfile.read(length) if length else b""
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise BadRequest(f"request body is not valid JSON ({exc})") from None
        if not isinstance(body, dict):
            raise BadRequest(f"request body must be a JSON object, got {type(body).__name__}")
        unknown = set(body) - allowed
        if unknown:
            raise BadRequest(f"unknown field(s): {', '.join(sorted(unknown))}; expected {', '.join(sorted(allowed))}")
        return body

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        raw = {key: value for key, value in body.items() if isinstance(value, RawJSON)}
        text = json.dumps({"version": __version__, "api_version": API_VERSION,
                           **{key: value for key, value in body.items() if key not in raw}}, default=repr)
        if raw:  # members already encoded (the snapshot) go in as they are
            text = text[:-1] + "".join(f", {json.dumps(key)}: {value}" for key, value in raw.items()) + "}"
        self._send(status, text.encode())

    def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Orchestra-Version", __version__)
        self.send_header("X-Orchestra-Api-Version", str(API_VERSION))
        self.send_header("X-Orchestra-Server-Id", self.server.server_id)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 — http.server's signature
        if self.server.verbose:
            super().log_message(format, *args)


class RawJSON(str):
    """JSON text already encoded (the snapshot), sent as it is: a member of an answer, or a whole one."""

    snapshot_id = ""


def _number(value: str, field: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise BadRequest(f"'{field}' must be a number of seconds, got {value!r}") from None


def _timeout(body: dict[str, Any]) -> float | None:
    value = optional(body, "timeout", (int, float))
    if value is not None and value <= 0:
        raise BadRequest(f"'timeout' must be a positive number of seconds, got {value!r}")
    return value


def serve(pointer: CodePointer, *, location_name: str | None = None, host: str = "127.0.0.1", port: int = 0,
          evaluation_timeout: float = 60.0, ready_file: str | None = None, exit_with_parent: bool = False,
          verbose: bool = False) -> None:
    """Load the definitions, bind `host:port` (0 picks a free port) and answer until SIGTERM or Ctrl-C.

    `ready_file` receives `{host, port, pid, server_id, version}` once the server accepts requests, so
    a supervisor learns the port without racing for it. With `exit_with_parent` the server stops when
    the process that started it dies, so no orphan outlives its supervisor.
    """
    parent = os.getppid()
    location = LoadedLocation(pointer, location_name, evaluation_timeout=evaluation_timeout)
    server = CodeServer((host, port), location, verbose=verbose)
    bound_host, bound_port = server.server_address[:2]
    status = "loaded" if location.loaded else "failed to load (serving the error)"
    print(
        f"Orchestra code server for location {location.location_name!r} ({pointer.describe()}) {status} in "
        f"{location.load_seconds:.2f} s; listening on http://{bound_host}:{bound_port}",
        file=sys.stderr, flush=True,
    )

    def stop(*_: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    # Installed before the ready file is written: a supervisor may send SIGTERM as soon as it sees it.
    signal.signal(signal.SIGTERM, stop)
    if ready_file:
        _write_atomically(ready_file, {"host": bound_host, "port": bound_port, "pid": os.getpid(),
                                        "server_id": server.server_id, "version": __version__})
    if exit_with_parent:
        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(0.5)
            stop()

        threading.Thread(target=watch, name="watch parent", daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def _write_atomically(path: str, data: dict[str, Any]) -> None:
    target = Path(path)
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text(json.dumps(data))
    os.replace(temporary, target)
