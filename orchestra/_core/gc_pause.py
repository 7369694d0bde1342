"""Holding off Python's cyclic garbage collector while a code location builds its large, long-lived structures."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

# Whether the last look found objects someone else froze (`gc.freeze`, e.g. a worker before forking):
# `gc.get_freeze_count()` walks every frozen object, so a definition decorator, which runs thousands
# of times per location, looks once and then trusts this until a batch-sized pause looks again.
_frozen_elsewhere = False

T = TypeVar("T")


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
            _promote(check=True)
            gc.enable()


def definition_paused() -> bool:
    """Disable the collector while one definition (an asset, its op and spec) is built; pass the result
    to `definition_built`.

    Decorating 2,000 assets allocates about 100,000 objects that live as long as the location; the
    collections they trigger found nothing to free and, with one full collection over all of them, were
    a fifth of importing the module. Cheaper than `collection_paused` (no context manager, no walk
    of frozen objects): it runs once per definition.
    """
    enabled = gc.isenabled()
    if enabled:
        gc.disable()
    return enabled


def definition_built(enabled: bool) -> None:
    """Undo `definition_paused`: what was built goes to the oldest generation and collection resumes."""
    if enabled:
        _promote(check=False)
        gc.enable()


def _promote(*, check: bool) -> None:
    # Everything allocated inside is in the youngest generation: the next collections would walk all
    # of it (tens of ms after a 2,000-asset snapshot) only to promote it. Move it (and whatever else is
    # tracked) straight to the oldest generation instead, where the next full collection still
    # examines it, so nothing that does become garbage is kept. Freezing and unfreezing splice lists
    # (constant time) and reset the young generation's allocation count. Not when someone froze
    # objects on purpose (e.g. before forking): unfreezing would hand theirs back to the collector.
    global _frozen_elsewhere
    if _frozen_elsewhere and not check:
        return
    _frozen_elsewhere = gc.get_freeze_count() != 0  # constant time when nothing is frozen
    if not _frozen_elsewhere:
        gc.freeze()
        gc.unfreeze()


def built_while_paused(build: Callable[[Any], T]) -> Callable[[Any], T]:
    """`build` wrapped in `definition_paused`/`definition_built`: what a definition decorator returns."""

    def decorate(fn: Any) -> T:
        enabled = definition_paused()
        try:
            return build(fn)
        finally:
            definition_built(enabled)

    return decorate
