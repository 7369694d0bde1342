"""Single sign-on (`auth: {mode: oidc}`): the configuration, the claim→role mapping through
mozilla-django-oidc's backend hooks, and a whole login against a provider served on loopback."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from core.instance_config import InstanceConfigError, parse_instance_config
from core.models import AuditEntry, LocationRole
from core.oidc import OidcRoleBackend, roles_from_claims
from core.permissions import Role, user_role
from tests.cli.test_job_cli import orchestra
from tests.conftest import run_child

CLIENT_ID = "orchestra"
CLIENT_SECRET = "a-client-secret-long-enough-for-hs256-signatures"

OIDC_YAML = """\
auth:
  mode: oidc
  oidc:
    client_id: {client_id}
    client_secret: {client_secret}
    authorization_endpoint: {base}/authorize
    token_endpoint: {base}/token
    userinfo_endpoint: {base}/userinfo
    sign_algo: HS256
    username_claim: preferred_username
    roles_claim: groups
    roles: {{orchestra-admins: admin, data-eng: editor, analysts: viewer}}
    location_roles: {{team-a: {{loc_a: launcher}}, team-b: {{loc_b: viewer, loc_a: editor}}}}
    default_role: viewer
"""


def oidc_yaml(base: str = "http://127.0.0.1:9") -> str:
    return OIDC_YAML.format(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, base=base)


def config_of(text: str):
    return parse_instance_config(text, "orchestra.yaml", {}).auth.oidc


def test_the_oidc_configuration_is_checked():
    assert config_of(oidc_yaml()).roles == {"orchestra-admins": "admin", "data-eng": "editor", "analysts": "viewer"}
    for text, words in [
        ("auth:\n  mode: oidc\n", "auth.oidc"),
        (oidc_yaml().replace("mode: oidc", "mode: login"), "set mode: oidc"),
        (oidc_yaml().replace("sign_algo: HS256", "sign_algo: RS256"), "jwks_uri"),
        (oidc_yaml().replace("data-eng: editor", "data-eng: owner"), "data-eng"),
        (oidc_yaml().replace("    client_id: orchestra\n", ""), "client_id"),
    ]:
        with pytest.raises(InstanceConfigError, match=words):
            parse_instance_config(text, "orchestra.yaml", {})


def test_claim_values_map_to_the_highest_role_and_to_roles_per_location():
    config = config_of(oidc_yaml())
    assert roles_from_claims(config, {"groups": ["analysts", "data-eng"]}) == ("editor", {})
    assert roles_from_claims(config, {"groups": "orchestra-admins"}) == ("admin", {})
    assert roles_from_claims(config, {"groups": ["team-a", "team-b"]}) == (None, {"loc_a": "editor", "loc_b": "viewer"})
    assert roles_from_claims(config, {"groups": ["unknown"]}) == ("viewer", {})  # default_role
    assert roles_from_claims(config, {"groups": []}) == ("viewer", {})
    assert roles_from_claims(config, {"email": "x@example.com"}) is None  # no claim: leave grants alone
    strict = config.model_copy(update={"default_role": None})
    assert roles_from_claims(strict, {"groups": ["unknown"]}) == (None, {})


@pytest.fixture
def oidc_settings(settings):
    """Mode oidc as `orchestra_site.settings` configures it, with the provider at `base` (set by the test)."""

    def configure(base: str = "http://127.0.0.1:9"):
        settings.INSTANCE = dataclasses.replace(settings.INSTANCE, config=parse_instance_config(oidc_yaml(base), "t", {}))
        oidc = settings.INSTANCE.config.auth.oidc
        settings.ORCHESTRA_AUTH_MODE = "oidc"
        settings.AUTHENTICATION_BACKENDS = [settings.AUTHENTICATION_BACKENDS[0], "core.oidc.OidcRoleBackend",
                                            *settings.AUTHENTICATION_BACKENDS[1:]]
        settings.OIDC_RP_CLIENT_ID, settings.OIDC_RP_CLIENT_SECRET = oidc.client_id, oidc.client_secret
        settings.OIDC_OP_AUTHORIZATION_ENDPOINT = oidc.authorization_endpoint
        settings.OIDC_OP_TOKEN_ENDPOINT, settings.OIDC_OP_USER_ENDPOINT = oidc.token_endpoint, oidc.userinfo_endpoint
        settings.OIDC_OP_JWKS_ENDPOINT, settings.OIDC_RP_SIGN_ALGO = oidc.jwks_uri, oidc.sign_algo
        settings.OIDC_RP_SCOPES, settings.OIDC_USE_PKCE = oidc.scopes, True
        settings.ROOT_URLCONF = "tests.core.oidc_urls"
        return oidc

    return configure


@pytest.mark.django_db
def test_the_backend_creates_users_and_sets_their_roles_from_the_claim(oidc_settings):
    oidc_settings()
    backend = OidcRoleBackend()
    claims = {"preferred_username": "carol", "email": "carol@example.com", "groups": ["data-eng", "team-a"]}
    assert backend.verify_claims(claims) and not backend.verify_claims({"email": "x@example.com"})
    assert not backend.filter_users_by_claims(claims).exists()
    carol = backend.create_user(claims)
    assert (carol.username, carol.email, carol.has_usable_password()) == ("carol", "carol@example.com", False)
    assert list(backend.filter_users_by_claims(claims)) == [carol]
    fresh = get_user_model().objects.get(pk=carol.pk)
    assert user_role(fresh) is Role.EDITOR and user_role(fresh, "loc_a") is Role.EDITOR
    assert dict(LocationRole.objects.filter(user=carol).values_list("location_name", "role")) == {"loc_a": "launcher"}

    backend.update_user(fresh, {**claims, "groups": ["analysts", "team-b"]})
    fresh = get_user_model().objects.get(pk=carol.pk)
    assert user_role(fresh) is Role.VIEWER
    assert dict(LocationRole.objects.filter(user=carol).values_list("location_name", "role")) == {
        "loc_a": "editor", "loc_b": "viewer"}

    entries = AuditEntry.objects.filter(actor_kind="system", actor_name="oidc")
    before = entries.count()
    backend.update_user(fresh, {**claims, "groups": ["analysts", "team-b"]})  # nothing changed: nothing recorded
    backend.update_user(fresh, {"preferred_username": "carol"})  # no claim: grants left as they are
    assert entries.count() == before and user_role(get_user_model().objects.get(pk=carol.pk)) is Role.VIEWER

    backend.update_user(fresh, {**claims, "groups": ["team-a"]})  # a location role only: the others go
    fresh = get_user_model().objects.get(pk=carol.pk)
    assert user_role(fresh) is None and user_role(fresh, "loc_a") is Role.LAUNCHER and user_role(fresh, "loc_b") is None
    assert {"user.create", "role.grant", "role.revoke"} <= set(entries.values_list("action", flat=True))


class _Provider(BaseHTTPRequestHandler):
    """An OpenID provider's token and userinfo endpoints (what the callback calls), on loopback."""

    claims: dict = {}
    nonce: str | None = None
    token_requests: list = []

    def do_POST(self):  # the token endpoint
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        type(self).token_requests.append(form)
        id_token = jwt.encode({"sub": "carol-1", "aud": CLIENT_ID, "nonce": type(self).nonce,
                               "exp": int(time.time()) + 300}, CLIENT_SECRET, algorithm="HS256")
        self._json({"access_token": "access-1", "id_token": id_token, "token_type": "Bearer"})

    def do_GET(self):  # the userinfo endpoint
        if self.headers.get("Authorization") != "Bearer access-1":
            self.send_response(401)
            self.end_headers()
            return
        self._json(type(self).claims)

    def _json(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def provider():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Provider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Provider.token_requests = []
    try:
        yield server, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _sso_login(client: Client, groups: list[str]):
    _Provider.claims = {"preferred_username": "carol", "email": "carol@example.com", "groups": groups}
    start = client.get("/oidc/authenticate/", {"next": "/runs/"})
    assert start.status_code == 302
    query = parse_qs(urlsplit(start["Location"]).query)
    _Provider.nonce = query["nonce"][0]
    return start, query, client.get("/oidc/callback/", {"code": "code-1", "state": query["state"][0]})


@pytest.mark.django_db
def test_single_sign_on_logs_in_and_maps_roles_through_the_real_callback(oidc_settings, provider, settings):
    _, base = provider
    oidc_settings(base)
    settings.ORCHESTRA_AUTH_MODE = "oidc"
    client = Client()
    assert client.get("/runs/").status_code == 302  # deny by default, as in mode login
    assert b'href="/oidc/authenticate/' in client.get("/login/").content

    start, query, callback = _sso_login(client, ["data-eng"])
    assert start["Location"].startswith(f"{base}/authorize?")
    assert query["client_id"] == [CLIENT_ID] and query["code_challenge_method"] == ["S256"]
    assert callback.status_code == 302 and callback["Location"] == "/runs/", callback
    token_request = _Provider.token_requests[-1]
    assert token_request["code"] == ["code-1"] and "code_verifier" in token_request
    carol = get_user_model().objects.get(username="carol")
    assert user_role(carol) is Role.EDITOR
    assert client.get("/runs/").status_code == 200 and client.session["_auth_user_id"] == str(carol.pk)

    client.logout()
    _sso_login(client, ["orchestra-admins"])
    assert user_role(get_user_model().objects.get(username="carol")) is Role.ADMIN
    assert client.get("/deployment/tokens").status_code == 200  # the admins' page


@pytest.mark.django_db(transaction=True)
def test_mode_oidc_is_wired_by_the_settings_of_a_real_process(child_home):
    config = child_home / "orchestra.yaml"
    text = config.read_text().replace("auth:\n  mode: none\n", "")
    config.write_text(text + oidc_yaml("https://idp.example.com"))
    script = (
        "import django; django.setup()\n"
        "from django.test.utils import setup_test_environment; setup_test_environment()\n"
        "from django.test import Client\n"
        "r = Client().get('/oidc/authenticate/')\n"
        "print(r.status_code, r['Location'])\n"
        "print(Client().get('/runs/').status_code)\n"
    )
    result = run_child(child_home, "import os; os.environ['DJANGO_SETTINGS_MODULE']='orchestra_site.settings'\n"
                       + script)
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.split("\n")[:2]
    status, location = first.split(" ", 1)
    assert status == "302" and location.startswith("https://idp.example.com/authorize?")
    assert parse_qs(urlsplit(location).query)["client_id"] == [CLIENT_ID]
    assert second == "302"
    info = orchestra(child_home, "instance", "info")
    assert info.returncode == 0 and CLIENT_SECRET not in info.stdout
