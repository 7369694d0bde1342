"""A finished run of 1,000 steps and 50,000 events, written through the event store in a few batches (no
execution): the shape the run page must stay usable with. Shared by tests/ui and bench/ui_pages.py."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from runs import services
from runs.services import EventInput

STEPS = 1_000
EVENTS = 50_000


def big_run_create(
    *, job_name: str, location_name: str, steps: int = STEPS, events: int = EVENTS, finished: bool = True
) -> str:
    """Create the run and its events; answer its id. Each step has a start, log lines and a success."""
    run = services.run_create(job_name=job_name, location_name=location_name)
    t0 = timezone.now() - timedelta(hours=1)
    logs_per_step = max(0, (events - 2 - 2 * steps) // steps)
    filler = events - 2 - steps * (2 + logs_per_step) + (0 if finished else 1)
    batch: list[EventInput] = [EventInput(event_type="RUN_START", timestamp=t0)]
    batch.extend(EventInput(message=f"engine line {n}", timestamp=t0) for n in range(max(0, filler)))
    for number in range(steps):
        key = f"step_{number:04d}"
        at = t0 + timedelta(seconds=number * 3)
        batch.append(EventInput(event_type="STEP_START", step_key=key, timestamp=at))
        batch.extend(
            EventInput(
                message=f"{key} line {line}", step_key=key, timestamp=at + timedelta(milliseconds=line)
            )
            for line in range(logs_per_step)
        )
        batch.append(EventInput(event_type="STEP_SUCCESS", step_key=key, timestamp=at + timedelta(seconds=2)))
        if len(batch) >= 5_000:
            services.event_store(run_id=run.run_id, events=batch)
            batch = []
    if finished:
        batch.append(EventInput(event_type="RUN_SUCCESS", timestamp=t0 + timedelta(seconds=steps * 3)))
    if batch:
        services.event_store(run_id=run.run_id, events=batch)
    return run.run_id
