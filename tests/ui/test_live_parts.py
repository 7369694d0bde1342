"""Server side of what the browser tests (tests/browser) found missing: the parts of the run page that
follow the run live (times, actions, captured logs), errors and metadata in the event log, the sensor
cursor form, the deployment page refreshing while a location loads, and the launchpad scaffold."""

from __future__ import annotations

import html as html_lib
import json
import re

import pytest
from django.test import Client

from core.templatetags.orchestra_errors import error_headline
from runs import services
from runs.services import EventInput
from runs.views import config_scaffold
from scheduling.models import InstigatorState
from scheduling.services import instigators_reconcile
from tests.runs.locations import queued
from tests.ui.live import live_config, live_poll, live_query
from tests.ui.test_pages import HOSTILE, _run, assert_escaped
from tests.workspace.stored import store_location
from workspace.models import CodeLocation, LocationStatus

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def data(tmp_path, settings):
    """As in test_pages: the stored `data` location, and runs that stay QUEUED."""
    queued(settings)
    return store_location(tmp_path)


ERROR = {"cls_name": "DagsterExecutionStepExecutionError",
         "message": 'orchestra._errors.DagsterExecutionStepExecutionError: Error occurred while executing op "x":\n',
         "stack": ["  File wrapper.py, line 1\n"],
         "cause": {"cls_name": "RuntimeError", "message": "RuntimeError: " + HOSTILE + "\n",
                   "stack": ['  File "defs.py", line 9, in x\n'], "cause": None}}


def test_the_run_page_renders_the_actions_of_both_states_for_the_live_page_to_switch(data, client):
    run = _run()
    services.event_store(run_id=run.run_id, events=[EventInput(event_type="RUN_START", message="go")])
    html = client.get(f"/runs/{run.run_id}/").content.decode()
    assert re.search(f'action="/runs/{run.run_id}/terminate" data-when="running">', html)
    assert re.search(r'data-when="finished" hidden>.*Re-execute all steps', html)  # shown once the run ends
    assert re.search(r'data-when="failed" hidden>.*Re-execute from failure', html)
    services.event_store(run_id=run.run_id, events=[
        EventInput(event_type="LOGS_CAPTURED", message="Started capturing logs.",
                   payload={"file_key": "emit", "step_keys": ["emit"], "pid": 1}),
        EventInput(event_type="RUN_SUCCESS", message="done")])
    final = client.get(f"/runs/{run.run_id}/").content.decode()
    assert "terminate" not in final and 'data-file-key="emit"' in final
    assert re.search(r'data-when="finished">.*Re-execute all steps', final) and "Re-execute from failure" not in final


def test_event_errors_show_the_innermost_cause_and_metadata_is_escaped(data, client):
    run = _run()
    services.event_store(run_id=run.run_id, events=[
        EventInput(event_type="STEP_FAILURE", step_key="x", level=40, message="Execution of step x failed.",
                   payload={"error": ERROR}),
        EventInput(event_type="ASSET_MATERIALIZATION", step_key="x", message="Materialized",
                   payload={"metadata": [{"label": "note", "type": "text", "data": HOSTILE}]}),
    ])
    html = client.get(f"/runs/{run.run_id}/").content.decode()
    summary = re.search(r"<summary>(.*?)</summary>", html, re.S).group(1)
    assert summary.startswith("RuntimeError: &lt;script&gt;")
    assert 'File &quot;defs.py&quot;, line 9' in html and "File wrapper.py" in html
    assert_escaped(html)
    assert_escaped(client.get(f"/runs/{run.run_id}/events?before=999999999").content.decode())
    # What the live page reads for the same events: the error chain and the metadata, verbatim (it sets them as text).
    events = live_poll(client, live_config(html), after="0")["logsForRun"]["events"]
    error = events[0]["error"]
    assert error["className"] == "DagsterExecutionStepExecutionError" and error["stack"] == ["  File wrapper.py, line 1\n"]
    assert [(c["className"], c["message"]) for c in error["causes"]] == [("RuntimeError", "RuntimeError: " + HOSTILE + "\n")]
    assert events[1]["metadataEntries"] == [{"__typename": "TextMetadataEntry", "label": "note", "text": HOSTILE}]


def test_markdown_metadata_rows_show_the_same_sanitized_html_on_the_page_and_in_the_live_poll(data, client):
    run = _run()
    text = f"**bold** {HOSTILE} [x](javascript:alert(1))"
    services.event_store(run_id=run.run_id, events=[
        EventInput(event_type="ASSET_MATERIALIZATION", step_key="x", message="Materialized", payload={"metadata": [
            {"label": "summary", "type": "md", "data": text},
            {"label": "note", "type": "text", "data": "**plain**"}]}),
        EventInput(event_type="STEP_EXPECTATION_RESULT", step_key="x", message="checked", payload={
            "success": True, "label": "ok", "metadata": [{"label": "why", "type": "md", "data": "*fine*"}]}),
    ])
    html = client.get(f"/runs/{run.run_id}/").content.decode()
    assert_escaped(html)
    shown = re.findall(r'<dd><div class="markdown">(.*?)</div></dd>', html, re.S)
    assert shown[0].startswith("<p><strong>bold</strong> &lt;script&gt;alert(1)&lt;/script&gt;")
    assert "<dd>**plain**</dd>" in html
    # run_live.js inserts `mdHtml` into the same <div class="markdown">: the very HTML the page has.
    events = live_poll(client, live_config(html), after="0")["logsForRun"]["events"]
    entries = events[0]["metadataEntries"] + events[1]["expectationResult"]["metadataEntries"]
    assert [e.get("mdHtml") for e in entries] == [shown[0], None, shown[1]]


def test_every_metadata_kind_is_shown_one_way_on_the_page_and_from_the_live_poll_s_entries(data, client):
    """runs.metadata_display: one display per stored kind. The page shows it; the live poll serves the entry fields
    run_live.js shows it from (the browser test holds the two equal in Chromium)."""
    import math

    import orchestra as dg
    from orchestra._core.metadata.json_form import metadata_to_json
    from runs.metadata_display import timestamp_text

    metadata = metadata_to_json({
        "text": "<b>t</b>", "int": 2**40, "float": 0.1, "inf": dg.MetadataValue.float(math.inf), "bool": False,
        "json": dg.MetadataValue.json({"a": [1, None]}), "url": dg.MetadataValue.url("https://x.test/?a=1&b=2"),
        "path": dg.MetadataValue.path("/p"), "notebook": dg.MetadataValue.notebook("/n.ipynb"),
        "asset": dg.MetadataValue.asset(dg.AssetKey(["a", "b"])), "job": dg.MetadataValue.job("j", "loc"),
        "ts": dg.MetadataValue.timestamp(0.0015), "null": dg.MetadataValue.null(),
        "run": dg.MetadataValue.dagster_run("r-1"), "pool": dg.MetadataValue.pool("db"),
        "table": dg.MetadataValue.table(records=[dg.TableRecord({"n": 1})],
                                        schema=dg.TableSchema(columns=[dg.TableColumn("n", "int")])),
    }) + [{"label": "broken", "type": "job", "data": {"no": "name"}}]
    run = _run()
    services.event_store(run_id=run.run_id, events=[
        EventInput(event_type="STEP_OUTPUT", step_key="emit", message="out", payload={"metadata": metadata})])
    html = client.get(f"/runs/{run.run_id}/").content.decode()
    rows = re.search(r'<dl class="metadata">(.*?)</dl>', html, re.S).group(1)
    shown = [v.replace("&amp;", "&") for v in re.findall(r"<dd>(.*?)</dd>", rows, re.S)]
    table = "<thead><tr><th>n</th></tr></thead><tbody><tr><td>1</td></tr></tbody>"
    assert shown == [
        "&lt;b&gt;t&lt;/b&gt;", "1099511627776", "0.1", "inf", "false", "{&quot;a&quot;: [1, null]}",
        '<a href="https://x.test/?a=1&b=2" rel="noopener noreferrer nofollow">https://x.test/?a=1&b=2</a>',
        "/p", "/n.ipynb", '<a href="/assets/a/b/">a/b</a>', '<a href="/locations/loc/jobs/j/">j</a>',
        "1970-01-01T00:00:00.001Z", "null", '<a href="/runs/r-1/">r-1</a>', "db",
        f'<div class="metadata-table"><table>{table}</table></div>', "{&quot;no&quot;: &quot;name&quot;}"]
    config = live_config(html)
    entries = live_poll(client, config, after="0")["logsForRun"]["events"][0]["metadataEntries"]
    assert [e["__typename"] for e in entries] == [
        "TextMetadataEntry", "IntMetadataEntry", "FloatMetadataEntry", "FloatMetadataEntry", "BoolMetadataEntry",
        "JsonMetadataEntry", "UrlMetadataEntry", "PathMetadataEntry", "NotebookMetadataEntry", "AssetMetadataEntry",
        "JobMetadataEntry", "TimestampMetadataEntry", "NullMetadataEntry", "PipelineRunMetadataEntry",
        "PoolMetadataEntry", "TableMetadataEntry", "JsonMetadataEntry"]
    assert entries[1]["intRepr"] == shown[1] and entries[3]["floatRepr"] == "inf" and entries[11]["timestamp"] == 0.0015
    assert entries[10]["jobName"] == "j" and entries[10]["locationName"] == "loc"
    assert entries[15]["table"] == {"records": ['{"n": 1}'], "schema": {"columns": [
        {"name": "n", "type": "int", "description": None}]}}
    # The live page builds its links from the page's own addresses (runs.metadata_display.link_templates).
    assert config["links"] == {"run": ["/runs/", "/"], "asset": ["/assets/", "/"],
                               "job": ["/locations/", "/jobs/", "/"]}
    # Timestamps as JavaScript's Date.toISOString (milliseconds truncated toward zero), years 1-9999 only.
    assert timestamp_text(-0.0015) == "1969-12-31T23:59:59.999Z"
    assert timestamp_text(-62135596800.0) == "0001-01-01T00:00:00.000Z"
    assert timestamp_text(253402300800.0) == timestamp_text(math.nan) == "timestamp out of range"


def test_links_and_tables_in_metadata_are_rendered_escaped_on_the_run_page(data, client):
    """URLs, runs, assets and jobs as links; tables as HTML tables; hostile labels, cells and URLs stay text."""
    import orchestra as dg
    from orchestra._core.metadata.json_form import metadata_to_json

    img = '"><img src=x onerror=alert(1)>'
    metadata = metadata_to_json({
        f"{HOSTILE} url": dg.MetadataValue.url("https://example.com/?a=1&b=2"),
        "script url": dg.MetadataValue.url("javascript:alert(1)"),
        "run": dg.MetadataValue.dagster_run(img), "asset": dg.MetadataValue.asset(dg.AssetKey(["raw", img])),
        "job": dg.MetadataValue.job("etl", "data"),
        "table": dg.MetadataValue.table(records=[dg.TableRecord({HOSTILE: HOSTILE, "n": 2.0})]),
        "schema": dg.MetadataValue.table_schema(dg.TableSchema(columns=[dg.TableColumn(img, description=HOSTILE)])),
    })
    run = _run()
    services.event_store(run_id=run.run_id, events=[
        EventInput(event_type="STEP_OUTPUT", step_key="emit", message="out", payload={"metadata": metadata})])
    html = client.get(f"/runs/{run.run_id}/").content.decode()
    assert_escaped(html)
    rows = re.search(r'<dl class="metadata">(.*?)</dl>', html, re.S).group(1)
    shown = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", rows, re.S))
    escaped, img_escaped = html_lib.escape(HOSTILE), html_lib.escape(img)
    quoted = "%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E"
    assert shown[f"{escaped} url"] == ('<a href="https://example.com/?a=1&amp;b=2" rel="noopener noreferrer nofollow">'
                                       "https://example.com/?a=1&amp;b=2</a>")
    assert shown["script url"] == "javascript:alert(1)"
    assert shown["run"] == f'<a href="/runs/{quoted}/">{img_escaped}</a>'
    assert shown["asset"] == f'<a href="/assets/raw/{quoted}/">raw/{img_escaped}</a>'
    assert shown["job"] == '<a href="/locations/data/jobs/etl/">etl</a>'
    # The columns of the schema the SDK inferred, in its order (jsonb keeps lists; it reorders a record's keys).
    assert shown["table"] == (f'<div class="metadata-table"><table><thead><tr><th>{escaped}</th><th>n</th></tr>'
                              f"</thead><tbody><tr><td>{escaped}</td><td>2</td></tr></tbody></table></div>")
    assert shown["schema"] == ('<div class="metadata-table"><table><thead><tr><th>Column</th><th>Type</th>'
                               f"<th>Description</th></tr></thead><tbody><tr><td>{img_escaped}</td><td>string</td>"
                               f"<td>{escaped}</td></tr></tbody></table></div>")
    # The live poll serves what run_live.js builds the same markup from.
    entries = live_poll(client, live_config(html), after="0")["logsForRun"]["events"][0]["metadataEntries"]
    table = next(e for e in entries if e["label"] == "table")["table"]
    assert [json.loads(record) for record in table["records"]] == [{HOSTILE: HOSTILE, "n": 2.0}]


def test_error_headline_names_the_class_when_the_message_does_not():
    assert error_headline(ERROR) == "RuntimeError: " + HOSTILE
    assert error_headline({"cls_name": "SyntaxError", "message": "invalid syntax", "cause": None}) == (
        "SyntaxError: invalid syntax")
    assert error_headline(None) == ""


def test_a_sensor_cursor_is_set_and_cleared_from_the_automation_page(data, client):
    instigators_reconcile(location_name="data", force=True)
    url = "/automation/sensor/data/watcher/cursor"
    assert Client(enforce_csrf_checks=True).post(url, {"cursor": "1"}).status_code == 403
    assert client.post(url, {"cursor": HOSTILE}).status_code == 302
    assert InstigatorState.objects.get(name="watcher").cursor == HOSTILE
    html = client.get("/automation/").content.decode()
    assert 'name="cursor" value="&lt;script&gt;alert(1)&lt;/script&gt;' in html
    assert_escaped(html)
    client.post(url, {"cursor": ""})
    assert InstigatorState.objects.get(name="watcher").cursor is None
    assert client.post("/automation/sensor/data/nope/cursor", {"cursor": "1"}).status_code == 404


def test_the_deployment_page_refreshes_itself_only_while_a_location_loads(data, client):
    assert "every 1s" not in client.get("/deployment/").content.decode()
    CodeLocation.objects.filter(name="data").update(status=LocationStatus.LOADING)
    html = client.get("/deployment/").content.decode()
    assert 'hx-get="/deployment/" hx-trigger="every 1s" hx-select="#locations"' in html


def test_the_scaffold_fills_values_that_may_come_from_the_environment():
    env_or = {"anyOf": [{"type": "string"}, {"type": "object", "properties": {"env": {"type": "string"}}}]}
    optional = {"anyOf": [{"type": "null"}, {"anyOf": [{"type": "integer"}]}], "default": 1}
    schema = {"type": "object", "required": ["name"], "properties": {"name": env_or, "times": optional}}
    assert config_scaffold(schema) == {"name": ""}


def test_a_viewer_s_live_page_reads_graphql_with_its_session_and_the_page_s_csrf_token(data, login_as):
    """The live page posts to /graphql as the logged-in user: the session cookie, and the X-CSRFToken header it got
    from the page (static/ui/gql.js sends the token of the page's `<body hx-headers>`); without it it is refused."""
    run = _run()
    strict = Client(enforce_csrf_checks=True)
    login_as("viewer", client=strict)
    page = strict.get(f"/runs/{run.run_id}/").content.decode()
    config = live_config(page)
    assert config["planSteps"] is False  # a viewer's step list has no planned steps: it may not re-execute
    token = json.loads(html_lib.unescape(re.search(r"<body hx-headers='([^']*)'", page).group(1)))["X-CSRFToken"]
    body = json.dumps({"query": live_query(), "operationName": "RunLive", "variables": {
        "runId": run.run_id, "after": config["cursor"], "limit": 500, "steps": True, "plan": False, "tail": False,
        "logKey": [run.run_id], "logCursor": None, "logLimit": 65536}})
    refused = strict.post("/graphql", body, content_type="application/json")
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    answer = strict.post("/graphql", body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert answer.status_code == 200 and answer.json()["data"]["runOrError"]["status"] == run.status
