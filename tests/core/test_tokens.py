"""API tokens: created hashed, sent as `Authorization: Bearer …`, refused once expired or revoked."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.exceptions import InvalidInput, NotFound
from core.models import ApiToken, AuditEntry
from core.permissions import Actor, Role, actor_from_request
from core.selectors import TokenRefused, token_authenticate
from core.services import token_create, token_revoke, token_touch
from runs import services as run_services
from runs.services import EventInput

pytestmark = pytest.mark.django_db

STATUS_QUERY = 'query($runId: ID!) { pipelineRunOrError(runId: $runId) { __typename ... on Run { status } } }'


@pytest.fixture
def alice():
    return get_user_model().objects.create_user("alice", "", "pw")


def bearer(plaintext: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {plaintext}"}


def test_a_token_is_stored_only_as_a_hash_and_shown_once(alice):
    token, plaintext = token_create(user=alice, role="launcher", name="ci", location_name="data")
    row = ApiToken.objects.get(pk=token.pk)
    assert plaintext.startswith(f"orc_{row.prefix}_") and len(plaintext) > 40
    assert row.secret_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    stored = [str(value) for value in ApiToken.objects.filter(pk=token.pk).values().get().values()]
    assert not any(plaintext in value or plaintext.split("_", 2)[2] in value for value in stored)
    assert (row.role, row.location_name, row.user, row.name) == ("launcher", "data", alice, "ci")
    assert token_authenticate(plaintext=plaintext) == row


def test_token_create_refuses_bad_input(alice):
    with pytest.raises(InvalidInput, match="unknown role"):
        token_create(user=alice, role="owner", name="x")
    with pytest.raises(InvalidInput, match="name"):
        token_create(user=alice, role=Role.VIEWER, name="  ")
    with pytest.raises(InvalidInput, match="past"):
        token_create(user=alice, role=Role.VIEWER, name="x", expires_at=timezone.now() - dt.timedelta(days=1))
    assert not ApiToken.objects.exists()


def test_wrong_revoked_expired_and_inactive_tokens_are_refused(alice):
    token, plaintext = token_create(user=alice, role="viewer", name="t")
    for presented, reason in [
        ("orc_nope", "malformed"), ("Basic abc", "malformed"),
        (plaintext[:-2] + ("AA" if not plaintext.endswith("AA") else "BB"), "unknown"),
        (f"orc_{token.prefix}x_{plaintext.split('_', 2)[2]}", "unknown"),
    ]:
        with pytest.raises(TokenRefused, match=reason):
            token_authenticate(plaintext=presented)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    with pytest.raises(TokenRefused, match="expired"):
        token_authenticate(plaintext=plaintext)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=None)
    get_user_model().objects.filter(pk=alice.pk).update(is_active=False)
    with pytest.raises(TokenRefused, match="inactive"):
        token_authenticate(plaintext=plaintext)
    get_user_model().objects.filter(pk=alice.pk).update(is_active=True)
    token_revoke(prefix=token.prefix)
    with pytest.raises(TokenRefused, match="revoked"):
        token_authenticate(plaintext=plaintext)
    with pytest.raises(NotFound):
        token_revoke(prefix="00000000")


def test_create_and_revoke_are_audited_with_the_actor(alice):
    actor = Actor(kind="user", name="root", user_id=None)
    token, _ = token_create(user=alice, role="editor", name="deploy", actor=actor)
    token_revoke(prefix=token.prefix, actor=actor)
    token_revoke(prefix=token.prefix, actor=actor)  # a second revoke changes nothing and records nothing
    entries = list(AuditEntry.objects.filter(target_type="token").order_by("id"))
    assert [(e.action, e.target_id, e.actor_label) for e in entries] == [
        ("token.create", token.prefix, "user:root"), ("token.revoke", token.prefix, "user:root"),
    ]
    assert entries[0].details["role"] == "editor" and "secret" not in str(entries[0].details)


def test_last_used_at_is_written_at_most_once_a_minute(alice):
    token, _ = token_create(user=alice, role="viewer", name="t")
    start = timezone.now()
    with CaptureQueriesContext(connection) as queries:
        token_touch(token=token, now=start)
        token_touch(token=token, now=start + dt.timedelta(seconds=30))
        fresh = ApiToken.objects.get(pk=token.pk)
        token_touch(token=fresh, now=start + dt.timedelta(seconds=59))
    assert sum(q["sql"].startswith("UPDATE") for q in queries.captured_queries) == 1
    assert ApiToken.objects.get(pk=token.pk).last_used_at == start
    token_touch(token=ApiToken.objects.get(pk=token.pk), now=start + dt.timedelta(seconds=61))
    assert ApiToken.objects.get(pk=token.pk).last_used_at == start + dt.timedelta(seconds=61)


# --- the middleware, through the real request stack ----------------------------------------------


def test_bearer_token_authenticates_graphql_and_rest_as_the_tokens_user(alice, login_mode):
    run = run_services.run_create(job_name="etl")
    run_services.event_store(run_id=run.run_id, events=[EventInput("RUN_START"), EventInput("RUN_SUCCESS")])
    _, plaintext = token_create(user=alice, role="viewer", name="reader")
    client = Client()
    anonymous = client.post("/graphql", {"query": STATUS_QUERY, "variables": {"runId": run.run_id}},
                            content_type="application/json")
    assert anonymous.status_code == 401 and client.get(f"/api/runs/{run.run_id}").status_code == 401
    answer = client.post("/graphql", {"query": STATUS_QUERY, "variables": {"runId": run.run_id}},
                         content_type="application/json", **bearer(plaintext))
    assert answer.status_code == 200, answer.content
    assert answer.json()["data"]["pipelineRunOrError"] == {"__typename": "Run", "status": "SUCCESS"}
    rest = client.get(f"/api/runs/{run.run_id}", **bearer(plaintext))
    assert rest.status_code == 200 and rest.json()["run_id"] == run.run_id
    assert ApiToken.objects.get(prefix=plaintext.split("_")[1]).last_used_at is not None


def test_the_request_acts_as_the_token_and_never_as_the_session(alice, rf):
    from core.middleware import TokenAuthenticationMiddleware

    bob = get_user_model().objects.create_user("bob", "", "pw")
    token, plaintext = token_create(user=alice, role="launcher", name="ci", location_name="data")
    seen = {}

    def view(request):
        seen["user"], seen["token"], seen["actor"] = request.user, request.orchestra_token, actor_from_request(request)
        seen["csrf_exempt"] = getattr(request, "_dont_enforce_csrf_checks", False)
        from django.http import HttpResponse

        return HttpResponse("ok")

    request = rf.get("/api/runs", **bearer(plaintext))
    request.user = bob  # what the session would have said
    assert TokenAuthenticationMiddleware(view)(request).status_code == 200
    assert seen["user"] == alice and seen["token"] == token and seen["csrf_exempt"] is True
    assert (seen["actor"].kind, seen["actor"].name, seen["actor"].token_id) == ("token", "ci", token.pk)


@pytest.mark.parametrize("spoil", ["revoke", "expire", "garble", "empty"])
def test_expired_revoked_or_unknown_tokens_answer_401_json_on_graphql_and_rest(alice, spoil, login_mode):
    token, plaintext = token_create(user=alice, role="admin", name="t")
    if spoil == "revoke":
        token_revoke(prefix=token.prefix)
    elif spoil == "expire":
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    elif spoil == "garble":
        plaintext = plaintext[:-4] + "zzzz"
    else:
        plaintext = ""
    client = Client()
    client.force_login(alice)  # a valid session is no fallback for a bad token
    for response in (
        client.post("/graphql", {"query": "{ version }"}, content_type="application/json", **bearer(plaintext)),
        client.get("/api/runs", **bearer(plaintext)),
        client.get("/runs/", **bearer(plaintext)),
    ):
        assert response.status_code == 401
        assert response.json()["code"] == "invalid_token" and response["WWW-Authenticate"].startswith("Bearer")
    assert ApiToken.objects.get(pk=token.pk).last_used_at is None


def test_other_authorization_schemes_are_left_to_the_session(alice):
    response = Client().get("/health", HTTP_AUTHORIZATION="Basic YWxpY2U6cHc=")
    assert response.status_code == 200


MUTATION = """mutation($runId: String!) { terminateRun(runId: $runId) { __typename } }"""


def test_csrf_is_needed_with_a_session_and_not_with_a_token(login_as):
    run = run_services.run_create(job_name="etl")
    client = Client(enforce_csrf_checks=True)
    user = login_as("launcher", client=client)
    body = {"query": MUTATION, "variables": {"runId": run.run_id}}
    refused = client.post("/graphql", body, content_type="application/json")
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    _, plaintext = token_create(user=user, role="launcher", name="ci")
    for caller in (client, Client(enforce_csrf_checks=True)):  # with or without the session cookie
        answer = caller.post("/graphql", body, content_type="application/json", **bearer(plaintext))
        assert answer.status_code == 200, answer.content
        assert answer.json()["data"]["terminateRun"]["__typename"] != "UnauthorizedError"


# --- the tokens page (/deployment/tokens), admins only ------------------------------------------------


def test_the_tokens_page_is_for_admins_only(client, login_as):
    assert Client().get("/deployment/tokens").status_code == 302  # anonymous: to the login page
    for role in ("viewer", "launcher", "editor"):
        login_as(role)
        assert client.get("/deployment/tokens").status_code == 403
        assert client.post("/deployment/tokens", {"name": "x", "role": "admin"}).status_code == 403
    assert not ApiToken.objects.exists()
    login_as("admin")
    assert client.get("/deployment/tokens").status_code == 200
    assert b'href="/deployment/tokens"' in client.get("/deployment/").content
    login_as("viewer")
    assert b'href="/deployment/tokens"' not in client.get("/deployment/").content


def test_an_admin_creates_a_token_seen_once_and_revokes_it(client, login_as):
    admin = login_as("admin")
    answer = client.post("/deployment/tokens", {"name": "ci", "role": "launcher", "location": "data", "expires": "30"})
    assert answer.status_code == 200 and "no-store" in answer["Cache-Control"]
    token = ApiToken.objects.get()
    plaintext = answer.context["created"]["plaintext"]
    assert plaintext.encode() in answer.content and token_authenticate(plaintext=plaintext) == token
    assert (token.user, token.role, token.location_name, token.name) == (admin, "launcher", "data", "ci")
    assert dt.timedelta(days=29) < token.expires_at - timezone.now() <= dt.timedelta(days=30)
    listed = client.get("/deployment/tokens")
    assert token.prefix.encode() in listed.content and plaintext.encode() not in listed.content

    revoked = client.post(f"/deployment/tokens/{token.prefix}/revoke")
    assert revoked.status_code == 302 and revoked["Location"] == "/deployment/tokens"
    assert ApiToken.objects.get().revoked_at is not None
    assert client.post("/deployment/tokens/00000000/revoke").status_code == 404
    assert client.get("/deployment/tokens/00000000/revoke").status_code == 405  # nothing writes on GET


def test_the_create_form_reports_bad_input(client, login_as):
    login_as("admin")
    for form, message in [({"name": "", "role": "viewer"}, b"name"), ({"name": "x", "role": "owner"}, b"unknown role"),
                          ({"name": "x", "role": "viewer", "expires": "2"}, b"choices"),
                          ({"name": "x", "role": "viewer", "user": "ghost"}, b"ghost")]:
        answer = client.post("/deployment/tokens", form)
        assert answer.status_code == 400 and message in answer.content and answer.context["created"] is None
    assert not ApiToken.objects.exists()


def test_an_admin_token_needs_no_csrf_token_where_the_session_does(login_as):
    session = Client(enforce_csrf_checks=True)
    admin = login_as("admin", client=session)
    assert session.post("/deployment/tokens", {"name": "x", "role": "viewer"}).status_code == 403
    _, plaintext = token_create(user=admin, role="admin", name="automation")
    answer = Client(enforce_csrf_checks=True).post("/deployment/tokens", {"name": "made-by-token", "role": "viewer"},
                                                   **bearer(plaintext))
    assert answer.status_code == 200 and ApiToken.objects.filter(name="made-by-token").exists()
    scoped_user = get_user_model().objects.create_user("scoped")
    _, launcher = token_create(user=scoped_user, role="launcher", name="weak")
    assert Client().get("/deployment/tokens", **bearer(launcher)).status_code == 403  # the token's role decides


def test_the_tokens_page_reads_a_constant_number_of_queries(client, login_as):
    owner = login_as("admin")
    token_create(user=owner, role="viewer", name="first")
    with CaptureQueriesContext(connection) as one:
        assert client.get("/deployment/tokens").status_code == 200
    for n in range(5):
        token_create(user=get_user_model().objects.create_user(f"u{n}"), role="viewer", name=f"t{n}")
    with CaptureQueriesContext(connection) as six:
        assert client.get("/deployment/tokens").status_code == 200
    assert len(six.captured_queries) == len(one.captured_queries)
