#!/usr/bin/env bash
# Run Orchestra's checks and tests. Sets up a virtualenv (.venv, or $VENV) with the test extras first.
#   - ruff and the import-layering contracts;
#   - the whole suite on SQLite with the embedded broker (what a new user gets);
#   - the server suite again on the machine's PostgreSQL and Redis when they answer
#     (ORCHESTRA_REQUIRE_SERVICES=1 turns an absent service into a failure instead of a skip).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[test]'
PATH="$(cd "$VENV/bin" && pwd):$PATH"
export PATH

echo "== ruff"
ruff check .
echo "== import contracts"
lint-imports --no-cache

# Tests run in parallel (pytest-xdist): most of their time is spent waiting on real processes, so two
# workers nearly halve the wall time on two cores. Each worker has its own SQLite home, PostgreSQL test
# database and Redis database (tests/plugin_env.py). ORCHESTRA_TEST_WORKERS=0 runs them in one process.
# `loadgroup`: tests marked with one xdist_group (a module sharing one deployment) stay on one worker.
WORKERS="${ORCHESTRA_TEST_WORKERS:-2}"
PARALLEL=()
if [ "$WORKERS" != "0" ]; then PARALLEL=(-n "$WORKERS" --dist loadgroup); fi

echo "== tests on SQLite with the embedded broker"
ORCHESTRA_TEST_STORAGE=sqlite ORCHESTRA_TEST_BROKER=embedded python -m pytest "${PARALLEL[@]}" --ignore=tests/browser "$@"
# The browser suite shares one `orchestra dev` (package fixture): one process, SQLite pass only (it tests
# pages, not storage).
echo "== browser tests (Chromium) on SQLite"
ORCHESTRA_TEST_STORAGE=sqlite ORCHESTRA_TEST_BROKER=embedded python -m pytest tests/browser "$@"

service_up() { python -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1)" "$1" 2>/dev/null; }
if service_up 5432 && service_up 6379; then
    echo "== server tests on PostgreSQL with the Redis broker"
    ORCHESTRA_TEST_STORAGE=postgres ORCHESTRA_TEST_BROKER=redis python -m pytest "${PARALLEL[@]}" --ignore=tests/sdk \
        --ignore=tests/browser "$@"
elif [ "${ORCHESTRA_REQUIRE_SERVICES:-}" = "1" ]; then
    echo "PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) are required but not both reachable" >&2
    exit 1
else
    echo "== PostgreSQL or Redis not reachable: skipped the PostgreSQL/Redis pass"
fi
