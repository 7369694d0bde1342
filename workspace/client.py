"""The host's client of a code location server (`orchestra code-server start`): HTTP + JSON, stdlib only."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from core.exceptions import OrchestraError

DEFAULT_TIMEOUT = 60.0
# The server answers a timed-out evaluation itself; the client waits a little longer for that answer.
_TRANSPORT_MARGIN = 10.0


class CodeServerError(OrchestraError):
    """A code server could not answer."""


class CodeServerUnavailable(CodeServerError):
    """Nothing answered at the server's address (not started, died, or too slow)."""


class CodeServerRequestError(CodeServerError):
    """The server refused the question: `status` is 400 (malformed), 404 (unknown name) or 409 (not loaded)."""

    def __init__(self, status: int, message: str, body: dict[str, Any]):
        self.status = status
        self.body = body
        super().__init__(message)


class CodeServerClient:
    """Talks to one code server. Faults in user code come back as data (`error` members), not exceptions.

    Example:
        >>> client = CodeServerClient("127.0.0.1", 4000)
        >>> client.evaluate_sensor("new_files", cursor=None, last_run_key=None, last_tick_time=None)["run_requests"]
    """

    def __init__(self, host: str, port: int, timeout: float = DEFAULT_TIMEOUT):
        self.host = host
        self.port = port
        self.timeout = timeout

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def health(self, timeout: float = 5.0) -> dict[str, Any]:
        return self._request("GET", "/health", timeout=timeout)

    def snapshot(self) -> dict[str, Any]:
        """`{location_name, server_id, snapshot, error}`: the snapshot, or the load error as data."""
        return self._request("GET", "/snapshot")

    def snapshot_document(self) -> SnapshotDocument | None:
        """The snapshot as the JSON text the server built (`GET /snapshot.json`), not decoded here.

        None when there is no such document: the location failed to load (ask `snapshot()` for the
        error) or the server predates the endpoint. Storing the text as it came spares decoding and
        re-encoding megabytes for a large location.
        """
        url = self.url + "/snapshot.json"
        try:
            with urllib.request.urlopen(urllib.request.Request(url), timeout=self.timeout + _TRANSPORT_MARGIN) as response:
                headers = response.headers
                return SnapshotDocument(
                    text=response.read().decode(), snapshot_id=headers.get("X-Orchestra-Snapshot-Id", ""),
                    server_id=headers.get("X-Orchestra-Server-Id"), version=headers.get("X-Orchestra-Version"),
                    api_version=_int_or_none(headers.get("X-Orchestra-Api-Version")),
                )
        except urllib.error.HTTPError as exc:
            if exc.code in (404, 409):
                return None
            raise CodeServerRequestError(exc.code, f"code server at {self.url}: HTTP {exc.code}", {}) from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            raise CodeServerUnavailable(f"code server at {self.url} did not answer GET /snapshot.json: {reason}") from None

    def evaluate_schedule(self, name: str, scheduled_time: dt.datetime | float | None,
                          timeout: float | None = None) -> dict[str, Any]:
        body = {"scheduled_time": _timestamp(scheduled_time), "timeout": timeout}
        return self._request("POST", f"/schedules/{quote(name, safe='')}/evaluate", body, timeout=timeout)

    def evaluate_sensor(self, name: str, *, cursor: str | None, last_run_key: str | None,
                        last_tick_time: dt.datetime | float | None, last_sensor_start_time: float | None = None,
                        timeout: float | None = None, run_status_runs: list[dict[str, Any]] | None = None,
                        asset_events: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """`run_status_runs`: for a run status sensor, the runs (and status events) to evaluate it for;
        `asset_events`: for an asset sensor, the materializations its `context.instance` answers from."""
        body = {
            "cursor": cursor,
            "last_run_key": last_run_key,
            "last_tick_time": _timestamp(last_tick_time),
            "last_sensor_start_time": _timestamp(last_sensor_start_time),
            "timeout": timeout,
            "run_status_runs": run_status_runs,
            "asset_events": asset_events,
        }
        return self._request("POST", f"/sensors/{quote(name, safe='')}/evaluate", body, timeout=timeout)

    def partition_keys(self, name: str, current_time: dt.datetime | float | None = None) -> dict[str, Any]:
        """`{job_name, partition_keys}` (or `{job_name, error}`) for a job or its partition set."""
        query = {"current_time": _timestamp(current_time)} if current_time is not None else {}
        return self._request("GET", f"/partitions/{quote(name, safe='')}", query=query)

    def partition_details(self, name: str, keys: list[str]) -> dict[str, Any]:
        """`{job_name, partitions: [{partition_key, run_config, tags} or {partition_key, error}]}`."""
        return self._request("GET", f"/partitions/{quote(name, safe='')}", query={"key": keys})

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None,
                 query: dict[str, Any] | None = None, timeout: float | None = None) -> dict[str, Any]:
        url = self.url + path + (f"?{urlencode(query, doseq=True)}" if query else "")
        data = json.dumps({k: v for k, v in body.items() if v is not None}).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
        wait = (timeout or self.timeout) + _TRANSPORT_MARGIN
        try:
            with urllib.request.urlopen(request, timeout=wait) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            try:
                answer = json.loads(exc.read())
            except ValueError:
                answer = {}
            message = answer.get("error") if isinstance(answer.get("error"), str) else f"HTTP {exc.code}"
            raise CodeServerRequestError(exc.code, f"code server at {self.url}: {message}", answer) from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            raise CodeServerUnavailable(f"code server at {self.url} did not answer {method} {path}: {reason}") from None
        except ValueError as exc:
            raise CodeServerUnavailable(f"code server at {self.url} answered {method} {path} with bad JSON: {exc}") from None


@dataclass(frozen=True)
class SnapshotDocument:
    """A location's snapshot as JSON text, with what the server said about it."""

    text: str
    snapshot_id: str
    server_id: str | None
    version: str | None
    api_version: int | None


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _timestamp(value: dt.datetime | float | None) -> float | None:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("times sent to a code server must be timezone-aware")
        return value.timestamp()
    return value
