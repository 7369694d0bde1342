"""Vendored libraries are served gzip-compressed to browsers that accept it (WhiteNoise picks up the
committed `<file>.gz` beside each one), and every such `.gz` holds exactly its file — a library updated
without its `.gz` fails here rather than serving stale code."""

from __future__ import annotations

import gzip

import pytest

from tests.conftest import REPO

VENDOR = REPO / "static" / "vendor"
COMPRESSED = sorted(VENDOR.rglob("*.gz"))


def test_each_vendored_gz_holds_exactly_its_file():
    assert {path.name for path in COMPRESSED} >= {"htmx.min.js.gz", "dagre.min.js.gz"}
    for path in COMPRESSED:
        original = path.with_suffix("")
        assert original.exists(), f"{path} has no uncompressed file beside it"
        assert gzip.decompress(path.read_bytes()) == original.read_bytes(), (
            f"{path} is stale: gzip -9 -n -k -f {original}"
        )


@pytest.mark.parametrize("name", ["htmx-2.0.11/htmx.min.js", "dagre-1.1.8/dagre.min.js"])
def test_a_vendored_library_is_served_compressed_when_the_browser_accepts_it(client, name):
    plain = client.get(f"/static/vendor/{name}")
    assert plain.status_code == 200 and "Content-Encoding" not in plain
    packed = client.get(f"/static/vendor/{name}", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert packed.status_code == 200 and packed["Content-Encoding"] == "gzip"
    body = b"".join(packed.streaming_content) if packed.streaming else packed.content
    assert gzip.decompress(body) == (VENDOR / name).read_bytes()
    assert len(body) < len((VENDOR / name).read_bytes()) / 2
