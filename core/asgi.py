"""Django's ASGI handler, with the thread each request's synchronous code runs in kept for later requests.

Django runs a request's middleware and view in a thread of its own (asgiref's
`ThreadSensitiveContext`): it starts a thread for every request, and another to join it afterwards.
Database connections belong to a thread, so every request also opened a new connection, whatever
`CONN_MAX_AGE` says. Together that was about 1.5 ms of a 5 ms `runsOrError` page. `ASGIHandler`
gives each request a thread of its own too, but takes it from a pool of idle ones and puts it back
afterwards, so the thread — and its connection, kept for `CONN_MAX_AGE` — serves the next request, as
a WSGI server's threads do. Concurrent requests still get a thread each; at most `IDLE_THREADS`
wait in the pool (each may hold a database connection), and a thread that is somehow still busy when
its request ends is let go rather than reused.
"""

from __future__ import annotations

import gc
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext
from django.core.handlers.asgi import ASGIHandler as DjangoASGIHandler

IDLE_THREADS = 8


class _RequestThread(ThreadPoolExecutor):
    """One thread that runs one request's synchronous code at a time, and knows whether it is idle."""

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="request")
        self.pending: set[Future] = set()

    def submit(self, fn, /, *args: Any, **kwargs: Any) -> Future:
        future = super().submit(fn, *args, **kwargs)
        self.pending.add(future)
        future.add_done_callback(self.pending.discard)
        return future


class ASGIHandler(DjangoASGIHandler):
    """Django's handler, each request's synchronous code in a pooled thread (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self._idle: list[_RequestThread] = []  # used from the event loop's thread only
        freeze_after_loading_urls()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        thread = self._idle.pop() if self._idle else _RequestThread()
        try:
            async with ThreadSensitiveContext(executor=thread):
                await self.handle(scope, receive, send)
        finally:
            if not thread.pending and len(self._idle) < IDLE_THREADS:
                self._idle.append(thread)
            else:
                thread.shutdown(wait=False)


def freeze_after_loading_urls() -> None:
    """Import every app's URLs (views, the GraphQL schema, the REST API), then move everything loaded to
    the collector's permanent generation.

    A full collection otherwise walks those ~140,000 objects every few hundred requests: one took
    300 ms, a pause every request in flight shares. Collections of what requests create go on as usual.
    """
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports the URLconf and everything it names
    gc.collect()
    gc.freeze()
