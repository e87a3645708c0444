"""Swagger UI and ReDoc work with no internet access: every script, style,
icon and image comes from the service itself."""

import re
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import StreamingHttpResponse
from django.test import Client

SWAGGER_PATHS = ["/docs", "/docs/"]
REDOC_PATHS = ["/redoc", "/redoc/"]
DOC_PATHS = SWAGGER_PATHS + REDOC_PATHS
# Hosts the stock drf-spectacular pages would reach for.
FOREIGN_HOSTS = ["fonts.googleapis.com", "fonts.gstatic.com", "cdn.jsdelivr.net", "unpkg.com", "cdnjs.cloudflare.com"]


class AssetCollector(HTMLParser):
    """Every URL a browser would fetch on its own: <script src>, <link href>, <img src>."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href", "img": "src"}.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.urls.append(value)


def page(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.content.decode()


def assets(html: str) -> list[str]:
    collector = AssetCollector()
    collector.feed(html)
    return collector.urls


def static_paths(html: str) -> list[str]:
    """The part after STATIC_URL of every asset served as a static file."""
    return [
        urlsplit(url).path.removeprefix(settings.STATIC_URL)
        for url in assets(html)
        if urlsplit(url).path.startswith(settings.STATIC_URL)
    ]


# `validatorUrl` set to null or "none" (Swagger UI's two ways to switch the
# badge off), or to a path on this service; as JSON or as a JavaScript literal.
VALIDATOR_OFF = re.compile(r"""["']?validatorUrl["']?\s*:\s*(null|["']none["']|["']/(?!/))""")


@pytest.mark.parametrize("path", DOC_PATHS)
def test_docs_page_is_html(client: Client, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "<html" in response.content.decode().lower()


@pytest.mark.parametrize("path", DOC_PATHS)
def test_docs_page_loads_its_assets_from_this_service(client: Client, path: str) -> None:
    urls = assets(page(client, path))

    assert any(urlsplit(url).path.endswith(".js") for url in urls), "the page loads its viewer script"
    for url in urls:
        # Relative, or absolute on this very host; "//cdn.example/x" has a netloc too.
        assert urlsplit(url).netloc in ("", "testserver"), url


@pytest.mark.parametrize("path", DOC_PATHS)
def test_docs_page_names_no_foreign_host(client: Client, path: str) -> None:
    html = page(client, path).lower()

    for host in FOREIGN_HOSTS:
        assert host not in html


@pytest.mark.parametrize("path", DOC_PATHS)
def test_docs_page_assets_exist_as_static_files(client: Client, path: str) -> None:
    paths = static_paths(page(client, path))

    assert paths, "the page's assets come from STATIC_URL"
    for static_path in paths:
        assert finders.find(static_path), static_path


@pytest.mark.parametrize("path", DOC_PATHS)
def test_docs_page_assets_are_served(client: Client, path: str) -> None:
    for url in assets(page(client, path)):
        response = client.get(url)
        assert response.status_code == 200, url
        # Reading a streamed file to the end is what closes it.
        body = b"".join(response.streaming_content) if isinstance(response, StreamingHttpResponse) else response.content
        assert body, url


@pytest.mark.parametrize("path", DOC_PATHS)
def test_docs_page_assets_name_no_foreign_host(client: Client, path: str) -> None:
    """The stylesheets and scripts themselves pull no fonts or code from elsewhere."""
    for static_path in static_paths(page(client, path)):
        if not static_path.endswith((".js", ".css")):
            continue
        found = finders.find(static_path)
        assert found, static_path
        with open(found, encoding="utf-8") as asset:
            text = asset.read().lower()
        for host in FOREIGN_HOSTS:
            assert host not in text, (static_path, host)


@pytest.mark.django_db
@pytest.mark.parametrize("path", DOC_PATHS)
@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param("Bearer not-a-token", id="malformed-token"),
        pytest.param("Bearer", id="scheme-without-token"),
        pytest.param("Basic YWxpY2U6c2VjcmV0", id="other-scheme"),
    ],
)
def test_docs_page_ignores_a_bad_authorization_header(client: Client, path: str, authorization: str) -> None:
    """The docs need no token, so a stale or foreign one must not lock them."""
    response = client.get(path, HTTP_AUTHORIZATION=authorization)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
@pytest.mark.parametrize("path", DOC_PATHS)
def test_docs_page_ignores_an_expired_token(client: Client, make_token, path: str) -> None:
    token = make_token("alice", expires_in=timedelta(hours=-1))

    assert client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


@pytest.mark.parametrize("path", SWAGGER_PATHS)
def test_swagger_page_points_at_the_openapi_document(client: Client, path: str) -> None:
    html = page(client, path)

    assert re.search(r"""url:\s*["']/openapi\.json["']""", html)


@pytest.mark.parametrize("path", SWAGGER_PATHS)
def test_swagger_page_turns_off_the_online_validator_badge(client: Client, path: str) -> None:
    """Left at its default, Swagger UI fetches a badge image from
    validator.swagger.io whenever the page is served from a host other than
    localhost: a request to another host on every visit."""
    assert VALIDATOR_OFF.search(page(client, path))


@pytest.mark.parametrize("path", REDOC_PATHS)
def test_redoc_page_points_at_the_openapi_document(client: Client, path: str) -> None:
    html = page(client, path)

    assert 'spec-url="/openapi.json"' in html


def test_the_documented_schema_url_is_served(client: Client) -> None:
    response = client.get("/openapi.json")

    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


@pytest.mark.parametrize("path", REDOC_PATHS)
def test_redoc_page_forbids_images_fonts_and_requests_to_other_hosts(client: Client, path: str) -> None:
    """ReDoc's bundle shows a Redocly logo from cdn.redoc.ly (no option turns it
    off); the page's policy keeps the browser from fetching it."""
    html = page(client, path)
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', html)

    assert policy, "the ReDoc page declares a Content-Security-Policy"
    directives = dict(directive.strip().split(" ", 1) for directive in policy.group(1).split(";"))
    assert directives["img-src"] == "'self' data:"
    assert directives["font-src"] == "'self' data:"
    assert directives["connect-src"] == "'self'"
