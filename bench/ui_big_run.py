"""The run page against a run of 1,000 steps and 50,000 events (written through the event store, not
executed): server time, SQL queries, and bytes (raw and gzip) of the page, of "load earlier events", of an
idle live poll and of polls that bring a log line or a step event to a still-running run (the `RunLive` GraphQL
query static/ui/run_live.js sends), and of the poll after a step event, which reads the 1,000 steps' stats.

Each URL is requested `--requests` times with Django's test client after one warm-up; reported: median and
p95 server time, queries per request and the answer's size. Uses a fresh ORCHESTRA_HOME on SQLite, or
PostgreSQL with `--pg-url` (the database is created and dropped).

    /work/venv/bin/python bench/ui_big_run.py [--requests 20] [--pg-url postgresql://...]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

DEFS = """
import orchestra as dg


@dg.op
def step():
    return 1


@dg.job
def big():
    step()
"""


def child(requests: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from orchestra._core.definitions_class.module_loading import load_definitions
    from orchestra._core.snapshot.location import snapshot_from_definitions
    from runs import services
    from runs.models import EventLogEntry
    from runs.services import EventInput
    from tests.ui.big_run import big_run_create
    from workspace.models import CodeLocation, LocationStatus

    home = Path(os.environ["ORCHESTRA_HOME"])
    (home / "defs.py").write_text(DEFS)
    snapshot = snapshot_from_definitions(load_definitions(python_file=str(home / "defs.py")), "bench")
    CodeLocation.objects.create(
        name="bench",
        status=LocationStatus.LOADED,
        snapshot=snapshot,
        snapshot_id=snapshot["snapshot_id"],
        origin={"name": "bench", "kind": "python_file", "python_file": str(home / "defs.py")},
    )
    start = time.perf_counter()
    finished = big_run_create(job_name="big", location_name="bench")
    running = big_run_create(job_name="big", location_name="bench", finished=False)
    print(
        f"two runs of 1,000 steps and 50,000 events written in {time.perf_counter() - start:.1f} s; "
        f"{EventLogEntry.objects.count()} events; {connection.vendor}"
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    client = Client(HTTP_HOST="127.0.0.1")
    page = client.get(f"/runs/{finished}/").content.decode()
    earlier = re.search(r'id="event-earlier" href="[^"]*" hx-get="([^"]+)"', page).group(1)

    from tests.ui.live import live_query

    query = live_query()

    def poll(after: int, steps: bool = False) -> dict:  # the variables of one RunLive poll, as the page sends them
        return {"query": query, "operationName": "RunLive", "variables": {
            "runId": running, "after": str(after), "limit": 500, "steps": steps, "plan": False, "tail": False,
            "logKey": [running], "logCursor": None, "logLimit": 65536}}

    def newest() -> int:
        return EventLogEntry.objects.filter(run_id=running).order_by("-id").values_list("id", flat=True)[0]

    last = newest()

    def log_line() -> dict:  # the poll after the newest event, once one more log line arrived
        cursor = newest()
        services.event_store(
            run_id=running, events=[EventInput(message="one more line", step_key="step_0999")]
        )
        return poll(cursor)

    def step_event() -> dict:  # the same with a step event (the page then asks for the step stats)
        cursor = newest()
        services.event_store(
            run_id=running, events=[EventInput(event_type="STEP_START", step_key="step_0999")]
        )
        return poll(cursor)

    cases = [
        ("/runs/<finished>/", lambda: f"/runs/{finished}/"),
        ("/runs/<running>/", lambda: f"/runs/{running}/"),
        ("load earlier events (htmx)", lambda: earlier),
        ("idle poll of the running run", lambda: poll(last + 10**9)),
        ("poll reading 1,000 steps' stats", lambda: poll(last + 10**9, steps=True)),
    ]
    print(f"{'request':34} {'median':>9} {'p95':>9} {'queries':>8} {'bytes':>9} {'gzip':>8}")
    for label, url_of in cases:
        measure(client, label, url_of, requests, CaptureQueriesContext, connection)
    # Polls that bring one new event to the running run.
    for label, make in (("poll bringing a log line", log_line), ("poll bringing a step event", step_event)):
        measure(client, label, make, requests, CaptureQueriesContext, connection)
    compare_rendering(finished, requests)


# The rows as template loops (how the page rendered them before `{% step_rows %}`, `{% gantt_rows %}` and
# `{% event_rows %}`), rendered side by side with the one-pass tags on the same 1,000 steps and 500 events.
LOOP_STEPS = """{% for step in steps %}
<tr><td>{{ step.step_key }}</td><td>{% include "ui/_status.html" with status=step.status %}</td>
<td>{{ step.start_time|date:"H:i:s"|default:"—" }}</td><td>{{ step.end_time|date:"H:i:s"|default:"—" }}</td><td>{{ step.attempts }}</td></tr>
{% endfor %}"""
LOOP_GANTT = """{% load run_gantt %}{% step_gantt run steps as gantt %}{% for row in gantt.rows %}<div class="gantt-row" role="row"><span class="gantt-step" role="rowheader">{{ row.step.step_key }}</span>
<span class="gantt-lane">{% if not row.pending %}<span class="gantt-bar status-bg-{{ row.step.status|lower }}{% if row.running %} running{% endif %}" style="left: {{ row.left }}%; width: {{ row.width }}%" title="{{ row.step.step_key }} · {{ row.step.status }} · {{ row.seconds|floatformat:2 }} s{% if row.step.attempts > 1 %} · {{ row.step.attempts }} attempts{% endif %}"></span>{% endif %}</span></div>
{% endfor %}"""
LOOP_EVENTS = """{% for row in events %}{% with e=row.event %}<div class="event lvl-{{ row.level|lower }}" role="row" id="event-{{ e.id }}" data-type="{{ e.event_type|default:'LOG' }}" data-step="{{ e.step_key|default:'' }}" data-level="{{ row.level }}"><span>{{ e.timestamp|time:"H:i:s.u"|slice:":12" }}</span><span>{{ e.event_type|default:"LOG" }}</span><span>{{ e.step_key|default:"" }}</span><span>{{ row.level }}</span><span class="msg">{{ e.message }}{% if e.payload.error %}{% include "ui/_error.html" with error=e.payload.error %}{% endif %}{% if e.payload.metadata %}<dl class="metadata">{% for m in e.payload.metadata %}<dt>{{ m.label }}</dt><dd>{{ m.data }}</dd>{% endfor %}</dl>{% endif %}</span></div>
{% endwith %}{% endfor %}"""
ONE_PASS_STEPS = "{% load run_gantt %}{% step_rows steps %}"
ONE_PASS_GANTT = "{% load run_gantt %}{% step_gantt run steps as gantt %}{% gantt_rows gantt %}"
ONE_PASS_EVENTS = "{% load run_events %}{% event_rows events %}"


def compare_rendering(run_id: str, requests: int) -> None:
    from django.template import Context, Template

    from runs import selectors
    from runs.views import EVENT_PAGE, _event_rows

    run = selectors.run_get(run_id=run_id)
    context = {
        "run": run,
        "steps": selectors.run_step_stats(run_id=run_id),
        "events": _event_rows(selectors.events_tail(run_id=run_id, limit=EVENT_PAGE).events),
    }
    print(f"\n{'rendering (side by side)':34} {'loop':>9} {'one pass':>9}")
    for label, loop, one_pass in (
        ("1,000 step rows", LOOP_STEPS, ONE_PASS_STEPS),
        ("1,000 Gantt rows", LOOP_GANTT, ONE_PASS_GANTT),
        ("500 event rows", LOOP_EVENTS, ONE_PASS_EVENTS),
    ):
        timings: dict[str, list[float]] = {"loop": [], "one": []}
        templates = {"loop": Template(loop), "one": Template(one_pass)}
        for _ in range(requests):
            for name, compiled in templates.items():
                start = time.perf_counter()
                compiled.render(Context(context))
                timings[name].append(time.perf_counter() - start)
        print(
            f"{label:34} {statistics.median(timings['loop']) * 1000:7.1f}ms "
            f"{statistics.median(timings['one']) * 1000:7.1f}ms"
        )


def _send(client, url):
    if isinstance(url, dict):  # a GraphQL poll
        return client.post("/graphql", json.dumps(url), content_type="application/json")
    return client.get(url, HTTP_HX_REQUEST="true") if "events" in url else client.get(url)


def measure(client, label, url_of, requests, capture, connection) -> None:
    _send(client, url_of())
    times, counts, size, packed = [], set(), 0, 0
    for _ in range(requests):
        url = url_of()
        with capture(connection) as queries:
            start = time.perf_counter()
            response = _send(client, url)
            times.append(time.perf_counter() - start)
        assert response.status_code == 200 and b'"errors"' not in response.content[:20], response.content[:300]
        counts.add(len(queries))
        size, packed = len(response.content), len(gzip.compress(response.content))
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    print(
        f"{label:34} {statistics.median(ordered) * 1000:7.1f}ms {p95 * 1000:7.1f}ms "
        f"{','.join(map(str, sorted(counts))):>8} {size:>9,} {packed:>8,}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--pg-url", default=None, help="PostgreSQL URL of a database to create, use and drop")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.requests)
        return
    sys.path.insert(0, str(REPO))
    from bench._fixtures import run_child_in_fresh_home

    run_child_in_fresh_home(
        __file__, ["--requests", str(args.requests)], pg_url=args.pg_url, prefix="ui-big-run-"
    )


if __name__ == "__main__":
    main()
