"""The storage-backed `DagsterInstance` of `$ORCHESTRA_HOME`: what the SDK's `DagsterInstance.get()` resolves.

The SDK imports no Django, so `DagsterInstance.get()` finds `instance_for_home` by dotted path and
this module sets Django up before the runs app's models are imported.
"""

from __future__ import annotations

import os
from typing import Any


def setup() -> None:
    """Configure Django from ORCHESTRA_HOME (once per process; later calls return at once)."""
    from django.apps import apps

    if apps.ready:
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestra_site.settings")
    import django

    django.setup()


def instance_for_home(home: str | None = None, **storage_options: Any) -> Any:
    """A `DagsterInstance` whose runs and events live in the instance's database.

    `storage_options` go to `DjangoEventLogStorage` (`max_batch`, `max_delay`, `write_guard`).
    """
    if home is not None:
        os.environ["ORCHESTRA_HOME"] = str(home)
    setup()
    from orchestra._core.instance import DagsterInstance
    from runs.compute_logs import compute_log_manager
    from runs.instance_storage import DjangoEventLogStorage, DjangoRunStorage

    return DagsterInstance(
        DjangoRunStorage(), DjangoEventLogStorage(**storage_options), is_ephemeral=False,
        storage_dir=os.environ["ORCHESTRA_HOME"], compute_log_manager=compute_log_manager(),
    )
