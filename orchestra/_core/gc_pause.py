"""Holding off Python's cyclic garbage collector while a code location builds its large, long-lived structures."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collection_paused() -> Iterator[None]:
    """Disable the cyclic collector inside the block and restore its previous state on exit.

    Resolving every job of a 2,000-asset location, or snapshotting it, allocates hundreds of thousands
    of objects that all live on; each full collection those allocations trigger re-walks every one of
    them (a third of the time spent), and none of them is garbage. Only library code that runs no
    user code of unbounded length belongs inside.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            # Everything allocated inside is in the youngest generation: the next collections would
            # walk all of it (tens of ms after a 2,000-asset snapshot) only to promote it. Move it
            # (and whatever else is tracked) straight to the oldest generation instead, where the
            # next full collection still examines it, so nothing that does become garbage is kept.
            # Not when someone froze objects on purpose (e.g. before forking): unfreezing would
            # hand theirs back to the collector.
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()
