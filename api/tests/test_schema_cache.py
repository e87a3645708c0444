"""/openapi.json is generated once per process and then served as the same
bytes: exactly what drf-spectacular's own view answers."""

from typing import Any
from unittest import mock

import pytest
from django.test import Client, RequestFactory
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer2
from drf_spectacular.views import SpectacularJSONAPIView

from api.views import forget_the_rendered_schema


@pytest.fixture(autouse=True)
def fresh_schema() -> None:
    forget_the_rendered_schema()


def stock_answer() -> Any:
    """drf-spectacular's view, uncached, as OpenAPISchemaView configures it."""
    view = SpectacularJSONAPIView.as_view(renderer_classes=[OpenApiJsonRenderer2])
    response = view(RequestFactory().get("/openapi.json"))
    return response.render()


def test_the_schema_is_generated_once_across_requests(client: Client) -> None:
    with mock.patch.object(SchemaGenerator, "get_schema", autospec=True, side_effect=SchemaGenerator.get_schema) as gen:
        responses = [client.get("/openapi.json") for _ in range(5)]

    assert gen.call_count == 1
    assert {response.status_code for response in responses} == {200}
    assert len({response.content for response in responses}) == 1


def test_the_cached_answer_is_drf_spectaculars_byte_for_byte(client: Client) -> None:
    client.get("/openapi.json")  # generates and caches

    cached = client.get("/openapi.json")
    stock = stock_answer()

    assert cached.content == stock.content
    for header in ("Content-Type", "Content-Disposition", "Allow"):
        assert cached[header] == stock[header]


def test_query_parameters_change_nothing_in_the_cached_schema(client: Client) -> None:
    plain = client.get("/openapi.json").content

    for query in ("?version=evil%22%3E", "?lang=de", "?lang=zz", "?format=yaml"):
        response = client.get(f"/openapi.json{query}")
        assert response.content == plain, query
        assert response["Content-Disposition"] == 'inline; filename="TODO API.json"'


def test_a_settings_change_regenerates_the_schema(client: Client, settings: Any) -> None:
    with mock.patch.object(SchemaGenerator, "get_schema", autospec=True, side_effect=SchemaGenerator.get_schema) as gen:
        client.get("/openapi.json")
        settings.API_MAX_BODY_BYTES = 1000
        client.get("/openapi.json")
        client.get("/openapi.json")

    assert gen.call_count == 2
