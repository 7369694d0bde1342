"""Abstract models shared by the apps, and who may do what where: per-location role grants."""

import hashlib

from django.conf import settings
from django.db import models


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class RoleName(models.TextChoices):
    """The roles as stored: the labels of `core.permissions.Role` (also the names of the seeded groups)."""

    VIEWER = "viewer"
    LAUNCHER = "launcher"
    EDITOR = "editor"
    ADMIN = "admin"


class LocationRole(TimestampedModel):
    """A role granted to a user in one code location; instance-wide roles are Django group memberships."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="location_roles")
    role = models.CharField(max_length=16, choices=RoleName.choices)
    location_name = models.CharField(max_length=255)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "location_name"], name="core_locationrole_unique_user_location"),
        ]
        ordering = ["location_name", "user_id"]

    def __str__(self) -> str:
        return f"{self.user} is {self.role} in {self.location_name}"


class AuditEntry(models.Model):
    """One state change: who (the `core.permissions.Actor`, copied, so it outlives users and tokens),
    what (`action` on a target), when, from where, and bounded details. Written by `audit_record` in
    the transaction of the change it records; never updated."""

    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField(db_index=True)
    actor_kind = models.CharField(max_length=16)
    actor_name = models.CharField(max_length=255)
    actor_user_id = models.BigIntegerField(null=True, blank=True)
    actor_token_id = models.BigIntegerField(null=True, blank=True)
    address = models.CharField(max_length=64, blank=True, default="")
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64)
    target_id = models.CharField(max_length=255, blank=True, default="")
    location_name = models.CharField(max_length=255, blank=True, default="")
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "audit entries"
        # The audit page pages by id, newest first, under one optional filter of each kind.
        indexes = [
            models.Index(fields=["actor_kind", "actor_name", "id"], name="core_audit_actor_idx"),
            models.Index(fields=["action", "id"], name="core_audit_action_idx"),
            models.Index(fields=["target_type", "target_id", "id"], name="core_audit_target_idx"),
            models.Index(fields=["location_name", "id"], name="core_audit_location_idx"),
        ]

    @property
    def actor_label(self) -> str:
        return f"{self.actor_kind}:{self.actor_name}"

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} {self.target_type}:{self.target_id}"


class ApiToken(models.Model):
    """A credential for API clients, sent as `Authorization: Bearer <plaintext>`; acts as `user` with
    its own `role`, instance-wide or in one code location. The plaintext is `orc_<prefix>_<secret>`:
    `prefix` names the token in lists and finds its row, and only a SHA-256 of the whole plaintext is
    stored (the secret is 32 random bytes, so a fast hash is enough; no salt or stretching needed)."""

    SCHEME = "orc"

    id = models.BigAutoField(primary_key=True)
    name = models.CharField(max_length=255)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    role = models.CharField(max_length=16, choices=RoleName.choices)
    location_name = models.CharField(max_length=255, null=True, blank=True)  # None: instance-wide
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    def is_active(self, now) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    @staticmethod
    def hash_plaintext(plaintext: str) -> str:
        return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()
