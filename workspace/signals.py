"""Signals the workspace sends, for apps above it (scheduling) that react without being imported here."""

from django.dispatch import Signal

# Sent after a location's snapshot (or load error) is committed; kwargs: location_name.
location_stored = Signal()
