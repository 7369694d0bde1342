"""The run page's remaining actions in Chromium against a real `orchestra dev` (see conftest.py): re-execute the
steps picked on the Gantt chart, open a run in the launchpad, launch a subset of an asset job's assets, download a
step's whole stdout, and a run of 1,000 steps and 50,000 events that opens on its newest events and pages back."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.browser.test_ui import (
    FINISH_TIMEOUT,
    RUN_URL,
    assert_not_reloaded,
    launch,
    mark_live,
    record_requests,
    wait_for_status,
)
from tests.conftest import REPO

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails, when required) without Playwright
    expect = None

pytestmark = pytest.mark.browser


def test_steps_picked_on_the_gantt_chart_are_re_executed(page, server):
    flag = server.project / "fixed.flag"
    flag.unlink(missing_ok=True)
    parent = launch(page, "flaky_job")
    wait_for_status(page, "FAILURE")
    button = page.get_by_role("button", name=re.compile("^Re-execute selected"))
    expect(button).to_be_disabled()  # nothing picked yet
    page.locator('.gantt-row[data-step="flaky"] .gantt-step').click()  # the chart's row picks the step
    expect(page.get_by_label("pick flaky")).to_be_checked()
    expect(page.locator('#run-steps tr[data-step="flaky"]')).to_have_class(re.compile("picked"))
    expect(button).to_have_text("Re-execute selected (1)")
    flag.write_text("fixed")
    try:
        button.click()
        expect(page).not_to_have_url(re.compile(parent))
        wait_for_status(page, "SUCCESS")
        expect(page.locator(".run-header")).to_contain_text("dagster/step_selection=flaky")
        steps = page.locator("#run-steps tbody tr")
        expect(steps.filter(has_text="flaky")).to_contain_text("SUCCESS")
        expect(steps.filter(has_text="prepare")).to_have_count(
            0
        )  # not picked: its output came from the parent
    finally:
        flag.unlink(missing_ok=True)


def test_a_run_opens_in_the_launchpad_with_its_config_and_tags_and_launches_again(page):
    launch(page, "greet_job", "ops:\n  greet:\n    config:\n      name: again\n", "team=browser")
    wait_for_status(page, "SUCCESS")
    page.get_by_role("link", name="Open in launchpad").click()
    expect(page).to_have_url(re.compile(r"/locations/browser/jobs/greet_job/\?from_run=.*#launchpad$"))
    expect(page.locator("#run_config")).to_have_value(re.compile(r"name: again"))
    expect(page.locator("#tags")).to_have_value("team=browser")
    page.get_by_role("button", name="Launch run").click()
    expect(page).to_have_url(RUN_URL)
    wait_for_status(page, "SUCCESS")
    expect(page.locator("#event-rows .msg", has_text="hello again")).to_have_count(1)


def test_the_launchpad_materializes_the_assets_picked_from_an_asset_job(page):
    page.goto("/locations/browser/jobs/__ASSET_JOB/")
    page.get_by_label("raw_numbers", exact=True).check()
    expect(page.locator("#config-check")).to_contain_text(
        "valid for assets raw_numbers"
    )  # checked as you pick
    page.get_by_role("button", name="Launch run").click()
    expect(page).to_have_url(RUN_URL)
    wait_for_status(page, "SUCCESS")
    steps = page.locator("#run-steps tbody tr")
    expect(steps).to_have_count(1)
    expect(steps).to_contain_text("raw_numbers")
    expect(page.locator("#event-rows")).to_contain_text("ASSET_MATERIALIZATION")


def test_a_step_s_whole_stdout_downloads_as_a_file(page):
    launch(page, "chatty_job")
    wait_for_status(page, "SUCCESS")
    with page.expect_download() as info:
        page.get_by_role("link", name="download stdout of chatty").click()
    download = info.value
    assert download.suggested_filename.endswith(".out")
    text = open(download.path(), encoding="utf-8").read()
    assert [line for line in text.splitlines() if line.startswith("stdout line")] == [
        f"stdout line {n}" for n in range(1, 31)
    ]
    assert "stdout done" in text and "a line on stderr" not in text


def _in_server(server, code: str) -> str:
    """Run `code` (Python, after django.setup()) against the server's storage in a child process (this thread runs
    Playwright's event loop, where Django refuses database calls); answer the last line it printed."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(ORCHESTRA_HOME=str(server.home), PYTHONPATH=str(REPO))
    script = "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'orchestra_site.settings'); " \
             "django.setup(); " + code
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=REPO, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    return (done.stdout.strip().splitlines() or [""])[-1]


def _big_run(server) -> str:
    """A finished run of 1,000 steps and 50,000 events, written into the server's storage."""
    return _in_server(server, "from tests.ui.big_run import big_run_create; "
                              "print(big_run_create(job_name='chatty_job', location_name='browser'))")


def test_a_run_of_50000_events_opens_on_its_newest_events_and_pages_back(page, server):
    run_id = _big_run(server)
    page.goto(f"/runs/{run_id}/")
    rows = page.locator("#event-rows .event")
    expect(rows).to_have_count(500)
    expect(rows.last).to_contain_text("RUN_SUCCESS")
    # Every step, and chatty_job's own step, which this made-up run planned but never started (pickable).
    expect(page.locator("#run-steps tbody tr")).to_have_count(1001)
    expect(page.locator(".gantt-row")).to_have_count(1000)
    mark_live(page)
    first = rows.first.get_attribute("id")
    page.get_by_role("link", name="Load earlier events").click()
    expect(rows).to_have_count(1000)
    expect(page.locator(f"#{first}")).to_be_visible()
    assert rows.nth(500).get_attribute("id") == first  # the earlier page went above the rows shown
    expect(page.get_by_role("link", name="Load earlier events")).to_be_visible()
    assert_not_reloaded(page)
    page.locator('input[name="ev_q"]').fill("step_0999 line 46")
    expect(page.locator("#event-count")).to_have_text("1 of 1000 events", timeout=FINISH_TIMEOUT)


def test_the_event_filter_searches_a_big_run_s_earlier_events_on_the_server(page, server):
    run_id = _big_run(server)
    sent = record_requests(page)
    page.goto(f"/runs/{run_id}/?ev_type=STEP_START&ev_step=step_0001")  # a filter deep-linked
    matches = page.locator("#event-matches .event")
    expect(matches).to_have_count(1)  # step_0001 started long before the newest 500 events
    expect(matches.first).to_contain_text("STEP_START")
    expect(page.locator("#event-matches .matches-head")).to_have_text(
        "1 matching event before those below (searched on the server):")
    expect(page.locator("#event-rows .event:visible")).to_have_count(0)
    assert any(path == "/graphql" and "RunEventSearch" in body for _, path, body in sent)

    page.locator('input[name="ev_type"]').fill("")
    page.locator('input[name="ev_step"]').fill("")
    page.locator('input[name="ev_q"]').fill("line 46")  # each step's last log line: about 990 are earlier
    expect(matches).to_have_count(200)
    expect(page.locator("#event-matches .matches-head")).to_contain_text("200+ matching events")
    page.get_by_role("button", name="More matches").click()
    expect(matches).to_have_count(400)
    assert all("line 46" in text for text in matches.all_inner_texts())
    page.locator('input[name="ev_q"]').fill("")
    expect(page.locator("#event-matches")).to_be_hidden()


def test_a_live_run_keeps_at_most_2000_rows_and_pages_back_from_the_oldest_it_kept(page, server):
    run_id = _in_server(server, "from tests.ui.big_run import big_run_create; print(big_run_create("
                                "job_name='chatty_job', location_name='browser', steps=10, events=600, finished=False))")
    page.goto(f"/runs/{run_id}/")
    rows = page.locator("#event-rows .event")
    expect(rows).to_have_count(500)
    mark_live(page)
    _in_server(server, "from runs import services; from runs.services import EventInput; "
                       f"services.event_store(run_id={run_id!r}, events=[EventInput(message=f'live {{n}}') "
                       "for n in range(2100)])")
    messages = page.locator("#event-rows .event .msg")
    expect(messages.last).to_have_text("live 2099")
    # Read in pages of 500: the oldest rows left the page whole pages at a time, down to the first row whose
    # storage id bounds "Load earlier events" exactly.
    kept = rows.count()
    assert 1500 <= kept <= 2000
    first = int(messages.first.inner_text().removeprefix("live "))
    page.get_by_role("link", name="Load earlier events").click()
    expect(rows).to_have_count(kept + 500)
    assert messages.nth(499).inner_text() == f"live {first - 1}"  # no gap, no overlap
    assert messages.nth(500).inner_text() == f"live {first}"
    assert_not_reloaded(page)
    _in_server(server, "from runs import services; from runs.services import EventInput; "
                       f"services.event_store(run_id={run_id!r}, events=[EventInput(event_type='RUN_SUCCESS')])")
    wait_for_status(page, "SUCCESS")
