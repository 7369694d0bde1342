"""Kill points for the fault-injection suite (`tests/faults/`): a process SIGKILLs itself at a named point.

Off unless `ORCHESTRA_FAULT_KILL_AT` is set in the process's environment (only the fault suite sets it),
so a point costs one dictionary look-up. The points:

- `event.before:<EVENT_TYPE>`: before a run event of that type is written (`runs.services.event_store`),
  e.g. `event.before:RUN_SUCCESS`, a run worker dying as it finishes;
- `event.after:<EVENT_TYPE>`: once the transaction that wrote it has committed, e.g.
  `event.after:RUN_DEQUEUED` (a daemon between claiming a queued run and launching it),
  `event.after:RUN_STARTING` (between recording the launch and starting the worker),
  `event.after:STEP_START` (a run worker mid-step);
- `tick.evaluating` (a tick claimed, its evaluation not back), `tick.launching` (its runs submitted,
  not committed), `tick.recorded` (runs and outcome committed, nothing after).
"""

from __future__ import annotations

import os
import signal

KILL_AT_ENV = "ORCHESTRA_FAULT_KILL_AT"


def armed() -> bool:
    """Whether any kill point is set in this process (callers that build point names check this first)."""
    return KILL_AT_ENV in os.environ


def fault_point(name: str) -> None:
    """SIGKILL this process now if `ORCHESTRA_FAULT_KILL_AT` is `name`."""
    if os.environ.get(KILL_AT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def fault_point_on_commit(name: str) -> None:
    """SIGKILL this process once the current transaction commits, if `ORCHESTRA_FAULT_KILL_AT` is `name`."""
    if os.environ.get(KILL_AT_ENV) == name:
        from django.db import transaction

        transaction.on_commit(lambda: os.kill(os.getpid(), signal.SIGKILL))
