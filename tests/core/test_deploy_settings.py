"""Production settings (ORCHESTRA_ENV=production): `check --deploy` passes, TLS-only cookies and HSTS, no insecure
default secret; `orchestra instance info` names anything insecure. Each case runs in a fresh process, since
settings are read once at start-up."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys

import yaml

from tests.conftest import REPO

SECRET = secrets.token_urlsafe(64)


def _run(tmp_path, args, *, yaml_text="", **env_overrides):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (home / "orchestra.yaml").write_text(yaml_text)
    env = {k: v for k, v in os.environ.items()
           if k not in ("ORCHESTRA_DEBUG", "ORCHESTRA_SECRET_KEY", "ORCHESTRA_ENV", "ORCHESTRA_AUTH_MODE",
                        "DJANGO_SETTINGS_MODULE")}
    env.update(ORCHESTRA_HOME=str(home), PYTHONPATH=str(REPO), **env_overrides)
    return subprocess.run([sys.executable, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=120)


def test_check_deploy_passes_for_the_production_settings(tmp_path):
    result = _run(tmp_path, ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                  ORCHESTRA_ENV="production", ORCHESTRA_SECRET_KEY=SECRET)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_for_the_dev_settings(tmp_path):
    result = _run(tmp_path, ["manage.py", "check", "--deploy", "--fail-level", "WARNING"])
    assert result.returncode != 0
    for problem in ("security.W012", "security.W004", "orchestra.W101"):  # insecure cookie, no HSTS, default key
        assert problem in result.stderr


def test_production_refuses_the_default_secret_key_and_debug(tmp_path):
    no_key = _run(tmp_path, ["manage.py", "check"], ORCHESTRA_ENV="production")
    assert no_key.returncode != 0 and "ORCHESTRA_SECRET_KEY" in no_key.stderr
    short = _run(tmp_path, ["manage.py", "check"], ORCHESTRA_ENV="production", ORCHESTRA_SECRET_KEY="short")
    assert short.returncode != 0 and "at least 50" in short.stderr
    debug = _run(tmp_path, ["manage.py", "check"], ORCHESTRA_ENV="production", ORCHESTRA_SECRET_KEY=SECRET,
                 ORCHESTRA_DEBUG="1")
    assert debug.returncode != 0 and "not in production" in debug.stderr
    unknown = _run(tmp_path, ["manage.py", "check"], ORCHESTRA_ENV="prod")
    assert unknown.returncode != 0 and "expected dev or production" in unknown.stderr


RESPONSES = """
import django, json
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
client = Client()
plain = client.get("/login/")
health = client.get("/health")
secure = client.get("/login/", secure=True)
print(json.dumps({
    "plain": [plain.status_code, plain.get("Location")], "health": health.status_code,
    "secure": secure.status_code, "hsts": secure.get("Strict-Transport-Security"),
    "nosniff": secure.get("X-Content-Type-Options"), "frame": secure.get("X-Frame-Options"),
    "csrf_cookie_secure": bool(secure.cookies["csrftoken"]["secure"]),
}))
"""


def test_production_redirects_to_https_and_sends_hsts_and_secure_cookies(tmp_path):
    result = _run(tmp_path, ["-c", RESPONSES], ORCHESTRA_ENV="production", ORCHESTRA_SECRET_KEY=SECRET,
                  DJANGO_SETTINGS_MODULE="orchestra_site.settings")
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["plain"] == [301, "https://testserver/login/"]
    assert seen["health"] in (200, 503)  # load balancers probe it over plain HTTP: never redirected
    assert seen["secure"] == 200
    assert seen["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert (seen["nosniff"], seen["frame"], seen["csrf_cookie_secure"]) == ("nosniff", "DENY", True)


def test_instance_info_warns_about_insecure_settings(tmp_path):
    insecure = _run(tmp_path, ["-m", "orchestra", "instance", "info"], yaml_text="auth:\n  mode: none\n",
                    ORCHESTRA_DEBUG="1")
    assert insecure.returncode == 0, insecure.stderr
    warnings = yaml.safe_load(insecure.stdout)["security_warnings"]
    printed = [line for line in insecure.stderr.splitlines() if line.startswith("Warning: ")]
    for words in ("auth mode is none", "SECRET_KEY is the built-in default", "DEBUG is on", "cookies", "Strict"):
        assert any(words in warning for warning in warnings), (words, warnings)
        assert any(words in line for line in printed), (words, printed)

    secure = _run(tmp_path, ["-m", "orchestra", "instance", "info"], ORCHESTRA_ENV="production",
                  ORCHESTRA_SECRET_KEY=SECRET)
    assert secure.returncode == 0, secure.stderr
    assert yaml.safe_load(secure.stdout)["security_warnings"] == [] and "Warning" not in secure.stderr

    refused = _run(tmp_path, ["-m", "orchestra", "instance", "info"], ORCHESTRA_ENV="production")
    assert refused.returncode == 0
    assert "ORCHESTRA_SECRET_KEY" in yaml.safe_load(refused.stdout)["security_warnings"][0]


def test_instance_info_warns_about_a_provider_over_plain_http(tmp_path):
    from tests.core.test_oidc import oidc_yaml

    plain = _run(tmp_path, ["-m", "orchestra", "instance", "info"], yaml_text=oidc_yaml("http://idp.example.com"),
                 ORCHESTRA_ENV="production", ORCHESTRA_SECRET_KEY=SECRET)
    assert plain.returncode == 0, plain.stderr
    assert yaml.safe_load(plain.stdout)["security_warnings"] == [
        "auth.oidc names a provider endpoint over plain HTTP: tokens and claims can be read"]
    tls = _run(tmp_path, ["-m", "orchestra", "instance", "info"], yaml_text=oidc_yaml("https://idp.example.com"),
               ORCHESTRA_ENV="production", ORCHESTRA_SECRET_KEY=SECRET)
    assert yaml.safe_load(tls.stdout)["security_warnings"] == []
