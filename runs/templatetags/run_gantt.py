"""`{% step_gantt run steps as gantt %}`: each step of a run placed on the run's time span, in percent, for
the run page's Gantt chart (re-rendered with the steps on live polls); `{% step_rows %}` and `{% gantt_rows %}`
render the step list's and the chart's rows; `{% with_planned_steps %}` adds the steps a finished run planned
and never started, for the step picker."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

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


# A run of 1,000 steps renders its step list and chart on every page load and on each live poll that brings a
# step event: built here in one pass (several times faster than a template loop with an include per row),
# every step key and status escaped as the template would.


def _clock(value: Any) -> str:
    return timezone.localtime(value).strftime("%H:%M:%S") if value else "—"


@register.simple_tag
def step_rows(steps: list[Any], can_pick: bool = False) -> str:
    """The rows of the step list: key, status (as text), start and end (H:M:S), attempts; with the picker's
    checkbox when `can_pick`."""
    out = []
    for step in steps:
        key, status = escape(step.step_key), escape(step.status)
        pick = (f'<td><input type="checkbox" name="step" value="{key}" id="pick-{key}" form="reexecute-selected" '
                f'aria-label="pick {key}"></td>') if can_pick else ""
        out.append(f'<tr data-step="{key}">{pick}<td>{key}</td><td><span class="status status-{status.lower()}">'
                   f"{status}</span></td><td>{_clock(step.start_time)}</td><td>{_clock(step.end_time)}</td>"
                   f"<td>{int(step.attempts)}</td></tr>\n")
    return mark_safe("".join(out))  # noqa: S308 - every value from the run is escaped above


@register.simple_tag
def with_planned_steps(run: Any, steps: list[Any]) -> list[Any]:
    """`steps` followed by the steps `run` planned that never started (NOT_STARTED), so that re-executing
    selected steps can pick them too; just `steps` when the plan cannot be read (the job is gone)."""
    from core.exceptions import NotFound
    from runs.reexecution import planned_steps
    from runs.selectors import StepStats

    try:
        planned = planned_steps(run)
    except NotFound:
        return steps
    seen = {step.step_key.split("[", 1)[0] for step in steps} | {step.step_key for step in steps}
    return [*steps, *(StepStats(step_key=key) for key in planned if key not in seen)]


@register.simple_tag
def gantt_rows(gantt: dict[str, Any], can_pick: bool = False) -> str:
    """The rows of the Gantt chart; when `can_pick`, the step name and lane are labels of the step's checkbox."""
    out = []
    tag = "label" if can_pick else "span"
    for row in gantt["rows"]:
        step = row["step"]
        key, status = escape(step.step_key), escape(step.status)
        target = f' for="pick-{key}"' if can_pick else ""
        bar = ""
        if not row.get("pending"):
            attempts = f" · {int(step.attempts)} attempts" if step.attempts > 1 else ""
            running = " running" if row.get("running") else ""
            bar = (f'<span class="gantt-bar status-bg-{status.lower()}{running}" style="left: {row["left"]}%; '
                   f'width: {row["width"]}%" title="{key} · {status} · {row["seconds"]:.2f} s{attempts}"></span>')
        out.append(f'<div class="gantt-row" role="row" data-step="{key}"><{tag} class="gantt-step" role="rowheader"'
                   f"{target}>{key}</{tag}>\n<{tag} class=\"gantt-lane\"{target}>{bar}</{tag}></div>\n")
    return mark_safe("".join(out))  # noqa: S308 - every value from the run is escaped above


@register.simple_tag
def step_options(steps: list[Any]) -> str:
    """The event-log filter's step choices (`<option>`s of a datalist)."""
    return mark_safe("".join(f'<option value="{escape(step.step_key)}">' for step in steps))  # noqa: S308
