"""Architecture rules that a reviewer would otherwise have to remember."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def _fresh_python(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_importing_the_sdk_loads_no_server_code():
    loaded = _fresh_python(
        "import sys, orchestra\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'django', 'celery', 'kombu', 'core', 'runs', 'workspace', 'launchers', 'scheduling', 'orchestra_site'})\n"
        "print(','.join(bad))"
    )
    assert loaded == ""


def test_every_public_name_resolves():
    missing = _fresh_python(
        "import orchestra\n"
        "bad = []\n"
        "for name in orchestra.__all__:\n"
        "    try:\n"
        "        getattr(orchestra, name)\n"
        "    except Exception as exc:\n"
        "        bad.append(f'{name}: {exc!r}')\n"
        "print('; '.join(bad))"
    )
    assert missing == ""
