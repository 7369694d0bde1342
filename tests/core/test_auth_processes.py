"""Security from real processes: `auth: {mode: none}` refused off loopback, `orchestra user`, and
`orchestra dev` on a non-loopback address requiring login with a first admin it prints once."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from core.permissions import Role, user_role
from tests.cli.test_job_cli import orchestra
from tests.conftest import REPO, child_env
from tests.e2e.test_dev_flow import free_port

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("command", ["webserver", "dev"])
def test_mode_none_refuses_to_start_on_a_non_loopback_bind(child_home, command):
    assert "mode: none" in (child_home / "orchestra.yaml").read_text()
    home_args = ["--home", str(child_home)] if command == "dev" else []
    refused = orchestra(child_home, command, *home_args, "--host", "0.0.0.0", "--port", str(free_port()))
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "Refusing to start: `auth: {mode: none}`" in refused.stderr
    assert "--host 0.0.0.0 listens beyond this machine" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_the_auth_mode_env_var_is_checked_too(child_home):
    config = child_home / "orchestra.yaml"
    config.write_text(config.read_text().replace("mode: none", "mode: login"))
    proc = subprocess.run(
        [sys.executable, "-c", "from orchestra._cli import main; main()", "webserver", "--host", "192.0.2.1",
         "--port", str(free_port())],
        env={**child_env(child_home), "ORCHESTRA_AUTH_MODE": "none"}, cwd=REPO, capture_output=True, text=True,
        timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Refusing to start" in proc.stderr, proc.stdout + proc.stderr


def test_user_cli_creates_grants_lists_and_revokes(child_home, settings):
    created = orchestra(child_home, "user", "create", "ada", "--role", "launcher", "--location", "loc_a")
    assert created.returncode == 0, created.stderr
    password = created.stdout.splitlines()[-1]
    assert "Created user ada, launcher in loc_a" in created.stdout and password not in created.stdout.splitlines()[0]
    ada = get_user_model().objects.get(username="ada")
    assert user_role(ada, "loc_a") is Role.LAUNCHER and user_role(ada, "loc_b") is None

    granted = orchestra(child_home, "user", "grant", "ada", "viewer")
    assert granted.returncode == 0 and "ada is now viewer instance-wide" in granted.stdout
    listed = orchestra(child_home, "user", "list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[1].split() == ["ada", "viewer", "loc_a=launcher"]

    # The printed password logs in, in login mode.
    settings.ORCHESTRA_AUTH_MODE = "login"
    client = Client()
    assert client.post("/login/", {"username": "ada", "password": password}).status_code == 302
    assert client.get("/runs/").status_code == 200

    revoked = orchestra(child_home, "user", "revoke", "ada", "--location", "loc_a")
    assert revoked.returncode == 0, revoked.stderr
    again = orchestra(child_home, "user", "revoke", "ada", "--location", "loc_a")
    assert again.returncode == 1 and "holds no role in loc_a" in again.stderr and "Traceback" not in again.stderr
    ada = get_user_model().objects.get(username="ada")
    assert user_role(ada, "loc_a") is Role.VIEWER

    taken = orchestra(child_home, "user", "create", "ada")
    assert taken.returncode == 1 and "already exists" in taken.stderr
    nobody = orchestra(child_home, "user", "grant", "nobody", "admin")
    assert nobody.returncode == 1 and "no user named 'nobody'" in nobody.stderr


def test_dev_on_every_interface_requires_login_with_a_first_admin_printed_once(tmp_path):
    home, port = tmp_path / "home", free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("ORCHESTRA_HOME", "DJANGO_SETTINGS_MODULE")}
    env["PYTHONPATH"] = str(REPO)
    example = tmp_path / "defs.py"
    example.write_text("import orchestra as dg\n\n@dg.asset\ndef a():\n    return 1\n\ndefs = dg.Definitions(assets=[a])\n")
    log = tmp_path / "dev.log"
    proc = subprocess.Popen([sys.executable, "-m", "orchestra", "dev", "--home", str(home), "--host", "0.0.0.0",
                             "--port", str(port), "-f", str(example)],
                            cwd=tmp_path, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2):
                    break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.3)
        output = log.read_text()
        found = re.findall(r"Created the first admin user: admin / (\S+)", output)
        assert len(found) == 1, output
        assert f"Log in at http://0.0.0.0:{port}/login/" in output
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(f"{base}/graphql", data=b'{"query": "{ __typename }"}',
                                                          headers={"Content-Type": "application/json"}), timeout=10)
        assert refused.value.code == 401

        # The printed password logs in through the login page (CSRF cookie and token, as a browser).
        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = browser.open(f"{base}/runs/", timeout=10)
        assert page.url.startswith(f"{base}/login/")
        csrf = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
        form = urllib.parse.urlencode({"username": "admin", "password": found[0], "csrfmiddlewaretoken": csrf,
                                       "next": "/runs/"}).encode()
        landed = browser.open(urllib.request.Request(f"{base}/login/", data=form, headers={"Referer": base}),
                              timeout=10)
        assert landed.url == f"{base}/runs/" and b"Log out" in landed.read()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
