"""The admin: schedule/sensor state, ticks and backfills listed in constant queries; actions go through services."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_celery_beat.models import PeriodicTask

from scheduling.beat import task_name
from scheduling.models import InstigatorState, Tick, TickStatus

pytestmark = pytest.mark.django_db(transaction=True)


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_changelists_take_constant_queries(admin_client, location):
    state = InstigatorState.objects.get(name="hourly")
    Tick.objects.create(state=state, kind="SCHEDULE", status=TickStatus.SUCCESS, scheduled_time=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    few = {url: queries(admin_client, url) for url in ("/admin/scheduling/tick/", "/admin/scheduling/instigatorstate/")}
    for hour in range(1, 20):
        Tick.objects.create(state=state, kind="SCHEDULE", status=TickStatus.SKIPPED,
                            scheduled_time=dt.datetime(2026, 1, 1, hour, tzinfo=dt.UTC))
    assert {url: queries(admin_client, url) for url in few} == few
    assert queries(admin_client, "/admin/scheduling/backfill/") > 0


def test_the_stop_action_stops_through_the_service_and_disables_the_beat_row(admin_client, location):
    state = InstigatorState.objects.get(name="hourly")
    response = admin_client.post("/admin/scheduling/instigatorstate/", {"action": "stop", "_selected_action": [state.pk]})
    assert response.status_code == 302
    state.refresh_from_db()
    assert (state.status, state.status_overridden) == ("STOPPED", True)
    assert PeriodicTask.objects.get(name=task_name(state)).enabled is False
