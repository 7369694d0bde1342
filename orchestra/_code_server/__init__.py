"""The code-location server: loads one location's definitions in its own Python and answers over HTTP + JSON.

Modules, each importing only those listed before it:

1. `location` — `LoadedLocation`: the definitions loaded once, their snapshot (or the load error as
   data), and schedule, sensor and partition evaluations with a timeout.
2. `server` — the loopback HTTP server (`ThreadingHTTPServer`) mapping routes to `LoadedLocation`.

Runs in the user's environment, so it imports no Django and nothing from the server apps. The host
side's client is `workspace.client`; the wire format is documented on `server.CodeServerHandler`.
"""

API_VERSION = 1
"""The wire format's version; every answer carries it as `api_version`, beside the Orchestra `version`."""
