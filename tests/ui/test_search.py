"""Global search: definitions of loaded code locations by name and runs by id, as the header's results
fragment (htmx) or a page; escaped, bounded, and in a constant number of queries."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from runs import services
from scheduling.services import instigators_reconcile
from tests.runs.locations import queued
from tests.workspace.stored import store_location
from workspace.search import definitions_search

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def data(tmp_path, settings):
    queued(settings)
    return store_location(tmp_path)


def _links(html: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)"', html)


def test_definitions_match_by_name_prefix_first(data):
    hits = definitions_search({"data": data.snapshot}, "L")
    assert [hit.name for hit in hits["job"]] == ["etl", "plain"]  # shorter first; never the implicit asset job
    assert [hit.name for hit in hits["asset"]] == ["clean"]
    assert [hit.name for hit in hits["schedule"]] == ["hourly"]
    hits = definitions_search({"data": data.snapshot}, "e")
    assert [hit.name for hit in hits["job"]] == ["etl"]  # starts with it
    assert [hit.name for hit in hits["sensor"]] == ["watcher"]
    assert definitions_search({"data": data.snapshot}, "  ") == {"job": [], "asset": [], "schedule": [], "sensor": []}


def test_the_fragment_lists_each_kind_with_links(data, client):
    html = client.get("/search?q=a", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in html  # a fragment for the header's results box
    links = _links(html)
    assert "/locations/data/jobs/plain/" in links and "/assets/raw/" in links
    assert "/locations/data/sensors/watcher/" in links and "/locations/data/schedules/hourly/" not in links
    links = _links(client.get("/search?q=HOUR", HTTP_HX_REQUEST="true").content.decode())
    assert links == ["/locations/data/schedules/hourly/"]
    instigators_reconcile(location_name="data", force=True)
    assert client.get("/locations/data/schedules/hourly/").status_code == 200  # where the link lands


def test_runs_are_found_by_id_prefix(data, client):
    run = services.run_submit(job_name="plain", location_name="data")
    html = client.get(f"/search?q={run.run_id[:8]}").content.decode()
    assert "<html" in html and f"/runs/{run.run_id}/" in _links(html)
    assert f"/runs/{run.run_id}/" not in client.get("/search?q=abc").content.decode()  # too short for an id


def test_nothing_found_says_what_search_covers_and_hostile_queries_are_escaped(data, client):
    html = client.get("/search?q=<script>alert(1)</script>", HTTP_HX_REQUEST="true").content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Search finds jobs, assets, schedules and sensors by name, and runs by id." in html
    assert client.get("/search?q=" + "x" * 5000).status_code == 200


def test_search_makes_a_constant_number_of_queries(data, client):
    client.get("/search?q=0123", HTTP_HX_REQUEST="true")  # the first request decodes the snapshot
    counts = []
    for n in (1, 20):
        for _ in range(n):
            services.run_submit(job_name="plain", location_name="data")
        with CaptureQueriesContext(connection) as queries:
            client.get("/search?q=0123", HTTP_HX_REQUEST="true")
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_every_page_has_the_search_box(data, client):
    html = client.get("/runs/").content.decode()
    assert 'id="global-search"' in html and "/static/ui/keys.js" in html
