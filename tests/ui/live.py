"""The live run page's side of the server, for tests: the configuration the page hands static/ui/run_live.js,
and the very GraphQL document that script sends (read from the script, so a test runs what the browser runs)."""

from __future__ import annotations

import html as html_lib
import json
import re
from typing import Any

from tests.conftest import REPO

RUN_LIVE_JS = REPO / "static" / "ui" / "run_live.js"


def _js_lines(source: str, name: str) -> list[str]:
    body = re.search(rf"var {name} = \[(.*?)\](?:\.concat|;)", source, re.S).group(1)
    return json.loads("[" + body + "]")


def live_query(name: str = "QUERY") -> str:
    """A GraphQL document of static/ui/run_live.js: `QUERY` (the live poll) or `SEARCH` (the server-side event
    search), each an array of JavaScript string literals followed by the shared FRAGMENTS, joined by newlines."""
    source = RUN_LIVE_JS.read_text()
    return "\n".join(_js_lines(source, name) + _js_lines(source, "FRAGMENTS"))


def live_config(page: str) -> dict[str, Any]:
    """The `run-live` JSON a run page embeds for run_live.js."""
    found = re.search(r'<script id="run-live" type="application/json">(.*?)</script>', page, re.S)
    assert found, "the run page embeds no live configuration"
    return json.loads(html_lib.unescape(found.group(1)))


def live_poll(client, config: dict[str, Any], *, after: str | None = None, steps: bool = False,
              log: dict[str, Any] | None = None, plan: bool = False) -> dict[str, Any]:
    """One poll as run_live.js sends it (POST /graphql) from `config`; answers the `data`."""
    log = config["log"] if log is None else log
    variables = {
        "runId": config["runId"], "after": config["cursor"] if after is None else after, "limit": 500,
        "steps": steps, "plan": plan, "tail": bool(log),
        "logKey": log["logKey"] if log else [config["runId"]], "logCursor": log["cursor"] if log else None,
        "logLimit": 65536,
    }
    response = client.post("/graphql", json.dumps({"query": live_query(), "variables": variables,
                                                   "operationName": "RunLive"}),
                           content_type="application/json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]
