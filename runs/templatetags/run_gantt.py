"""`{% step_gantt run steps as gantt %}`: each step of a run placed on the run's time span, in percent, for
the run page's Gantt chart (re-rendered with the steps on every live poll)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

register = template.Library()

MIN_WIDTH = 0.4  # percent: a step of a few milliseconds stays visible


@register.simple_tag
def step_gantt(run: Any, steps: list[Any]) -> dict[str, Any]:
    started = [step.start_time for step in steps if step.start_time]
    if not started:
        return {"rows": [], "seconds": 0}
    begin = min([run.started_at, *started] if run.started_at else started)
    now = timezone.now()
    ends = [step.end_time or now for step in steps if step.start_time]
    end = max([run.ended_at or now, *ends]) if run.ended_at is None else max([run.ended_at, *ends])
    span = max((end - begin).total_seconds(), 0.001)
    rows = []
    for step in sorted(steps, key=lambda s: (s.start_time is None, s.start_time or now, s.step_key)):
        if step.start_time is None:
            rows.append({"step": step, "left": "0", "width": "0", "pending": True})
            continue
        left = (step.start_time - begin).total_seconds() / span * 100
        width = max(MIN_WIDTH, ((step.end_time or now) - step.start_time).total_seconds() / span * 100)
        rows.append({"step": step, "left": f"{left:.3f}", "width": f"{min(width, 100 - left):.3f}",
                     "seconds": ((step.end_time or now) - step.start_time).total_seconds(),
                     "running": step.end_time is None})
    return {"rows": rows, "seconds": span}
