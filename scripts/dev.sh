#!/usr/bin/env bash
# Set up a virtualenv (.venv, or $VENV) and start Orchestra: webserver, daemon and worker on SQLite
# with the embedded broker, in $ORCHESTRA_HOME (default ./.orchestra). Extra arguments go to `orchestra dev`.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e .
exec "$VENV/bin/orchestra" dev "$@"
