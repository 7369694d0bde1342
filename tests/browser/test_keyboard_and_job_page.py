"""The job page (sub-graphs, config schema, a 200-op graph that opens readable), keyboard navigation
(every action by keyboard with a visible focus ring, j/k lists, g-shortcuts, the ? overlay; no key taken
while typing), statuses readable without colour, and each page's weight and requests."""

from __future__ import annotations

import gzip
import re
import urllib.request

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

JS_BUDGET = 300 * 1024  # the issue: at most 300 KB of JavaScript, compressed, on a page's first load


def test_a_graph_node_opens_its_sub_graph_and_the_trail_leads_back(page):
    page.goto("/locations/browser/jobs/nested_job/")
    node = page.locator("figure.graph .graph-node.kind-graph", has_text="cleaning")
    expect(node).to_contain_text("2 nodes")
    node.click()
    expect(page).to_have_url(re.compile(r".*/locations/browser/jobs/nested_job/cleaning/$"))
    expect(page.locator("h1")).to_contain_text("cleaning")
    expect(page.locator("figure.graph .graph-node.kind-op")).to_have_count(2)
    expect(page.locator("figure.graph .graph-node.kind-graph-input")).to_contain_text("value")
    expect(page.locator("figure.graph .graph-node.kind-graph-output")).to_contain_text("result")
    expect(page.locator("figure.graph .graph-edge")).to_have_count(3)
    page.locator("nav.trail a", has_text="nested_job").click()
    expect(page).to_have_url(re.compile(r".*/locations/browser/jobs/nested_job/$"))
    # Dagster's explorer path may end with an op: the graph around it opens with the op picked out
    page.goto("/locations/browser/jobs/nested_job/cleaning/add_one_2/")
    expect(page.locator(".graph-node.match")).to_have_count(1)
    expect(page.locator(".graph-node.match .graph-label")).to_have_text("add_one_2")


def _field(page, parent: str, name: str):
    """The config schema's leaf field `name` below the field `parent`."""
    return page.locator(
        f"xpath=//div[@class='config-schema']//details[summary/code[@class='cfg-name' and text()='{parent}']]"
        f"//li[not(details)][code[@class='cfg-name' and text()='{name}']]"
    )


def test_the_config_schema_shows_required_fields_and_defaults_and_collapses(page):
    page.goto("/locations/browser/jobs/greet_job/")
    name = _field(page, "greet", "name")
    expect(name).to_be_visible()  # the path to a required field starts open
    expect(name).to_contain_text("String")
    expect(name).to_contain_text("required")
    expect(_field(page, "greet", "times")).to_contain_text("default 1")
    ops = page.locator("xpath=//div[@class='config-schema']/ul/li/details/summary[code[text()='ops']]")
    ops.focus()
    page.keyboard.press("Enter")  # a summary toggles by keyboard
    expect(name).to_be_hidden()
    page.keyboard.press("Enter")
    expect(name).to_be_visible()
    execution = page.locator(
        "xpath=//div[@class='config-schema']/ul/li/details/summary[code[text()='execution']]"
    )
    expect(execution).to_be_visible()


def _label(page, text: str):
    return page.locator("figure.graph .graph-label", has_text=re.compile(f"^{text}$"))


def _label_height(page, text: str) -> float:
    box = _label(page, text).bounding_box()
    return box["height"] if box else 0.0


def _inside_canvas(page, text: str) -> bool:
    canvas = page.locator(".graph-canvas").bounding_box()
    box = _label(page, text).bounding_box()
    return (
        bool(box)
        and canvas["x"] <= box["x"]
        and box["x"] + box["width"] <= canvas["x"] + canvas["width"]
        and canvas["y"] <= box["y"]
        and box["y"] + box["height"] <= canvas["y"] + canvas["height"]
    )


def test_a_200_op_graph_opens_readable_and_fit_still_shows_it_all(page, screenshot):
    page.goto("/locations/browser/jobs/two_hundred_ops/")
    expect(page.locator("figure.graph[data-ready=true]")).to_be_attached()
    expect(page.locator("figure.graph .graph-node")).to_have_count(201)
    hint = page.locator(".graph-hint")
    expect(hint).to_be_visible()
    expect(hint).to_contain_text("201 nodes")
    # opens on the first op at a readable size (13 px labels at 0.75: about 10 px on screen)
    assert _inside_canvas(page, "prepare")
    assert _label_height(page, "prepare") >= 9
    screenshot(page, "job-graph-200-ops")
    page.get_by_role("button", name="Fit").click()
    assert _label_height(page, "prepare") < 5  # fitted whole, as Dagster opens it: unreadable
    page.locator(".graph-search").fill("step_199")
    expect(page.locator(".graph-node.match")).to_have_count(1)
    assert _inside_canvas(page, "step_199") and _label_height(page, "step_199") >= 9
    # the keyboard moves the view: arrows pan, 0 fits
    page.locator(".graph-canvas").focus()
    before = page.locator(".graph-svg > g").get_attribute("transform")
    page.keyboard.press("ArrowRight")
    assert page.locator(".graph-svg > g").get_attribute("transform") != before
    page.keyboard.press("0")
    assert _label_height(page, "prepare") < 5


def test_j_and_k_move_through_a_list_and_enter_opens_the_row(page):
    page.goto("/jobs/")
    rows = page.locator("main table.grid tbody tr")
    page.keyboard.press("j")
    expect(rows.nth(0)).to_have_class(re.compile("kbd-current"))
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    expect(rows.nth(1)).to_have_class(re.compile("kbd-current"))
    expect(page.locator(".kbd-current")).to_have_count(1)
    target = rows.nth(1).locator("a").first.get_attribute("href")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(re.escape(target) + "$"))


def test_g_shortcuts_go_to_each_page_and_the_help_lists_them(page):
    page.goto("/jobs/")
    for key, path in (
        ("r", "/runs/"),
        ("a", "/assets/"),
        ("o", "/overview/"),
        ("j", "/jobs/"),
        ("u", "/automation/"),
        ("d", "/deployment/"),
        ("l", "/asset-groups/"),
    ):
        page.keyboard.press("g")
        page.keyboard.press(key)
        expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    page.keyboard.press("?")
    help_box = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_box).to_be_visible()
    expect(help_box).to_contain_text("Go to Overview, Runs, Jobs, Assets")
    expect(help_box.get_by_role("button", name="Close")).to_be_focused()
    page.keyboard.press("Escape")
    expect(help_box).to_be_hidden()
    page.get_by_role("button", name="Keyboard shortcuts (?)").click()  # and by mouse
    expect(help_box).to_be_visible()


def test_g_then_a_quote_or_backslash_is_ignored_without_a_script_error(page):
    # the `page` fixture fails the test on any uncaught script error (a selector built from the key threw)
    page.goto("/jobs/")
    for key in ('"', "\\", "]"):
        page.keyboard.press("g")
        page.keyboard.press(key)
    expect(page).to_have_url(re.compile(r"/jobs/$"))
    page.keyboard.press("g")
    page.keyboard.press("r")  # the shortcuts still work afterwards
    expect(page).to_have_url(re.compile(r"/runs/$"))


def test_keys_typed_into_a_field_or_editor_are_never_taken(page):
    page.goto("/locations/browser/jobs/greet_job/")
    editor = page.locator("#run_config")
    editor.click()
    editor.press("End")
    page.keyboard.type("gj?/k")
    expect(page).to_have_url(re.compile(r".*/locations/browser/jobs/greet_job/$"))
    expect(editor).to_have_value(re.compile(r"gj\?/k$"))
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_hidden()
    search = page.locator("#global-search")
    search.focus()
    page.keyboard.type("gr")
    expect(search).to_have_value("gr")
    expect(page).to_have_url(re.compile(r".*/greet_job/$"))


def test_every_control_is_reachable_by_tab_with_a_visible_focus_ring(page):
    page.goto("/locations/browser/jobs/greet_job/")
    seen = set()
    for _ in range(60):
        page.keyboard.press("Tab")
        focused = page.evaluate("""() => {
            const el = document.activeElement, style = getComputedStyle(el);
            const ring = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
            const rect = el.querySelector && el.querySelector('rect');
            const svgRing = rect && parseFloat(getComputedStyle(rect).strokeWidth) >= 3;
            return {tag: el.tagName, name: el.getAttribute('aria-label') || el.textContent.trim().slice(0, 30),
                    ring: ring || !!svgRing};
        }""")
        if focused["tag"].upper() == "BODY":  # past the last control
            break
        assert focused["ring"], f"no visible focus ring on {focused}"
        seen.add(focused["tag"].upper())
    assert {"A", "INPUT", "BUTTON", "SUMMARY"} <= seen, seen


def test_every_status_reads_without_colour(page):
    for path in ("/overview/", "/runs/", "/deployment/", "/automation/", "/assets/"):
        page.goto(path)
        texts = page.locator(".status").all_inner_texts()
        assert all(text.strip() for text in texts), f"{path}: a status badge without text"
        bars = page.locator(".tl-bar")
        for i in range(bars.count()):
            assert bars.nth(i).locator(".visually-hidden").inner_text().strip(), f"{path}: a bar without text"


PAGES = (
    "/overview/",
    "/runs/",
    "/runs/?status=CANCELED",
    "/jobs/",
    "/locations/browser/jobs/greet_job/",
    "/locations/browser/jobs/two_hundred_ops/",
    "/assets/",
    "/asset-groups/",
    "/automation/",
    "/deployment/",
    "/runs/?view=backfills",
)


def test_each_page_loads_only_static_files_besides_itself_and_ships_little_javascript(page, server):
    loaded: dict[str, list[str]] = {}
    for path in PAGES:
        seen: list = []

        def record(request, seen=seen):
            seen.append(request)

        page.on("request", record)
        page.goto(path)
        page.wait_for_load_state("load")
        page.remove_listener("request", record)
        others = [r.url for r in seen[1:]]
        # besides static files, only POSTs to /graphql (graphs, the launchpad's check, the live run page)
        assert all("/static/" in r.url or (r.method == "POST" and r.url.endswith("/graphql")) for r in seen[1:]), (
            f"{path} fetched more than static files and /graphql: {others}")
        scripts = [r.url for r in seen if r.resource_type == "script"]
        compressed = 0
        for url in scripts:
            with urllib.request.urlopen(url) as response:
                compressed += len(gzip.compress(response.read(), 9))
        assert compressed <= JS_BUDGET, f"{path}: {compressed} bytes of JavaScript, compressed"
        if "/jobs/" not in path and "asset-groups" not in path:
            assert not any("dagre" in url or "graph.js" in url for url in scripts), (
                f"{path} loads the graph library"
            )
        loaded[path] = others
    # a constant number of requests whatever the rows: the runs list with many and with no rows
    assert len(loaded["/runs/"]) == len(loaded["/runs/?status=CANCELED"])
