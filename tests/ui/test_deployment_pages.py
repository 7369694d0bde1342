"""The deployment page's run queue (limits and their current use) and the instance configuration page."""

from __future__ import annotations

import dataclasses
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.instance_config import ClassEntry, RunQueueConfig, TagConcurrencyLimit
from runs import services
from runs.models import Run, RunStatus
from tests.workspace.stored import store_location

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def limited(tmp_path, settings):
    queue = RunQueueConfig(max_concurrent_runs=3, tag_concurrency_limits=[
        TagConcurrencyLimit(key="team", value="data", limit=1),
        TagConcurrencyLimit(key="db", value={"applyLimitPerUniqueValue": True}, limit=2)])
    config = settings.INSTANCE.config.model_copy(update={"run_queue": queue, "run_coordinator": None})
    settings.INSTANCE = dataclasses.replace(settings.INSTANCE, config=config)
    return store_location(tmp_path)


def _started(tags: dict) -> Run:
    run = services.run_create(job_name="plain", location_name="data", tags=tags)
    Run.objects.filter(pk=run.pk).update(status=RunStatus.STARTED)
    return run


def test_limits_show_their_current_use(limited, client):
    _started({"team": "data", "db": "pg"})
    _started({"db": "pg"})
    _started({"db": "mysql"})
    services.run_create(job_name="plain", location_name="data")  # stays QUEUED
    Run.objects.filter(status=RunStatus.NOT_STARTED).update(status=RunStatus.QUEUED)
    html = client.get("/deployment/").content.decode()
    rows = dict(re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td><td>\d+</td></tr>", html))
    assert rows["all runs (max_concurrent_runs)"] == "3"
    assert rows["tag team=data"] == "1"
    assert rows["tag db=pg (per value)"] == "2" and rows["tag db=mysql (per value)"] == "1"
    assert "3 runs in progress, 1 queued." in html


def test_the_queue_section_makes_a_constant_number_of_queries(limited, client):
    counts = []
    for n in (1, 12):
        for i in range(n):
            _started({"db": f"db{i % 3}"})
        with CaptureQueriesContext(connection) as queries:
            client.get("/deployment/")
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_without_a_queue_the_page_says_runs_launch_at_once(tmp_path, client):
    store_location(tmp_path)
    assert "no queue and no limits" in client.get("/deployment/").content.decode()


def test_the_instance_configuration_is_shown_with_secrets_masked(client, settings):
    launcher = ClassEntry.model_validate({"module": "launchers.subprocess", "class": "SubprocessRunLauncher",
                                          "config": {"env_vars": ["A"], "api_token": "s3cr3t-value"}})
    config = settings.INSTANCE.config.model_copy(update={"run_launcher": launcher})
    settings.INSTANCE = dataclasses.replace(settings.INSTANCE, config=config)
    html = client.get("/deployment/config").content.decode()
    assert 'id="instance-config"' in html and "run_launcher" in html
    assert "s3cr3t-value" not in html
