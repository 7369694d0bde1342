"""The UI in Chromium against a real `orchestra dev` (see conftest.py): every test acts as a user does
— through forms, buttons and links — and waits on what the page shows, never on a fixed delay.

Live parts are checked live: a marker set on `window` after the page loaded must survive until the
awaited state shows, so it came from the page's polls of /graphql (static/ui/run_live.js), not from a reload.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import quote, urlparse

import pytest

from tests.browser.project import HOSTILE, LINKABLE_HOSTILE

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails, when required) without Playwright
    expect = None

pytestmark = pytest.mark.browser

RUN_URL = re.compile(r".*/runs/([0-9a-f-]{36})/$")
FINISH_TIMEOUT = 90_000  # a run goes through the worker and a step subprocess on 2 shared cores


def launch(page, job: str, config: str = "", tags: str = "") -> str:
    """Launch `job` from its launchpad; answer the new run's id (the page is then on the run's page)."""
    page.goto(f"/locations/browser/jobs/{job}/")
    page.locator("#run_config").fill(config)
    page.locator("#tags").fill(tags)
    page.get_by_role("button", name="Launch run").click()
    expect(page).to_have_url(RUN_URL)
    return RUN_URL.match(page.url).group(1)


def mark_live(page) -> None:
    page.evaluate("window.__notReloaded = true")


def assert_not_reloaded(page) -> None:
    assert page.evaluate("window.__notReloaded") is True, "the page was reloaded: the update was not live"


def wait_for_status(page, status: str) -> None:
    expect(page.locator("#run-status")).to_have_text(status, timeout=FINISH_TIMEOUT)


def record_requests(page) -> list[tuple[str, str, str]]:
    """(method, path, body) of every request the page sends from now on."""
    sent: list[tuple[str, str, str]] = []
    page.on("request", lambda request: sent.append(
        (request.method, urlparse(request.url).path, request.post_data or "")))
    return sent


# What the run page shows, as data: the live page (static/ui/run_live.js) must draw what the server renders.
SHOWN = """() => {
  const text = (node) => node ? node.textContent.replace(/\\s+/g, " ").trim() : null;
  const bar = (row) => row.querySelector(".gantt-bar");
  return {
    status: document.querySelector("#run-status").innerHTML.trim(),
    started: Date.parse(document.querySelector("#run-started time")?.getAttribute("datetime")),
    ended: Date.parse(document.querySelector("#run-ended time")?.getAttribute("datetime")),
    steps: [...document.querySelectorAll("#run-steps tr")].map((tr) => [...tr.children].map((cell) =>
      [cell.tagName, text(cell), cell.querySelector("input")?.outerHTML ?? null])),
    gantt: [...document.querySelectorAll("#run-gantt .gantt-row")].map((row) => [row.dataset.step,
      row.querySelector(".gantt-step").tagName, row.querySelector(".gantt-step").getAttribute("for"),
      bar(row)?.className, bar(row) ? [parseFloat(bar(row).style.left), parseFloat(bar(row).style.width)] : null,
      bar(row)?.title]),
    events: [...document.querySelectorAll("#event-rows .event")].map((row) => [row.className, row.dataset.type,
      row.dataset.step, row.dataset.level, text(row), row.querySelectorAll("details, pre, dl").length]),
    captures: text(document.querySelector("#run-captures")),
    actions: [...document.querySelectorAll("#run-actions form, #run-actions a")].filter((e) => !e.hidden)
      .map((e) => text(e)),
  };
}"""


def assert_live_page_matches_a_reload(page, parts: tuple[str, ...] | None = None) -> None:
    """Once the live page has everything (run_live.js stopped), a reload renders the same status, steps, chart,
    events, captures and actions (or only `parts` of them)."""
    expect(page.locator("#run-live[data-state=stopped]")).to_have_count(1, timeout=FINISH_TIMEOUT)
    live = page.evaluate(SHOWN)
    page.reload()
    reloaded = page.evaluate(SHOWN)
    # Bars are placed from float seconds in the browser and from datetimes on the server: the third decimal of a
    # percentage may round either way.
    live["gantt"] = [row[:4] + [pytest.approx(row[4], abs=0.002) if row[4] else None] + row[5:] for row in live["gantt"]]
    differ = [(key, live[key], reloaded[key]) for key in parts or live if live[key] != reloaded[key]]
    assert not differ, "\n".join(f"{key}:\n  live   {a}\n  reload {b}" for key, a, b in differ)


def test_a_run_launched_from_the_launchpad_with_config_succeeds_live_on_its_page(page, screenshot):
    page.goto("/locations/browser/jobs/greet_job/")
    # The launchpad scaffolds the config the job needs: `name` is required, `times` has a default.
    expect(page.locator("#run_config")).to_have_value(re.compile(r"ops:\s+greet:\s+config:\s+name: ''"))
    screenshot(page, "launchpad")
    sent = record_requests(page)
    run_id = launch(page, "greet_job", "ops:\n  greet:\n    config:\n      name: browser\n      times: 2\n",
                    "team=browser")
    mark_live(page)
    wait_for_status(page, "SUCCESS")
    # The live page read the run through the same /graphql schema API clients use, and nothing else.
    after_load = sent[next(i for i, (_, path, _) in enumerate(sent) if path == f"/runs/{run_id}/") + 1:]
    polls = [body for method, path, body in after_load if method == "POST" and path == "/graphql"]
    assert polls and all('"operationName": "RunLive"' in body or '"operationName":"RunLive"' in body for body in polls)
    assert not [path for _, path, _ in after_load if path.startswith(f"/runs/{run_id}/") and path != f"/runs/{run_id}/"]
    expect(page.locator("#event-rows")).to_contain_text("RUN_SUCCESS")
    expect(page.locator("#event-rows .msg", has_text="hello browser")).to_have_count(2)
    expect(page.locator("#run-steps")).to_contain_text("greet")
    expect(page.locator(".run-header")).to_contain_text("team=browser")
    expect(page.locator("#run-started")).not_to_have_text("—")
    expect(page.locator("#run-ended")).not_to_have_text("—")
    expect(page.get_by_role("button", name="Re-execute all steps")).to_be_visible()
    expect(page.get_by_role("button", name="Re-execute from failure")).to_have_count(0)  # nothing failed
    assert_not_reloaded(page)
    screenshot(page, "run-detail")
    assert_live_page_matches_a_reload(page)

    page.goto("/runs/")
    expect(page.locator(f'a[href="/runs/{run_id}/"]')).to_be_visible()


def test_every_metadata_kind_and_the_never_started_steps_show_live_as_after_a_reload(page):
    launch(page, "metadata_job")
    mark_live(page)
    wait_for_status(page, "FAILURE")
    output = page.locator("#event-rows .event", has_text="STEP_OUTPUT")
    expect(output.locator("dd").first).to_have_text("plain text")
    shown = dict(zip(output.locator("dt").all_inner_texts(), output.locator("dd").all_inner_texts(), strict=True))
    assert shown["bool"] == "true" and shown["int"] == "42" and shown["nan"] == "nan" and shown["null"] == "null"
    assert shown["timestamp"] == "2024-05-01T12:00:00.123Z" and shown["asset"] == "some/asset"
    assert shown["job"] == "greet_job" and shown["json"] == '{"a": [1, 2.5, null, true], "b": "x"}'
    # The step the run planned and never started is listed live, as the server lists it.
    expect(page.locator('#run-steps tr[data-step="never_started"]')).to_contain_text("NOT_STARTED")
    assert_not_reloaded(page)
    assert_live_page_matches_a_reload(page)


def test_an_invalid_config_shows_each_error_at_its_path_and_keeps_the_text(page):
    page.goto("/locations/browser/jobs/greet_job/")
    config = "ops:\n  greet:\n    config:\n      times: many\n"
    page.locator("#run_config").fill(config)
    page.get_by_role("button", name="Launch run").click()
    errors = page.locator(".config-errors li")
    expect(errors).to_have_count(2)
    expect(errors.nth(0).locator("code")).to_have_text("ops.greet.config")
    expect(errors.nth(0)).to_contain_text('Missing required config entry "name"')
    expect(errors.nth(1).locator("code")).to_have_text("ops.greet.config.times")
    expect(errors.nth(1)).to_contain_text('Value "many"')
    expect(page.locator("#run_config")).to_have_value(config)
    expect(page).to_have_url(re.compile(r"/locations/browser/jobs/greet_job/$"))


def test_a_long_run_is_terminated_from_its_page(page):
    launch(page, "slow_job")
    mark_live(page)
    expect(page.locator("#event-rows")).to_contain_text("waiting for up to 10 minutes", timeout=FINISH_TIMEOUT)
    page.get_by_role("button", name="Terminate").click()
    wait_for_status(page, "CANCELED")
    expect(page.locator("#event-rows")).to_contain_text("RUN_CANCELED")
    expect(page.get_by_role("button", name="Terminate")).to_have_count(0)


def test_a_failed_run_is_re_executed_from_failure(page, server):
    flag = server.project / "fixed.flag"
    flag.unlink(missing_ok=True)
    parent = launch(page, "flaky_job")
    wait_for_status(page, "FAILURE")
    assert_live_page_matches_a_reload(page)  # the error chain of a live row too
    failure = page.locator("#event-rows .event", has_text="STEP_FAILURE")
    expect(failure.locator("summary")).to_contain_text("broken on purpose")
    failure.locator("summary").click()
    expect(failure.locator("details")).to_contain_text('raise RuntimeError("the flag file is missing')
    flag.write_text("fixed")
    try:
        page.get_by_role("button", name="Re-execute from failure").click()
        expect(page).not_to_have_url(re.compile(parent))
        child = RUN_URL.match(page.url).group(1)
        wait_for_status(page, "SUCCESS")
        expect(page.locator(".run-header")).to_contain_text(parent)
        steps = page.locator("#run-steps tbody tr")
        expect(steps.filter(has_text="flaky")).to_contain_text("SUCCESS")
        expect(steps.filter(has_text="prepare")).to_have_count(0)  # it succeeded in the parent: not run again
    finally:
        flag.unlink(missing_ok=True)
    page.goto(f"/runs/?tag=dagster/parent_run_id%3D{parent}")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator(f'a[href="/runs/{child}/"]')).to_be_visible()


def test_a_steps_stdout_is_followed_live(page):
    launch(page, "chatty_job")
    mark_live(page)
    page.get_by_role("link", name="stdout", exact=True).click()
    expect(page).to_have_url(re.compile(r"\?logs=.*io=stdout"))
    mark_live(page)
    expect(page.locator("#log-text")).to_contain_text("stdout done", timeout=FINISH_TIMEOUT)
    text = page.locator("#log-text").inner_text()
    assert [line for line in text.splitlines() if line.startswith("stdout line")] == [
        f"stdout line {n}" for n in range(1, 31)]
    assert "a line on stderr" not in text
    assert_not_reloaded(page)
    page.get_by_role("link", name="stderr", exact=True).click()
    expect(page.locator("#log-text")).to_contain_text("a line on stderr", timeout=FINISH_TIMEOUT)


def _row(page, name: str):
    return page.locator("tbody tr", has=page.locator("td", has_text=re.compile(f"^{name}$")))


def test_a_schedule_is_started_and_stopped(page, screenshot):
    page.goto("/automation/")
    row = _row(page, "nightly_greeting")
    expect(row).to_contain_text("STOPPED")
    row.get_by_role("button", name="Start").click()
    expect(page.locator(".messages")).to_contain_text("nightly_greeting started")
    expect(row).to_contain_text("RUNNING")
    expect(row.locator("td").nth(4)).to_contain_text(re.compile(r"\d{4}-\d\d-\d\d 03:00:00|\d{4}-\d\d-\d\d \d\d:00:00"))
    screenshot(page, "automation")
    row.get_by_role("button", name="Stop").click()
    expect(row).to_contain_text("STOPPED")


def test_a_sensor_cursor_is_set_and_cleared(page):
    page.goto("/automation/")
    row = _row(page, "greeting_sensor")
    cursor = row.get_by_label("cursor of greeting_sensor")
    expect(cursor).to_have_value("")
    cursor.fill("42")
    row.get_by_role("button", name="Set cursor").click()
    expect(page.locator(".messages")).to_contain_text("greeting_sensor cursor set to '42'")
    expect(_row(page, "greeting_sensor").get_by_label("cursor of greeting_sensor")).to_have_value("42")
    _row(page, "greeting_sensor").get_by_label("cursor of greeting_sensor").fill("")
    _row(page, "greeting_sensor").get_by_role("button", name="Set cursor").click()
    expect(page.locator(".messages")).to_contain_text("greeting_sensor cursor cleared")
    expect(_row(page, "greeting_sensor").get_by_label("cursor of greeting_sensor")).to_have_value("")


def test_reloading_a_broken_location_shows_its_error_and_fixing_it_loads_again(page, server, screenshot):
    source = server.project / "reloadable.py"
    good = source.read_text()
    source.write_text(good + '\nraise RuntimeError("reloadable is broken on purpose")\n')
    try:
        page.goto("/deployment/")
        row = _row(page, "reloadable")
        expect(row).to_contain_text("LOADED")
        row.get_by_role("button", name="Reload").click()
        expect(page.locator(".messages")).to_contain_text("Reload of reloadable requested")
        expect(row).to_contain_text("ERROR", timeout=FINISH_TIMEOUT)
        expect(row.locator("summary")).to_contain_text("reloadable is broken on purpose")
        row.locator("summary").click()
        expect(row.locator("details")).to_contain_text('File "' + str(source))
        screenshot(page, "deployment")
    finally:
        source.write_text(good)
    page.goto("/deployment/")
    _row(page, "reloadable").get_by_role("button", name="Reload").click()
    expect(_row(page, "reloadable")).to_contain_text("LOADED", timeout=FINISH_TIMEOUT)
    expect(_row(page, "reloadable").locator("details")).to_have_count(0)


def test_an_asset_is_materialized_from_its_page(page, screenshot):
    page.goto("/assets/")
    expect(page.locator("tbody")).to_contain_text("doubled_numbers")
    screenshot(page, "assets")
    page.get_by_role("link", name="raw_numbers", exact=True).click()
    expect(page.locator("h1")).to_have_text("raw_numbers")
    page.get_by_role("button", name="Materialize").click()
    expect(page).to_have_url(RUN_URL)
    run_id = RUN_URL.match(page.url).group(1)
    wait_for_status(page, "SUCCESS")
    expect(page.locator("#event-rows")).to_contain_text("ASSET_MATERIALIZATION")
    page.goto("/assets/raw_numbers/")
    expect(page.locator(f'a[href="/runs/{run_id}/"]')).to_be_visible()
    screenshot(page, "asset-detail")


def _launch_and_finish(page, job: str, config: str, tags: str, status: str) -> str:
    run_id = launch(page, job, config, tags)
    wait_for_status(page, status)
    return run_id


def test_runs_are_filtered_by_tag_and_status_in_the_query_string(page, screenshot):
    batch = uuid.uuid4().hex[:8]
    good = _launch_and_finish(page, "greet_job", "ops: {greet: {config: {name: a}}}", f"batch={batch}", "SUCCESS")
    bad = _launch_and_finish(page, "flaky_job", "", f"batch={batch}", "FAILURE")
    other = _launch_and_finish(page, "greet_job", "ops: {greet: {config: {name: b}}}", "batch=other", "SUCCESS")

    page.goto("/runs/")
    page.locator('input[name="tag"]').last.fill(f"batch={batch}")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(f"tag=batch%3D{batch}"))
    ids = page.locator("tbody tr")
    expect(ids).to_have_count(2)
    for run_id in (good, bad):
        expect(page.locator(f'a[href="/runs/{run_id}/"]')).to_be_visible()
    expect(page.locator(f'a[href="/runs/{other}/"]')).to_have_count(0)

    page.get_by_label("FAILURE").check()
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile("status=FAILURE"))
    expect(ids).to_have_count(1)
    expect(page.locator(f'a[href="/runs/{bad}/"]')).to_be_visible()
    expect(page.get_by_label("FAILURE")).to_be_checked()
    expect(page.locator('input[name="tag"]').first).to_have_value(f"batch={batch}")

    # The same filter, deep-linked.
    page.goto(f"/runs/?status=SUCCESS&tag=batch%3D{batch}")
    expect(ids).to_have_count(1)
    expect(page.locator(f'a[href="/runs/{good}/"]')).to_be_visible()
    page.goto("/runs/")
    screenshot(page, "runs-list")


# ------------------------------------------------------------------------------------------------ XSS


def assert_shown_escaped(page, locator) -> None:
    """`locator` shows the hostile string as text, and nothing in it ran (no script, no onerror)."""
    expect(locator.first).to_contain_text("<script>window.__xss=1</script>")
    expect(locator.first).to_contain_text('"><img src=x onerror="window.__xss=1">')
    page.wait_for_load_state("load")
    assert page.evaluate("window.__xss") is None, f"injected code ran on {page.url}"
    assert locator.locator("script, img").count() == 0  # shown as text, not parsed into elements


def assert_markdown_shown(page, locator) -> None:
    """Markdown metadata `**bold** md <HOSTILE>` shows its bold as <strong>, and the hostile part as text."""
    expect(locator.first.locator("strong")).to_have_text("bold")
    assert_shown_escaped(page, locator)


def test_hostile_strings_from_tags_config_logs_metadata_and_descriptions_are_shown_escaped(page):
    hostile_yaml = HOSTILE.replace("'", "''")
    # Run config and a run tag from the launchpad; the config's name lands in a log message.
    run_id = launch(page, "greet_job", f"ops:\n  greet:\n    config:\n      name: '{hostile_yaml}'\n",
                    f"xss={HOSTILE}")
    assert_shown_escaped(page, page.locator(".run-header .tag", has_text="xss="))
    wait_for_status(page, "SUCCESS")
    assert_shown_escaped(page, page.locator("#event-rows .msg", has_text="hello"))  # arrived live
    page.reload()
    assert_shown_escaped(page, page.locator("#event-rows .msg", has_text="hello"))
    page.get_by_text("Run config", exact=True).click()
    assert_shown_escaped(page, page.locator("#run-config"))
    page.goto("/runs/")
    assert_shown_escaped(page, page.locator(f'tr:has(a[href="/runs/{run_id}/"]) .tag', has_text="xss="))

    # An invalid config is shown back, with errors that quote the value.
    page.goto("/locations/browser/jobs/greet_job/")
    page.locator("#run_config").fill(f"ops:\n  greet:\n    config:\n      name: 1\n      '{hostile_yaml}': 1\n")
    page.get_by_role("button", name="Launch run").click()
    assert_shown_escaped(page, page.locator(".config-errors"))
    expect(page.locator("#run_config")).to_have_value(re.compile(re.escape(HOSTILE)))

    # A log message, a step's stdout and a metadata value written by user code.
    launch(page, "hostile_job")
    wait_for_status(page, "SUCCESS")
    assert_shown_escaped(page, page.locator("#event-rows .msg", has_text="log says"))  # arrived live
    page.reload()
    assert_shown_escaped(page, page.locator("#event-rows .msg", has_text="log says"))
    page.get_by_role("link", name="stdout", exact=True).click()
    assert_shown_escaped(page, page.locator("#log-text"))

    page.goto("/assets/hostile_asset/")
    page.get_by_role("button", name="Materialize").click()
    expect(page).to_have_url(RUN_URL)
    mark_live(page)
    wait_for_status(page, "SUCCESS")
    # Text metadata and Markdown metadata (rendered, then sanitized on the server): the hostile parts show as text.
    materialized = page.locator("#event-rows .event", has_text="ASSET_MATERIALIZATION")
    assert_shown_escaped(page, materialized)  # live
    assert_markdown_shown(page, materialized.locator(".markdown"))
    assert_not_reloaded(page)
    # The Markdown row too, and the steps of the assets it selected (Run.executionPlan, as the server plans them).
    assert_live_page_matches_a_reload(page)
    assert_shown_escaped(page, materialized)
    assert_markdown_shown(page, materialized.locator(".markdown"))

    # An asset description, and the metadata of its latest materialization.
    page.goto("/assets/hostile_asset/")
    assert_shown_escaped(page, page.locator("dd", has_text="Hostile."))
    assert_shown_escaped(page, page.locator(".metadata", has_text="meta"))
    assert_markdown_shown(page, page.locator(".metadata .markdown"))


def assert_metadata_links_and_tables(page, metadata) -> None:
    """The STEP_OUTPUT row of hostile_metadata_job: web URLs, the run, asset and job as links, the table's first
    100 rows and the schema as tables; every hostile string shown as text."""
    links = metadata.locator("a").evaluate_all(
        "links => links.map((a) => [a.textContent, a.getAttribute('href'), a.getAttribute('rel')])")
    quoted = quote(LINKABLE_HOSTILE, safe="")
    web = f"https://example.com/?q={HOSTILE}"
    assert links == [[web, web, "noopener noreferrer nofollow"], [LINKABLE_HOSTILE, f"/runs/{quoted}/", None],
                     [f"hostile/{LINKABLE_HOSTILE}", f"/assets/hostile/{quoted}/", None],
                     ["greet_job", "/locations/browser/jobs/greet_job/", None]]
    shown = dict(zip(metadata.locator("dt").all_text_contents(), metadata.locator("dd").all_text_contents(),
                     strict=True))
    assert shown["script url"] == "javascript:window.__xss=1"  # text, not a link
    cells = """table => [...table.querySelectorAll("tr")].map((tr) => [...tr.children].map((c) => c.textContent))"""
    data, schema = metadata.locator(".metadata-table table").all()
    rows = data.evaluate(cells)
    assert rows[0] == ["n", HOSTILE, "ratio", "ok"] and len(rows) == 101  # the header and the first 100 records
    assert rows[1:5] == [["0", "null", "0", "false"], ["1", HOSTILE, "0.5", "false"], ["2", "null", "1", "false"],
                         ["3", HOSTILE, "1.5", "true"]]
    expect(metadata.locator(".metadata-more")).to_have_text("… 20 more rows")
    assert schema.evaluate(cells) == [["Column", "Type", "Description"], [HOSTILE, "string", HOSTILE], ["n", "int", ""]]
    assert metadata.locator("script, img").count() == 0
    assert page.evaluate("window.__xss") is None, f"injected code ran on {page.url}"


def test_metadata_links_and_tables_show_live_as_after_a_reload_and_nothing_runs(page):
    launch(page, "hostile_metadata_job")
    metadata = page.locator("#event-rows .event[data-type=STEP_OUTPUT] dl.metadata")
    assert metadata.count() == 0  # the op waits: its row arrives live, built by run_live.js
    mark_live(page)
    wait_for_status(page, "SUCCESS")
    expect(page.locator("#run-live[data-state=stopped]")).to_have_count(1, timeout=FINISH_TIMEOUT)
    assert_metadata_links_and_tables(page, metadata)
    live = metadata.evaluate("dl => dl.outerHTML")
    assert_not_reloaded(page)
    assert_live_page_matches_a_reload(page)  # reloads: the server renders the row
    assert metadata.evaluate("dl => dl.outerHTML") == live  # the same elements, attributes and text
    assert_metadata_links_and_tables(page, metadata)
    metadata.get_by_role("link", name="greet_job", exact=True).click()
    expect(page).to_have_url(re.compile(r".*/locations/browser/jobs/greet_job/$"))
