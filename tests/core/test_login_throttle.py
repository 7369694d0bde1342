"""Login throttling (django-axes): repeated failures for one username from one address lock that pair out."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(login_mode):
    return get_user_model().objects.create_user("alice", "", "right-password")


def _login(client: Client, username: str, password: str, address: str = "203.0.113.7", path: str = "/login/"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_failed_logins_lock_out_the_username_from_that_address(alice):
    limit = settings.AXES_FAILURE_LIMIT
    client = Client()
    for _ in range(limit - 1):
        assert _login(client, "alice", "wrong").status_code == 200  # the form again, with an error
    locked = _login(client, "alice", "wrong")
    assert locked.status_code == 429
    refused = _login(client, "alice", "right-password")
    assert refused.status_code == 429 and not _logged_in(client)

    other_address = Client()
    assert _login(other_address, "alice", "right-password", address="198.51.100.9").status_code == 302
    assert _logged_in(other_address)


def test_the_admin_login_is_throttled_too(alice):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "alice", "wrong", path="/admin/login/")
    assert _login(client, "alice", "right-password", path="/login/").status_code == 429


def test_a_successful_login_resets_the_count(alice):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "alice", "wrong")
    assert _login(client, "alice", "right-password").status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "alice", "wrong")
    assert _login(client, "alice", "right-password").status_code == 302 and _logged_in(client)


def test_logins_without_a_request_are_not_throttled_nor_broken(alice):
    from django.contrib.auth import authenticate

    assert authenticate(username="alice", password="right-password") == alice
    assert Client().login(username="alice", password="right-password")
