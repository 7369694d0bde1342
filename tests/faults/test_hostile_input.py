"""Fault scenario: hostile input (issue #12, invariant 8) — never a 5xx, never a PythonError, nothing written.

Scenarios:
- run config given as a string, a list, nested 10,000 levels deep, or 5 MB: GraphQL answers
  RunConfigValidationInvalid, REST 400/413/422 with a message, and no run is created;
- request bodies over the configured size limit are refused before anything is parsed (413);
- tags with NUL bytes, 10 kB keys or non-string values: a typed error (GraphQL) or 4xx (REST), no run;
- unknown run ids with NUL, `../` and 10 kB strings in REST paths and GraphQL arguments: 400/404;
- log messages and metadata with control characters and invalid UTF-8 (lone surrogates, as Python
  decodes undecodable bytes) are stored and served back intact by GraphQL `logsForRun` and REST events.
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from runs import services
from runs.models import Run
from runs.services import EventInput
from tests.runs.test_schema import gql
from tests.runs.test_schema_mutations import LAUNCH_RUN, params
from tests.workspace.stored import store_location

pytestmark = pytest.mark.django_db

GOOD_CONFIG = {"ops": {"emit": {"config": {"n": 2}}}}


@pytest.fixture
def location(tmp_path):
    return store_location(tmp_path)


@pytest.fixture
def queued(settings):
    """Runs are queued, so an accepted launch starts no process here."""
    from core.instance_config import RunQueueConfig

    config = settings.INSTANCE.config.model_copy(update={"run_queue": RunQueueConfig()})
    settings.INSTANCE = dataclasses.replace(settings.INSTANCE, config=config)


def nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def deep_json(depth: int) -> str:
    """JSON nested `depth` levels deep, built as text (json.dumps itself recurses)."""
    return '{"a": ' * depth + "{}" + "}" * depth


def raw_post(client, path: str, body: str, **headers):
    return client.post(path, body, content_type="application/json", headers=headers)


def launch_raw(client, run_config_json: str, tags_json: str = "[]"):
    """A GraphQL launchRun whose run config and tags are spliced in as raw JSON text."""
    variables = params(run_config={"__rc__": 1})
    text = json.dumps({"query": LAUNCH_RUN, "variables": variables})
    text = text.replace('{"__rc__": 1}', run_config_json)
    text = text.replace('"selector": {', f'"executionMetadata": {{"tags": {tags_json}}}, "selector": {{', 1)
    return raw_post(client, "/graphql", text)


def assert_refused_by_graphql(response, typename: str = "RunConfigValidationInvalid") -> dict:
    assert response.status_code < 500, response.content[:500]
    body = response.json()
    if response.status_code == 200 and "data" in body and body["data"]:
        result = body["data"]["launchRun"]
        assert result["__typename"] == typename, result
        assert result["__typename"] != "PythonError"
        return result
    # A request the GraphQL layer refuses before resolving (bad variables): a 4xx with a message.
    assert 400 <= response.status_code < 500 and body.get("errors"), body
    assert all(error.get("message") for error in body["errors"])
    return body


# --- run config ---------------------------------------------------------------------------------


@pytest.mark.parametrize("config", ['"just a string"', "[1, 2, 3]", "42", "null",
                                    json.dumps("a: &x [1, 2]\nb: [*x, *x, *x]\n")],
                         ids=["string", "list", "number", "null", "yaml-aliases"])
def test_graphql_run_config_that_is_not_a_mapping_is_a_config_error_and_no_run(client, location, queued, config):
    result = assert_refused_by_graphql(launch_raw(client, config))
    if config == "null":  # Dagster treats a null runConfigData as {} — emit's n is then missing
        assert result["errors"][0]["reason"] == "MISSING_REQUIRED_FIELD"
    else:
        assert "mapping" in json.dumps(result).lower() or "dict" in json.dumps(result).lower(), result
    assert not Run.objects.exists()


def test_graphql_run_config_as_a_yaml_string_of_a_mapping_is_accepted(client, location, queued):
    """Dagster's `RunConfigData` scalar takes a YAML string too; a string holding a mapping launches."""
    response = launch_raw(client, json.dumps("ops:\n  emit:\n    config:\n      n: 2\n"))
    assert response.json()["data"]["launchRun"]["__typename"] == "LaunchRunSuccess", response.content


def test_graphql_run_config_nested_ten_thousand_levels_is_refused_without_a_server_error(client, location, queued):
    assert_refused_by_graphql(launch_raw(client, deep_json(10_000)))
    assert not Run.objects.exists()


def test_graphql_five_megabyte_run_config_is_refused_and_no_run(client, location, queued):
    big = json.dumps({"ops": {"emit": {"config": {"n": 2}}}, "pad": "x" * 5_000_000})
    response = launch_raw(client, big)
    assert response.status_code == 413, response.content[:500]
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE" in response.json()["errors"][0]["message"]
    assert not Run.objects.exists()


def test_graphql_run_config_under_the_request_limit_but_over_the_run_config_cap_is_a_config_error(
        client, location, queued):
    big = json.dumps({"ops": {"emit": {"config": {"n": 2}}}, "pad": "x" * 1_500_000})
    result = launch_raw(client, big).json()["data"]["launchRun"]
    assert result["__typename"] == "RunConfigValidationInvalid"
    assert "ORCHESTRA_RUN_CONFIG_MAX_BYTES" in result["errors"][0]["message"]
    assert not Run.objects.exists()


def test_run_config_over_the_configured_cap_is_refused_by_run_submit(location, queued, settings):
    """The cap is the instance's `run_config_max_bytes` (default 1 MB) and applies to every entry point."""
    from core.exceptions import InvalidInput

    settings.ORCHESTRA_RUN_CONFIG_MAX_BYTES = 1000
    with pytest.raises(InvalidInput) as refused:
        services.run_submit(job_name="etl", location_name="data",
                            run_config={"ops": {"emit": {"config": {"n": 2}}}, "pad": "x" * 2000})
    assert "at most 1000 bytes" in refused.value.errors[0]["message"]
    with pytest.raises(InvalidInput) as deep:
        services.run_submit(job_name="etl", location_name="data", run_config=nested(5_000))
    assert "nested too deeply" in deep.value.errors[0]["message"]
    for bad in ("a\x00b", "bad\udcff"):
        with pytest.raises(InvalidInput):
            services.run_submit(job_name="etl", location_name="data", run_config={**GOOD_CONFIG, "x": bad})
    assert not Run.objects.exists()
    services.run_submit(job_name="etl", location_name="data", run_config=GOOD_CONFIG)
    assert Run.objects.count() == 1


@pytest.mark.parametrize("config", ['"just a string"', "[1, 2, 3]", "42"], ids=["string", "list", "number"])
def test_rest_run_config_that_is_not_a_mapping_is_422_and_no_run(client, location, queued, config):
    response = raw_post(client, "/api/runs", f'{{"job_name": "etl", "location_name": "data", "run_config": {config}}}')
    assert response.status_code in (400, 422), response.content[:500]
    assert response.json().get("detail"), response.content[:500]
    assert not Run.objects.exists()


def test_rest_run_config_nested_ten_thousand_levels_is_4xx_and_no_run(client, location, queued):
    body = f'{{"job_name": "etl", "location_name": "data", "run_config": {deep_json(10_000)}}}'
    response = raw_post(client, "/api/runs", body)
    assert 400 <= response.status_code < 500, response.content[:500]
    assert response.json().get("detail")
    assert not Run.objects.exists()


def test_rest_five_megabyte_body_is_413_and_no_run(client, location, queued):
    body = json.dumps({"job_name": "etl", "location_name": "data", "run_config": {**GOOD_CONFIG, "pad": "x" * 5_000_000}})
    response = raw_post(client, "/api/runs", body)
    assert response.status_code == 413, response.content[:500]
    assert "bytes" in response.json()["detail"]
    assert not Run.objects.exists()


def test_malformed_json_is_400_on_rest_and_graphql(client, location, queued):
    response = raw_post(client, "/api/runs", '{"job_name": "etl", ')
    assert response.status_code in (400, 422), response.content[:500]
    response = raw_post(client, "/graphql", '{"query": "mutation {')
    assert response.status_code == 400, response.content[:500]
    assert not Run.objects.exists()


# --- tags ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("tags", [
    '[{"key": "owner", "value": "a\\u0000b"}]',
    '[{"key": "o\\u0000wner", "value": "a"}]',
    '[{"key": "' + "k" * 10_000 + '", "value": "a"}]',
    '[{"key": "owner", "value": 12}]',
    '[{"key": "owner", "value": {"nested": 1}}]',
], ids=["nul-value", "nul-key", "10kB-key", "int-value", "object-value"])
def test_graphql_hostile_tags_are_refused_without_a_server_error(client, location, queued, tags):
    response = launch_raw(client, json.dumps(GOOD_CONFIG), tags)
    assert response.status_code < 500, response.content[:500]
    body = response.json()
    if body.get("data") and body["data"].get("launchRun"):
        assert body["data"]["launchRun"]["__typename"] not in ("PythonError", "LaunchRunSuccess"), body
    else:
        assert body.get("errors") and body["errors"][0]["message"], body
    assert not Run.objects.exists()


@pytest.mark.parametrize("tags", ['{"owner": "a\\u0000b"}', '{"o\\u0000wner": "a"}', '{"' + "k" * 10_000 + '": "a"}',
                                  '{"owner": 12}', '{"owner": {"nested": 1}}', '["owner"]'],
                         ids=["nul-value", "nul-key", "10kB-key", "int-value", "object-value", "list"])
def test_rest_hostile_tags_are_4xx_and_no_run(client, location, queued, tags):
    body = f'{{"job_name": "etl", "location_name": "data", "run_config": {json.dumps(GOOD_CONFIG)}, "tags": {tags}}}'
    response = raw_post(client, "/api/runs", body)
    assert 400 <= response.status_code < 500, response.content[:500]
    assert response.json().get("detail")
    assert not Run.objects.exists()


def test_rest_hostile_idempotency_key_header_is_4xx(client, location, queued):
    body = json.dumps({"job_name": "etl", "location_name": "data", "run_config": GOOD_CONFIG})
    response = raw_post(client, "/api/runs", body, **{"Idempotency-Key": "k" * 10_000})
    assert 400 <= response.status_code < 500, response.content[:500]
    assert not Run.objects.exists()


# --- unknown ids --------------------------------------------------------------------------------

HOSTILE_IDS = ["no-such-run", "..%2F..%2Fetc%2Fpasswd", "../../etc/passwd", "a%00b", "r" * 10_000, "%C0%AE%C0%AE",
               "%FF%FE"]


@pytest.mark.parametrize("run_id", HOSTILE_IDS, ids=["unknown", "encoded-dots", "dots", "nul", "10kB", "overlong",
                                                     "bad-utf8"])
@pytest.mark.parametrize("suffix", ["", "/events", "/logs", "/logs/abcdefgh", "/logs/abcdefgh/download"])
def test_rest_paths_with_hostile_run_ids_are_400_or_404(client, run_id, suffix):
    response = client.get(f"/api/runs/{run_id}{suffix}")
    assert response.status_code in (400, 404), (response.status_code, response.content[:300])


@pytest.mark.parametrize("file_key", ["..%2F..%2Fetc%2Fpasswd", "..", "a%00b", "k" * 10_000, "%2e%2e"])
def test_rest_compute_log_keys_that_are_not_plain_names_are_4xx(client, file_key):
    run = services.run_create(job_name="etl")
    response = client.get(f"/api/runs/{run.run_id}/logs/{file_key}")
    assert response.status_code in (400, 404), (response.status_code, response.content[:300])


def test_rest_terminate_and_delete_with_hostile_ids_are_4xx(client):
    for run_id in HOSTILE_IDS:
        assert client.post(f"/api/runs/{run_id}/terminate").status_code in (400, 404)
        assert client.delete(f"/api/runs/{run_id}").status_code in (400, 404)


RUN_QUERY = """query($id: ID!) { runOrError(runId: $id) { __typename ... on RunNotFoundError { message } } }"""
LOGS_QUERY = """query($id: ID!) { logsForRun(runId: $id) { __typename
  ... on EventConnection { events { __typename ... on MessageEvent { message } } }
  ... on RunNotFoundError { message } ... on PythonError { message } } }"""
TERMINATE = """mutation($id: String!) { terminateRun(runId: $id) { __typename } }"""
CAPTURED = """query($key: [String!]!) { capturedLogs(logKey: $key) { stdout cursor } }"""


@pytest.mark.parametrize("run_id", ["no-such-run", "../../etc/passwd", "a\x00b", "r" * 10_000, "\udcff"],
                         ids=["unknown", "dots", "nul", "10kB", "surrogate"])
def test_graphql_arguments_with_hostile_run_ids_are_not_found_never_python_errors(client, run_id):
    body = json.dumps({"query": RUN_QUERY, "variables": {"id": run_id}}, ensure_ascii=True)
    answer = raw_post(client, "/graphql", body)
    if run_id == "\udcff":  # not Unicode at all: the request is refused before any resolver runs
        assert answer.status_code == 400 and "surrogate" in answer.json()["errors"][0]["message"]
        return
    assert answer.json()["data"]["runOrError"]["__typename"] == "RunNotFoundError"
    answer = raw_post(client, "/graphql", json.dumps({"query": LOGS_QUERY, "variables": {"id": run_id}}))
    assert answer.json()["data"]["logsForRun"]["__typename"] == "RunNotFoundError", answer.content[:300]
    answer = raw_post(client, "/graphql", json.dumps({"query": TERMINATE, "variables": {"id": run_id}}))
    assert answer.json()["data"]["terminateRun"]["__typename"] == "RunNotFoundError", answer.content[:300]


@pytest.mark.parametrize("key", [["../../etc", "passwd", "x"], ["run", "compute_logs", "a\x00b"], ["k" * 10_000]],
                         ids=["dots", "nul", "10kB"])
def test_graphql_captured_log_keys_that_are_not_plain_names_are_refused_with_4xx(client, key):
    answer = raw_post(client, "/graphql", json.dumps({"query": CAPTURED, "variables": {"key": key}}))
    assert 400 <= answer.status_code < 500, answer.content[:300]
    assert answer.json()["errors"][0]["message"]


# --- log lines and metadata with control characters and invalid UTF-8 ---------------------------

HOSTILE_TEXT = "bell\x07 esc\x1b[31mred\x1b[0m cr\r nul\x00 del\x7f c1\x85 bad-utf8\udcff\udcfe end"


def test_log_messages_and_metadata_with_control_characters_and_invalid_utf8_are_stored_and_served_intact(client):
    run = services.run_create(job_name="etl")
    metadata = [{"label": "te\x00xt\udcff", "entry_data": {"__class__": "TextMetadataEntryData", "text": HOSTILE_TEXT}}]
    services.event_store(run_id=run.run_id, events=[
        EventInput(message=HOSTILE_TEXT),
        EventInput("ENGINE_EVENT", message="engine " + HOSTILE_TEXT,
                   payload={"metadata": metadata, "marker_start": None, "marker_end": None}),
    ])

    # NUL (PostgreSQL stores none) and lone surrogates (not UTF-8) come back backslash-escaped; the rest intact.
    stored = HOSTILE_TEXT.replace("\x00", "\\x00").replace("\udcff", "\\udcff").replace("\udcfe", "\\udcfe")
    assert "\x07" in stored and "\x1b[31m" in stored and "\r" in stored and "\x85" in stored
    stored_metadata = [{"label": "te\\x00xt\\udcff", "entry_data": {**metadata[0]["entry_data"], "text": stored}}]

    events = client.get(f"/api/runs/{run.run_id}/events").json()["events"]
    assert events[0]["message"] == stored
    assert events[1]["message"] == "engine " + stored
    assert events[1]["payload"]["metadata"] == stored_metadata

    answer = gql(client, LOGS_QUERY, {"id": run.run_id})["data"]["logsForRun"]
    assert [e["message"] for e in answer["events"]] == [stored, "engine " + stored]
