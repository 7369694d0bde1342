"""The UI's graphs, search, overview and launchpad checks in Chromium against the real `orchestra dev` of
conftest.py: the lineage graph lays out and materializes a selection, the job graph draws its ops, `/`
searches, the launchpad checks config as you type, and the run page's event filters and Gantt chart work."""

from __future__ import annotations

import re

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails, when required) without Playwright
    expect = None

pytestmark = pytest.mark.browser

RUN_URL = re.compile(r".*/runs/([0-9a-f-]{36})/$")
FINISH_TIMEOUT = 90_000


def test_lineage_selects_downstream_and_materializes_the_selection(page, screenshot):
    page.goto("/asset-groups/?group=numbers@browser")
    nodes = page.locator("svg.graph-svg .graph-node")
    expect(nodes).to_have_count(2)
    page.locator(".graph-node", has_text="raw_numbers").click()
    page.get_by_role("button", name="+ Downstream").click()
    expect(page.locator(".graph-node.selected")).to_have_count(2)
    expect(page.get_by_role("button", name=re.compile(r"Materialize selected \(2\)"))).to_be_enabled()
    screenshot(page, "lineage")
    page.get_by_role("button", name=re.compile("Materialize selected")).click()
    expect(page).to_have_url(RUN_URL)
    expect(page.locator("#run-status")).to_have_text("SUCCESS", timeout=FINISH_TIMEOUT)
    expect(page.locator("#run-gantt .gantt-bar")).to_have_count(2)  # one bar per asset step
    screenshot(page, "run-gantt")


def test_the_job_page_draws_its_op_graph_and_search_highlights_an_op(page):
    page.goto("/locations/browser/jobs/flaky_job/")
    expect(page.locator("figure.graph .graph-node")).to_have_count(2)
    expect(page.locator("figure.graph .graph-edge")).to_have_count(1)
    page.locator(".graph-search").fill("flak")
    expect(page.locator(".graph-node.match")).to_have_count(1)
    expect(page.locator(".graph-node.match")).to_contain_text("flaky")


def test_slash_opens_search_and_a_result_leads_to_the_asset(page):
    page.goto("/runs/")
    page.keyboard.press("/")
    expect(page.locator("#global-search")).to_be_focused()
    page.keyboard.type("doubled")
    result = page.locator("#search-results a", has_text="doubled_numbers")
    expect(result).to_be_visible()
    result.click()
    expect(page).to_have_url(re.compile(r".*/assets/doubled_numbers/$"))
    expect(page.locator("h1")).to_have_text("doubled_numbers")


def test_the_launchpad_checks_config_as_you_type_through_graphql(page):
    asked = []
    page.on("request", lambda request: asked.append((request.method, request.url, request.post_data or "")))
    page.goto("/locations/browser/jobs/greet_job/")
    editor = page.locator("#run_config")
    editor.fill("ops:\n  greet:\n    config:\n      name: 5\n      times: many\n")
    expect(page.locator("#config-check .config-errors")).to_contain_text("ops.greet.config.times")
    # each error is at its path, and its line button selects where the path is written
    page.locator("#config-check li", has_text="ops.greet.config.times").get_by_role("button", name="line 5").click()
    selected = page.evaluate("(() => { const e = document.getElementById('run_config');"
                             " return e.value.substring(e.selectionStart, e.selectionEnd); })()")
    assert selected == "      times: many"
    editor.fill("ops:\n  greet:\n    config:\n      name: typed\n")
    expect(page.locator("#config-check")).to_contain_text("Run config is valid")
    editor.fill("ops:\n  greet: [\n")
    expect(page.locator("#config-check")).to_contain_text("not valid YAML")
    checks = [(method, url) for method, url, body in asked if "isPipelineConfigValid" in body]
    assert checks and all(method == "POST" and url.endswith("/graphql") for method, url in checks)
    # as you type means after a pause: three edits, three checks, not one per keystroke
    assert len(checks) == 3


def test_the_launchpad_scaffolds_the_default_config_and_checks_it(page):
    page.goto("/locations/browser/jobs/greet_job/")
    editor = page.locator("#run_config")
    editor.fill("")
    page.get_by_role("button", name="Scaffold default config").click()
    expect(editor).to_have_value(re.compile(r"ops:\n  greet:\n    config:\n      times: 1\n"))
    # the defaults leave out the required name: the check says so at its path
    expect(page.locator("#config-check .config-errors")).to_contain_text("ops.greet.config")
    expect(page.locator("#config-check .config-errors")).to_contain_text("name")


def test_the_event_log_filters_by_level_and_text_and_jumps_to_the_first_error(page):
    page.goto("/locations/browser/jobs/flaky_job/")
    page.get_by_role("button", name="Launch run").click()
    expect(page).to_have_url(RUN_URL)
    status = page.locator("#run-status")
    expect(status).to_have_text(re.compile("SUCCESS|FAILURE"), timeout=FINISH_TIMEOUT)
    page.get_by_role("button", name="Jump to first error").click()
    if status.inner_text().strip() == "FAILURE":
        expect(page.locator(".event.flash.lvl-error")).to_have_count(1)
    else:
        expect(page.locator("#event-count")).to_have_text("No error in the events loaded so far.")
    total = page.locator("#event-rows .event").count()
    filters = page.locator("#event-filters")
    filters.locator("input[name=ev_type]").fill("RUN_START")
    expect(page.locator("#event-rows .event:visible")).to_have_count(1)
    assert "ev_type=RUN_START" in page.url  # deep-linkable: a reload keeps the filter
    page.reload()
    expect(page.locator("#event-rows .event:visible")).to_have_count(1)
    filters.locator("input[name=ev_type]").fill("")
    filters.locator("input[name=ev_q]").fill("Started process for run")
    expect(page.locator("#event-rows .event:visible")).to_have_count(1)
    filters.locator("input[name=ev_q]").fill("")
    filters.locator("select[name=ev_level]").select_option("ERROR")
    errors = page.locator("#event-rows .event.lvl-error, #event-rows .event.lvl-critical").count()
    expect(page.locator("#event-rows .event:visible")).to_have_count(errors)
    filters.locator("select[name=ev_level]").select_option("")
    expect(page.locator("#event-rows .event:visible")).to_have_count(total)


def test_the_overview_shows_the_timeline_of_runs(page, screenshot):
    page.goto("/")
    expect(page).to_have_url(re.compile(r".*/overview/$"))
    expect(page.locator(".timeline .tl-row").first).to_be_visible()
    page.get_by_role("link", name="1h").click()
    expect(page).to_have_url(re.compile(r"window=1h"))
    screenshot(page, "overview")


def test_times_show_in_the_viewer_s_time_zone_with_utc_on_hover(browser, server):
    context = browser.new_context(base_url=server.url, timezone_id="Asia/Kolkata")  # UTC+05:30, no DST
    try:
        page = context.new_page()
        page.goto("/deployment/")  # each code location's last update
        stamp = page.locator("td time[datetime]").first
        expect(stamp).to_have_attribute("data-local", "1")
        iso = stamp.get_attribute("datetime")
        shown = stamp.inner_text()
        assert "UTC" not in shown and shown != iso
        utc_minutes = int(iso[11:13]) * 60 + int(iso[14:16])
        local_minutes = int(shown[11:13]) * 60 + int(shown[14:16])
        assert (local_minutes - utc_minutes) % (24 * 60) == 330  # +05:30
        assert stamp.get_attribute("title").endswith(" UTC") and "ago" in stamp.get_attribute("title")
    finally:
        context.close()
