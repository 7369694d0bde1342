"""API tokens from real processes: the `orchestra token` commands, and Dagster's GraphQL client sending a
token to a real webserver in login mode."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from core.models import ApiToken
from core.selectors import TokenRefused, token_authenticate
from core.services import token_create
from runs import services
from runs.services import EventInput
from tests.cli.test_job_cli import orchestra
from tests.conftest import write_child_home
from tests.e2e.test_dagster_graphql_client import webserver  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def test_token_create_list_revoke_through_the_cli(child_home):
    get_user_model().objects.create_user("alice", "", "pw")
    created = orchestra(child_home, "token", "create", "--role", "launcher", "--location", "data",
                        "--expires", "30d", "--name", "ci", "--user", "alice")
    assert created.returncode == 0, created.stderr
    plaintext = created.stdout.splitlines()[-1]
    token = token_authenticate(plaintext=plaintext)
    assert (token.name, token.user.username, token.role, token.location_name) == ("ci", "alice", "launcher", "data")
    assert abs(token.expires_at - (timezone.now() + dt.timedelta(days=30))) < dt.timedelta(minutes=5)
    assert plaintext not in created.stdout.splitlines()[0] and token.prefix in created.stdout.splitlines()[0]

    dated = orchestra(child_home, "token", "create", "--role", "viewer", "--expires", "2999-01-02", "--user", "alice")
    assert dated.returncode == 0, dated.stderr
    assert token_authenticate(plaintext=dated.stdout.splitlines()[-1]).expires_at == dt.datetime(2999, 1, 2, tzinfo=dt.UTC)

    listed = orchestra(child_home, "token", "list")
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    assert header.split() == ["PREFIX", "NAME", "USER", "ROLE", "LOCATION", "EXPIRES", "LAST", "USED", "STATE"]
    ours = next(row for row in rows if row.startswith(token.prefix))
    assert ours.split()[1:5] == ["ci", "alice", "launcher", "data"] and ours.split()[-1] == "active"
    assert plaintext not in listed.stdout

    revoked = orchestra(child_home, "token", "revoke", token.prefix)
    assert revoked.returncode == 0 and token.prefix in revoked.stdout
    with pytest.raises(TokenRefused, match="revoked"):
        token_authenticate(plaintext=plaintext)
    assert orchestra(child_home, "token", "list").stdout.count("revoked") == 1
    unknown = orchestra(child_home, "token", "revoke", "00000000")
    assert unknown.returncode == 1 and "no token" in unknown.stderr and "Traceback" not in unknown.stderr


def test_token_create_refuses_bad_options_without_a_traceback(child_home):
    nobody = orchestra(child_home, "token", "create", "--role", "viewer")
    assert nobody.returncode == 1 and "--user" in nobody.stderr  # no administrator to own it yet
    get_user_model().objects.create_superuser("root", "", "pw")
    for args, message in [(("--role", "owner"), "owner"), (("--role", "viewer", "--expires", "soon"), "soon"),
                          (("--role", "viewer", "--expires", "2001-01-01"), "past"),
                          (("--role", "viewer", "--user", "ghost"), "ghost")]:
        result = orchestra(child_home, "token", "create", *args)
        assert result.returncode != 0 and message in result.stderr and "Traceback" not in result.stderr
    assert not ApiToken.objects.exists()
    owned = orchestra(child_home, "token", "create", "--role", "admin")
    assert owned.returncode == 0 and token_authenticate(plaintext=owned.stdout.splitlines()[-1]).user.username == "root"


@pytest.fixture
def child_home(tmp_path, settings):
    """The suite's child home, in login mode: the webserver refuses anonymous callers."""
    home = write_child_home(tmp_path / "child-home")
    config = home / "orchestra.yaml"
    config.write_text(config.read_text().replace("mode: none", "mode: login"))
    return home


@pytest.mark.filterwarnings("ignore::DeprecationWarning:gql")  # raised inside Dagster's client, not ours
def test_dagster_graphql_client_sends_a_token_through_its_headers(webserver):  # noqa: F811
    from dagster import DagsterRunStatus
    from dagster_graphql import DagsterGraphQLClient, DagsterGraphQLClientError

    run = services.run_create(job_name="etl")
    services.event_store(run_id=run.run_id, events=[EventInput("RUN_START"), EventInput("RUN_SUCCESS")])
    user = get_user_model().objects.create_user("ci-bot")
    token, plaintext = token_create(user=user, role="viewer", name="ci")

    client = DagsterGraphQLClient("127.0.0.1", port_number=webserver, headers={"Authorization": f"Bearer {plaintext}"})
    assert client.get_run_status(run.run_id) == DagsterRunStatus.SUCCESS
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None

    for headers in ({}, {"Authorization": f"Bearer {plaintext[:-3]}xyz"}):
        with pytest.raises(DagsterGraphQLClientError):
            DagsterGraphQLClient("127.0.0.1", port_number=webserver, headers=headers).get_run_status(run.run_id)
