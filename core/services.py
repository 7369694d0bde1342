"""State changes that belong to no single workflow app: the instance's first administrator."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.db import transaction


@transaction.atomic
def admin_user_ensure_first(*, username: str = "admin") -> str | None:
    """Create a superuser when the instance has none; answer its generated password, else None.

    The password is returned once so the caller can show it; it is stored only as a hash.
    """
    users = get_user_model()
    if users.objects.filter(is_superuser=True).exists():
        return None
    password = secrets.token_urlsafe(12)
    users.objects.create_superuser(username, "", password)
    return password
