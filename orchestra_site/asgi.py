"""ASGI entry points: `application` for the webserver, `dev_application` for `orchestra dev`'s webserver."""

import asyncio
import json
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestra_site.settings")
django.setup(set_prefix=False)  # what django.core.asgi.get_asgi_application does, with Orchestra's handler

from core.asgi import ASGIHandler  # noqa: E402 - needs the settings

application = ASGIHandler()

# Set by `orchestra dev` (a JSON list of workspace files): its webserver also supervises the code servers.
DEV_WORKSPACE_ENV = "ORCHESTRA_DEV_WORKSPACE_FILES"


async def dev_application(scope, receive, send):
    """`application`, plus the workspace's code servers started and stopped with the server (ASGI lifespan).

    `orchestra dev` runs one machine's whole deployment; supervising the code servers from a thread of
    the webserver saves the separate `orchestra workspace load --serve` process (a Django process of its
    own, ~70 MiB). A workspace file that does not parse fails the start-up, so uvicorn exits and `dev`
    stops everything with the error in its output.
    """
    if scope["type"] != "lifespan":
        return await application(scope, receive, send)
    host = None
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                host = _workspace_host()
            except Exception as exc:
                await send({"type": "lifespan.startup.failed", "message": f"{type(exc).__name__}: {exc}"})
                return
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if host is not None:
                await asyncio.to_thread(host.stop)
            await send({"type": "lifespan.shutdown.complete"})
            return


def _workspace_host():
    files = json.loads(os.environ.get(DEV_WORKSPACE_ENV) or "[]")
    if not files:
        return None
    from workspace.hosting import WorkspaceHost

    host = WorkspaceHost(files)
    host.start()
    return host
