"""runs.metadata_display: links for URLs, runs, assets and jobs; tables and table schemas as HTML tables; every value
escaped. The live page (static/ui/run_live.js) builds the same markup; tests/browser holds the two equal."""

from __future__ import annotations

import math

import pytest

import orchestra as dg
from orchestra._core.metadata.json_form import metadata_to_json
from runs.metadata_display import TABLE_ROWS, cell_text, js_number, link_templates, metadata_items

IMG = '"><img src=x onerror=alert(1)>'
HOSTILE = "<script>alert(1)</script>" + IMG
IMG_ESCAPED = "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;" + IMG_ESCAPED


def shown(metadata: dict) -> dict[str, str]:
    return {str(label): str(value) for label, value in metadata_items(metadata_to_json(metadata))}


def table_html(headers: list[str], rows: list[list[str]], note: str = "") -> str:
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return (f'<div class="metadata-table"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
            f"{note}</div>")


def test_web_urls_are_links_and_any_other_url_is_text():
    values = shown({
        "web": dg.MetadataValue.url(f"https://example.com/?q={HOSTILE}&x=1"),
        "upper": dg.MetadataValue.url("HTTP://example.com"),
        "script": dg.MetadataValue.url("javascript:alert(1)"),
        "spaced": dg.MetadataValue.url(" https://example.com"),
        "data": dg.MetadataValue.url("data:text/html,<script>alert(1)</script>"),
        "relative": dg.MetadataValue.url("/runs/"),
    })
    href = f"https://example.com/?q={ESCAPED}&amp;x=1"
    assert values["web"] == f'<a href="{href}" rel="noopener noreferrer nofollow">{href}</a>'
    assert values["upper"] == ('<a href="HTTP://example.com" rel="noopener noreferrer nofollow">'
                               "HTTP://example.com</a>")
    assert values["script"] == "javascript:alert(1)" and values["spaced"] == " https://example.com"
    assert values["data"] == "data:text/html,<script>alert(1)</script>"  # text: the template escapes it
    assert values["relative"] == "/runs/"


def test_runs_assets_and_jobs_link_to_their_pages_with_each_part_quoted():
    values = shown({
        "run": dg.MetadataValue.dagster_run("abc-123"),
        "odd run": dg.MetadataValue.dagster_run(f"a b?#%{IMG}"),
        "asset": dg.MetadataValue.asset(dg.AssetKey(["warehouse", "orders & more"])),
        "job": dg.MetadataValue.job(IMG, "my location"),
        "hostile": dg.MetadataValue.dagster_run(HOSTILE),  # holds "/": no page has that address
    })
    assert values["run"] == '<a href="/runs/abc-123/">abc-123</a>'
    quoted = "%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E"
    assert values["odd run"] == f'<a href="/runs/a%20b%3F%23%25{quoted}/">a b?#%{IMG_ESCAPED}</a>'
    assert values["asset"] == ('<a href="/assets/warehouse/orders%20%26%20more/">warehouse/orders &amp; more</a>')
    assert values["job"] == f'<a href="/locations/my%20location/jobs/{quoted}/">{IMG_ESCAPED}</a>'
    assert values["hostile"] == HOSTILE  # text, which the templates escape


@pytest.mark.parametrize("entry", [
    {"type": "dagster_run", "data": ""}, {"type": "dagster_run", "data": "a/b"},
    {"type": "dagster_run", "data": ".."}, {"type": "dagster_run", "data": "."},
    {"type": "dagster_run", "data": {"__bytes__": "7bO/"}},  # a lone surrogate
    {"type": "asset", "data": []}, {"type": "asset", "data": ["a/b"]}, {"type": "asset", "data": ["a", ""]},
    {"type": "job", "data": {"job_name": "j", "location_name": ""}},
])
def test_a_value_that_cannot_name_a_page_is_shown_as_text(entry):
    ((_, value),) = metadata_items([{"label": "x", **entry}])
    assert "<a" not in str(value)


def test_the_live_page_gets_the_same_addresses_to_build_links_from():
    assert link_templates() == {"run": ["/runs/", "/"], "asset": ["/assets/", "/"],
                                "job": ["/locations/", "/jobs/", "/"]}


def test_a_table_shows_its_schema_columns_and_each_cell_escaped_as_javascript_shows_it():
    schema = dg.TableSchema(columns=[dg.TableColumn("id", "int"), dg.TableColumn(HOSTILE), dg.TableColumn("ok", "bool"),
                                     dg.TableColumn("missing", "float")])
    values = shown({HOSTILE: dg.MetadataValue.table(schema=schema, records=[
        dg.TableRecord({"id": 1.0, HOSTILE: HOSTILE, "ok": True}),
        dg.TableRecord({"id": 1e21, HOSTILE: None, "ok": False}),
        dg.TableRecord({"id": float("nan"), HOSTILE: "", "ok": None}),
    ])})
    assert values == {HOSTILE: table_html(["id", ESCAPED, "ok", "missing"], [
        ["1", ESCAPED, "true", ""], ["1e+21", "null", "false", ""], ["NaN", "", "null", ""]])}


def test_a_long_table_shows_its_first_rows_and_how_many_more_there_are():
    records = [dg.TableRecord({"n": i}) for i in range(TABLE_ROWS + 50)]
    value = shown({"t": dg.MetadataValue.table(records=records)})["t"]
    assert value.count("<tr>") == TABLE_ROWS + 1 and "<td>99</td>" in value and "<td>100</td>" not in value
    assert value.endswith('</table><p class="metadata-more">… 50 more rows</p></div>')
    one_more = shown({"t": dg.MetadataValue.table(records=records[:TABLE_ROWS + 1])})["t"]
    assert one_more.endswith('<p class="metadata-more">… 1 more row</p></div>')


def test_a_table_without_schema_columns_shows_the_keys_of_its_rows_in_javascripts_order():
    stored = [{"label": "t", "type": "table", "data": {"schema": {"columns": []}, "records": [
        {"b": 1, "10": 2, "a": 3, "2": 4}, {"c": HOSTILE, "b": 5}]}}]
    ((_, value),) = metadata_items(stored)
    # Object.keys of a parsed record lists array indices first, in numeric order.
    assert str(value) == table_html(["2", "10", "b", "a", "c"], [["4", "2", "1", "3", ""], ["", "", "5", "", ESCAPED]])


def test_a_table_schema_shows_each_columns_name_type_and_description():
    schema = dg.TableSchema(columns=[dg.TableColumn("id", "int", description=HOSTILE), dg.TableColumn(HOSTILE)])
    values = shown({"columns": dg.MetadataValue.table_schema(schema)})
    assert values["columns"] == table_html(["Column", "Type", "Description"],
                                           [["id", "int", ESCAPED], [ESCAPED, "string", ""]])


@pytest.mark.parametrize("value, text", [
    (0.0, "0"), (-0.0, "0"), (1.0, "1"), (-2.5, "-2.5"), (0.1, "0.1"), (1e21, "1e+21"), (1e20, "100000000000000000000"),
    (1e-6, "0.000001"), (1.5e-7, "1.5e-7"), (2**60, "1152921504606847000"), (2**53 + 1, "9007199254740992"),
    (10**400, "Infinity"), (-(10**400), "-Infinity"), (math.nan, "NaN"), (5e-324, "5e-324"),
    (1.7976931348623157e308, "1.7976931348623157e+308"), (123456.789, "123456.789"),
])
def test_numbers_are_shown_as_javascripts_string_shows_the_parsed_json(value, text):
    assert js_number(value) == text
    assert cell_text(value) == text


def test_cells_of_other_types_are_shown_as_javascript_shows_them():
    assert [cell_text(v) for v in ("x", None, True, False)] == ["x", "null", "true", "false"]
