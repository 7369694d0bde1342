"""A runs page loads the runs' JSON fields only when a selected GraphQL field reads them; either way it
answers the same values in the same number of queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from runs import selectors, services
from runs.models import RunTag
from tests.runs.test_schema import gql

pytestmark = pytest.mark.django_db

LIST_ONLY = """
query { runsOrError(limit: 50) { ... on Runs { results { runId status jobName startTime endTime tags { key value } } } } }
"""

CONFIG_THROUGH_FRAGMENT = """
fragment RunFields on Run { runId runConfigYaml stepKeysToExecute resolvedOpSelection assetSelection { path } }
query { runsOrError(limit: 50) { __typename ... on Runs { results { ...RunFields } } } }
"""


def _runs(n: int) -> None:
    for i in range(n):
        services.run_create(
            job_name=f"job_{i}",
            run_config={"ops": {"first": {"config": {"n": i}}}},
            tags={"team": str(i % 3), "dagster/from_ui": "true"},
        )


def _page(client, query: str) -> tuple[list[dict], list[str]]:
    with CaptureQueriesContext(connection) as captured:
        results = gql(client, query)["data"]["runsOrError"]["results"]
    return results, [q["sql"] for q in captured.captured_queries]


def test_a_page_that_reads_no_config_does_not_load_it(client):
    _runs(5)
    results, queries = _page(client, LIST_ONLY)
    assert len(results) == 5 and all(len(r["tags"]) == 2 for r in results)
    runs_query = next(sql for sql in queries if 'FROM "runs_run"' in sql)
    assert '"run_config"' not in runs_query and '"origin"' not in runs_query


def test_config_fields_asked_through_a_fragment_are_loaded_in_the_same_queries(client):
    _runs(5)
    few_results, few_queries = _page(client, CONFIG_THROUGH_FRAGMENT)
    _runs(20)
    results, queries = _page(client, CONFIG_THROUGH_FRAGMENT)
    assert len(few_queries) == len(queries)
    assert len(results) == 25
    assert {r["runConfigYaml"] for r in results} >= {
        f"ops:\n  first:\n    config:\n      n: {i}\n" for i in range(5)
    }
    assert all(r["stepKeysToExecute"] is None and r["assetSelection"] is None for r in results)


def test_listed_tags_are_the_stored_tag_rows():
    _runs(3)
    for run in selectors.run_list(limit=50):
        listed = list(run.tags.all())
        stored = list(RunTag.objects.filter(run=run).order_by("id"))
        assert listed == stored
        assert [(t.pk, t.run_id, t.key, t.value) for t in listed] == [
            (t.pk, t.run_id, t.key, t.value) for t in stored
        ]
        assert all(not t._state.adding and t._state.db == "default" and t.run == run for t in listed)
