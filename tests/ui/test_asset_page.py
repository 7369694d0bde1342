"""An asset's page: downstream assets, definition metadata, checks with their latest result, numeric
metadata plotted over time and the partition status grid — in a constant number of queries."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from runs import services
from runs.services import EventInput
from tests.runs.locations import queued
from tests.workspace.stored import store_location

pytestmark = pytest.mark.django_db(transaction=True)

DEFS = '''
import orchestra as dg


@dg.asset(partitions_def=dg.StaticPartitionsDefinition(["a", "b", "c"]), kinds={"python"}, owners=["team:data"],
          metadata={"source": "s3://bucket"}, check_specs=[dg.AssetCheckSpec("positive", asset="rows"),
                                                        dg.AssetCheckSpec("fresh", asset="rows")])
def rows():
    return 1


@dg.asset(partitions_def=dg.StaticPartitionsDefinition(["a", "b", "c"]))
def report(rows):
    return rows


defs = dg.Definitions(assets=[rows, report])
'''


@pytest.fixture
def run(tmp_path, settings):
    queued(settings)
    store_location(tmp_path, name="shop", source=DEFS)
    return services.run_create(job_name="__ASSET_JOB", location_name="shop")


def _materialize(run, partition: str, count: int) -> None:
    services.event_store(run_id=run.run_id, events=[EventInput(
        event_type="ASSET_MATERIALIZATION", asset_key="rows", partition=partition,
        payload={"metadata": [{"label": "row_count", "type": "int", "data": count},
                              {"label": "note", "type": "text", "data": "hello"}]})])


def test_definition_downstream_and_checks(run, client):
    services.event_store(run_id=run.run_id, events=[EventInput(
        event_type="ASSET_CHECK_EVALUATION", asset_key="rows",
        payload={"check_name": "positive", "passed": False, "severity": "WARN"})])
    html = client.get("/assets/rows/").content.decode()
    assert 'href="/assets/report/"' in html  # downstream
    assert "<dt>source</dt><dd>s3://bucket</dd>" in html and '<span class="tag">python</span>' in html
    assert re.search(r"<td>positive</td>\s*<td><span[^>]*>FAILED</span> <small>WARN</small>", html)
    assert re.search(r"<td>fresh</td>\s*<td><span[^>]*>NOT EVALUATED</span>", html)


def test_numeric_metadata_is_plotted_and_partitions_are_gridded(run, client):
    for partition, count in (("a", 10), ("b", 30), ("a", 20)):
        _materialize(run, partition, count)
    html = client.get("/assets/rows/").content.decode()
    points = re.search(r'<polyline points="([^"]+)"', html).group(1).split()
    assert len(points) == 3 and "row_count" in html and "note" not in re.search(
        r'<div class="plots">(.*?)</div>', html, re.S).group(1)  # text metadata is not plotted
    heights = [float(point.split(",")[1]) for point in points]
    assert heights[1] < heights[2] < heights[0]  # 10, 30, 20: higher values are drawn higher (smaller y)
    assert "2 of 3 partitions materialized" in html
    assert re.findall(r'title="(\w): (materialized|missing)"', html) == [
        ("a", "materialized"), ("b", "materialized"), ("c", "missing")]


def test_the_asset_page_shows_metadata_as_the_run_page_does(run, client):
    """Definition and history metadata through runs.metadata_display, as the run page's rows and live rows."""
    services.event_store(run_id=run.run_id, events=[EventInput(
        event_type="ASSET_MATERIALIZATION", asset_key="rows",
        payload={"metadata": [{"label": "ok", "type": "bool", "data": True},
                              {"label": "when", "type": "timestamp", "data": 1714564800},
                              {"label": "nan", "type": "float", "data": {"__float__": "NaN"}},
                              {"label": "nothing", "type": "null", "data": None},
                              {"label": "up", "type": "asset", "data": ["a", "b"]}]})])
    history = client.get("/assets/rows/").content.decode().split("<h2>Materializations</h2>")[1]
    for label, value in (("ok", "true"), ("when", "2024-05-01T12:00:00.000Z"), ("nan", "nan"), ("nothing", "null"),
                         ("up", '<a href="/assets/a/b/">a/b</a>')):
        assert f"<dt>{label}</dt><dd>{value}</dd>" in history


def test_the_asset_page_makes_a_constant_number_of_queries(run, client):
    client.get("/assets/rows/")  # the first request decodes the location's snapshot (one query more)
    counts = []
    for n in (1, 30):
        for i in range(n):
            _materialize(run, "abc"[i % 3], i)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/assets/rows/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_partitioned_asset_is_materialized_for_the_chosen_partition(run, client):
    from runs.models import Run

    html = client.get("/assets/rows/").content.decode()
    assert '<select name="partition" required>' in html and "<option" in html
    response = client.post("/assets/rows/", {"partition": "b"})
    launched = Run.objects.exclude(pk=run.pk).get()
    assert response.status_code == 302 and launched.tags.get(key="dagster/partition").value == "b"
    assert launched.asset_selection == [["rows"]]


def test_the_catalog_filters_by_text_kind_and_owner_and_shows_check_results(run, client):
    services.event_store(run_id=run.run_id, events=[EventInput(
        event_type="ASSET_CHECK_EVALUATION", asset_key="rows", payload={"check_name": "positive", "passed": False})])
    html = client.get("/assets/").content.decode()
    assert re.search(r'href="/assets/rows/".*?<span class="status status-failure">1 failed</span>', html, re.S)
    keys = lambda url: re.findall(r'<td><a href="/assets/([^"]+)/">', client.get(url).content.decode())  # noqa: E731
    assert keys("/assets/?kind=python") == ["rows"] and keys("/assets/?owner=team:data") == ["rows"]
    assert keys("/assets/?q=REP") == ["report"] and keys("/assets/?q=nothing") == []


MD_DEFS = '''
import orchestra as dg


@dg.asset(metadata={"readme": dg.MetadataValue.md("**Owned** by data. <script>window.x=1</script>"),
                    "plain": "**not markdown**"})
def notes():
    return 1


defs = dg.Definitions(assets=[notes])
'''


def test_markdown_metadata_is_rendered_sanitized_in_the_definition_and_the_history(tmp_path, settings, client):
    queued(settings)
    store_location(tmp_path, name="docs", source=MD_DEFS)
    run = services.run_create(job_name="__ASSET_JOB", location_name="docs")
    services.event_store(run_id=run.run_id, events=[EventInput(
        event_type="ASSET_MATERIALIZATION", asset_key="notes",
        payload={"metadata": [{"label": "summary", "type": "md",
                               "data": '| n |\n|---|\n| 3 |\n\n"><img src=x onerror="window.x=1"> [a](javascript:x)'}]})])
    html = client.get("/assets/notes/").content.decode()
    assert ('<dt>readme</dt><dd><div class="markdown"><p><strong>Owned</strong> by data. '
            "&lt;script&gt;window.x=1&lt;/script&gt;</p>\n</div></dd>") in html
    assert "<dt>plain</dt><dd>**not markdown**</dd>" in html  # text metadata stays text
    history = html.split("<h2>Materializations</h2>")[1]
    assert '<dt>summary</dt><dd><div class="markdown"><table>' in history and "<td>3</td>" in history
    assert "&lt;img src=x onerror=" in history and "<img" not in history and 'href="javascript' not in history
