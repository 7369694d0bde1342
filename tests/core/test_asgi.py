"""The webserver's ASGI handler keeps request threads (and their database connections) between requests
(`core.asgi`), while concurrent requests still run on threads of their own."""

from __future__ import annotations

import asyncio
import gc
import json
import threading

import pytest
from django.db import connection, connections
from django.http import JsonResponse
from django.urls import path

from core.asgi import IDLE_THREADS, ASGIHandler

pytestmark = pytest.mark.django_db(transaction=True)

_barrier = threading.Barrier(2, timeout=10)


def _where(request):
    connection.ensure_connection()
    return JsonResponse({"thread": threading.get_ident(), "connection": id(connection.connection)})


def _together(request):
    _barrier.wait()  # both requests are in a view at the same time, or this times out
    return _where(request)


urlpatterns = [path("where", _where), path("together", _together)]


@pytest.fixture
def handler(settings):
    settings.ROOT_URLCONF = __name__
    settings.ORCHESTRA_AUTH_MODE = "none"
    _barrier.reset()
    handler = ASGIHandler()
    yield handler
    gc.unfreeze()
    for thread in handler._idle:  # their connections are kept for CONN_MAX_AGE: close them
        thread.submit(connections.close_all).result()
        thread.shutdown()


async def _get(handler, url: str) -> dict:
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": url, "raw_path": url.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"host", b"127.0.0.1")], "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000)}
    received = False
    sent: list[dict] = []

    async def receive():
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(3600)

    async def send(message):
        sent.append(message)

    await handler(scope, receive, send)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return json.loads(body) if body else {}


def test_requests_one_after_another_run_on_one_thread_with_one_database_connection(handler):
    async def two():
        return await _get(handler, "/where"), await _get(handler, "/where")

    first, second = asyncio.run(two())
    assert first["thread"] == second["thread"] != threading.get_ident()
    assert first["connection"] == second["connection"]  # kept for CONN_MAX_AGE, as a WSGI thread keeps it


def test_concurrent_requests_run_on_threads_of_their_own_and_both_are_kept(handler):
    async def both():
        return await asyncio.gather(_get(handler, "/together"), _get(handler, "/together"))

    first, second = asyncio.run(both())
    assert first["thread"] != second["thread"]
    assert len(handler._idle) == 2 <= IDLE_THREADS

    async def again():
        return await _get(handler, "/where")

    assert asyncio.run(again())["thread"] in (first["thread"], second["thread"])

