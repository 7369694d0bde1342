"""The admin site, entered only by the admin role (a session user: API tokens never reach the admin)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from core.permissions import Role, user_role


def is_instance_admin(user) -> bool:
    return user_role(user) is Role.ADMIN


class AdminLoginForm(AdminAuthenticationForm):
    """The admin's login form, asking for the admin role rather than Django's `is_staff` flag."""

    def confirm_login_allowed(self, user):
        AuthenticationForm.confirm_login_allowed(self, user)
        if not is_instance_admin(user):
            raise forms.ValidationError(self.error_messages["invalid_login"], code="invalid_login",
                                        params={"username": self.username_field.verbose_name})


class OrchestraAdminSite(admin.AdminSite):
    site_header = "Orchestra administration"
    site_title = "Orchestra admin"
    login_form = AdminLoginForm

    def has_permission(self, request) -> bool:
        return getattr(request, "orchestra_token", None) is None and is_instance_admin(request.user)
