"""Roles in the browser: a second webserver on the browser suite's database in login mode; a viewer logs in
and finds no launch button (and is refused if it posts anyway), a launcher of the location logs in and
launches a run that succeeds. Users are created with the real `orchestra user create` command."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.e2e.test_dev_flow import free_port, health

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails, when required) without Playwright
    expect = None

pytestmark = pytest.mark.browser

RUN_URL = re.compile(r".*/runs/([0-9a-f-]{36})/$")


@pytest.fixture(scope="module")
def login_webserver(server, tmp_path_factory):
    """`orchestra webserver` in login mode on the same home as the suite's `orchestra dev`, with a viewer and
    a launcher of the `browser` location; answers (url, {username: password})."""
    env = {k: v for k, v in os.environ.items() if k not in ("ORCHESTRA_HOME", "DJANGO_SETTINGS_MODULE")}
    env.update(ORCHESTRA_HOME=str(server.home), ORCHESTRA_AUTH_MODE="login", PYTHONPATH=str(REPO))
    users = {f"viewer-{secrets.token_hex(3)}": ("viewer", None), f"launcher-{secrets.token_hex(3)}": ("launcher", "browser")}
    passwords = {}
    for username, (role, location) in users.items():
        password = secrets.token_urlsafe(16)
        command = [sys.executable, "-m", "orchestra", "user", "create", username, "--role", role, "--password-stdin",
                   *(["--location", location] if location else [])]
        subprocess.run(command, input=password, text=True, env=env, check=True, capture_output=True, timeout=120)
        passwords[username] = password
    port = free_port()
    log = tmp_path_factory.mktemp("login-webserver") / "webserver.log"
    proc = subprocess.Popen([sys.executable, "-m", "orchestra", "webserver", "-p", str(port)], env=env, cwd=REPO,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        server.dev.wait_for(lambda: health(port) is not None, "the login-mode webserver")
        yield f"http://127.0.0.1:{port}", passwords
    finally:
        proc.terminate()
        proc.wait(30)


def _log_in(browser, url: str, username: str, password: str):
    context = browser.new_context(base_url=url)
    page = context.new_page()
    page.goto("/locations/browser/jobs/greet_job/")
    expect(page).to_have_url(re.compile(r".*/login/\?next="))  # deny by default
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r".*/locations/browser/jobs/greet_job/$"))
    expect(page.locator("header .who")).to_have_text(username)
    return context, page


def test_a_viewer_finds_no_launch_button_and_a_launcher_launches(browser, login_webserver):
    url, passwords = login_webserver
    viewer, launcher = sorted(passwords, reverse=True)  # "viewer-…" sorts after "launcher-…"
    context, page = _log_in(browser, url, viewer, passwords[viewer])
    try:
        expect(page.locator("#run_config")).to_be_visible()
        expect(page.get_by_role("button", name="Launch run")).to_have_count(0)
        response = page.request.post(f"{url}/locations/browser/jobs/greet_job/", form={
            "run_config": "ops: {greet: {config: {name: x}}}",
            "csrfmiddlewaretoken": page.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")})
        assert response.status == 403  # refused even when asked directly
    finally:
        context.close()

    context, page = _log_in(browser, url, launcher, passwords[launcher])
    try:
        page.locator("#run_config").fill("ops:\n  greet:\n    config:\n      name: roles\n")
        page.get_by_role("button", name="Launch run").click()
        expect(page).to_have_url(RUN_URL)
        expect(page.locator("#run-launched-by")).to_contain_text(f"user:{launcher}")
        expect(page.locator("#run-status")).to_have_text(re.compile("QUEUED|STARTING|STARTED|SUCCESS"))
    finally:
        context.close()
