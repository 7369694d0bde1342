"""GraphiQL at /graphql for a browser, its scripts and styles served by the app itself (no CDN)."""

from __future__ import annotations

import base64
import hashlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from graphene_django.views import GraphQLView

pytestmark = pytest.mark.django_db

VENDOR = Path(settings.BASE_DIR) / "static" / "vendor" / f"graphiql-{GraphQLView.graphiql_version}"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

# Each vendored file and the SRI graphene-django gives the CDN file it replaces.
PINNED = {
    "whatwg-fetch-3.6.2/fetch.umd.js": GraphQLView.whatwg_fetch_sri,
    "react-17.0.2/react.production.min.js": GraphQLView.react_sri,
    "react-dom-17.0.2/react-dom.production.min.js": GraphQLView.react_dom_sri,
    "graphiql.min.js": GraphQLView.graphiql_sri,
    "graphiql.min.css": GraphQLView.graphiql_css_sri,
    "graphql-ws-5.13.1/graphql-ws.min.js": GraphQLView.subscriptions_transport_ws_sri,
    "plugin-explorer-0.1.15/graphiql-plugin-explorer.umd.js": GraphQLView.graphiql_plugin_explorer_sri,
    "plugin-explorer-0.1.15/style.css": GraphQLView.graphiql_plugin_explorer_css_sri,
}


class _Assets(HTMLParser):
    """The URLs of a page's scripts and stylesheets."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.stylesheets: list[str] = []
        self.attributes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.attributes += [name for name, _ in attrs]
        if tag == "script" and values.get("src"):
            self.scripts.append(values["src"])
        if tag == "link" and values.get("rel") == "stylesheet":
            self.stylesheets.append(values["href"])


def graphiql_page(client) -> tuple[str, _Assets]:
    response = client.get("/graphql", HTTP_ACCEPT=BROWSER_ACCEPT)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assets = _Assets()
    assets.feed(page)
    return page, assets


def test_a_browser_gets_the_graphiql_page(client):
    page, assets = graphiql_page(client)
    assert '<div id="editor"></div>' in page
    assert assets.scripts[-1] == "/static/graphene_django/graphiql.js"
    assert len(assets.scripts) == 7 and len(assets.stylesheets) == 2


def test_the_page_loads_nothing_from_another_origin(client):
    page, assets = graphiql_page(client)
    for url in assets.scripts + assets.stylesheets:
        assert url.startswith("/static/"), url
    assert "http://" not in page and "https://" not in page
    assert "cdn" not in page.lower()
    assert "integrity" not in assets.attributes and "crossorigin" not in assets.attributes


def test_every_script_and_stylesheet_of_the_page_is_served(client):
    _, assets = graphiql_page(client)
    for url in assets.scripts + assets.stylesheets:
        response = client.get(url)
        assert response.status_code == 200, url
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert body, url
        expected = "text/css" if url.endswith(".css") else "javascript"
        assert expected in response["Content-Type"], (url, response["Content-Type"])


def test_the_vendored_directory_holds_only_what_the_page_loads(client):
    _, assets = graphiql_page(client)
    prefix = f"/static/vendor/{VENDOR.name}/"
    loaded = {
        url.removeprefix(prefix) for url in assets.scripts + assets.stylesheets if url.startswith(prefix)
    }
    files = {path.relative_to(VENDOR).as_posix() for path in VENDOR.rglob("*") if path.is_file()}
    # A `.gz` beside a file is its precompressed copy (tests/ui/test_static_compressed.py checks it equals the file).
    extra = {name for name in files if Path(name).name not in {"LICENSE", "LICENSE.md", "README.md"}
             and not (name.endswith(".gz") and name.removesuffix(".gz") in files)}
    assert loaded == extra == set(PINNED)
    for directory in {(VENDOR / name).parent for name in files}:
        assert {"LICENSE", "LICENSE.md"} & {path.name for path in directory.iterdir()}, directory


@pytest.mark.parametrize("name", sorted(PINNED))
def test_each_vendored_file_is_the_one_graphene_django_pins(name):
    """Byte for byte the CDN file graphene-django names: an upgrade that moves a version fails here."""
    digest = base64.b64encode(hashlib.sha256((VENDOR / name).read_bytes()).digest()).decode()
    assert f"sha256-{digest}" == PINNED[name]


def test_api_clients_still_get_json(client):
    for kwargs in ({"HTTP_ACCEPT": "application/json"}, {}):
        response = client.get("/graphql", {"query": "{ version }"}, **kwargs)
        assert response.status_code == 200 and response.json()["data"]["version"]
    raw = client.get("/graphql", {"query": "{ version }", "raw": ""}, HTTP_ACCEPT=BROWSER_ACCEPT)
    assert raw.status_code == 200 and raw.json()["data"]["version"]
