"""The instance's first administrator is created once, with a password shown only at creation."""

import pytest
from django.contrib.auth import get_user_model

from core.services import admin_user_ensure_first

pytestmark = pytest.mark.django_db


def test_first_admin_is_created_once_with_a_usable_generated_password():
    password = admin_user_ensure_first()
    assert password and len(password) >= 12
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.check_password(password)
    assert admin_user_ensure_first() is None
    assert get_user_model().objects.filter(is_superuser=True).count() == 1
