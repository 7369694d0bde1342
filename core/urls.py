"""Logging in and out of the UI (Django's own views, with the UI's look), and the audit log page."""

from django.contrib.auth import views as auth_views
from django.urls import path

from core import views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="ui/login.html", redirect_authenticated_user=True),
         name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("deployment/audit", views.audit_log, name="audit-log"),
    path("deployment/tokens", views.tokens, name="tokens"),
    path("deployment/tokens/<str:prefix>/revoke", views.token_revoke_view, name="token-revoke"),
]
