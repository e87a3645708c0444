"""GET /openapi.json: the OpenAPI 3 document describes every endpoint the way
clients call it, and never contradicts what the service answers."""

import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jsonschema
import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from tasks.models import Task
from tasks.schema import WHITESPACE
from testing.contract import TASK_FIELD_ORDER

API_PATHS = [
    "/api/tasks",
    "/api/tasks/{id}",
    "/api/tasks/{id}/complete",
    "/api/tasks/{id}/move",
    "/api/tasks/clear-completed",
    "/api/trash",
    "/api/trash/{id}",
    "/api/trash/{id}/restore",
    "/api/sync",
]
SERVICE_PATHS = ["/", "/health"]
OPERATIONS = [
    ("/", "get", "getServiceInfo"),
    ("/health", "get", "getHealth"),
    ("/api/tasks", "get", "listTasks"),
    ("/api/tasks", "post", "createTask"),
    ("/api/tasks/{id}", "get", "getTask"),
    ("/api/tasks/{id}", "put", "updateTask"),
    ("/api/tasks/{id}", "patch", "patchTask"),
    ("/api/tasks/{id}", "delete", "deleteTask"),
    ("/api/tasks/{id}/complete", "patch", "completeTask"),
    ("/api/tasks/{id}/move", "post", "moveTask"),
    ("/api/tasks/clear-completed", "post", "clearCompleted"),
    ("/api/trash", "get", "listTrash"),
    ("/api/trash", "delete", "emptyTrash"),
    ("/api/trash/{id}", "delete", "purgeTask"),
    ("/api/trash/{id}/restore", "post", "restoreTask"),
    ("/api/sync", "get", "syncTasks"),
]
API_OPERATIONS = [(path, method) for path, method, _ in OPERATIONS if path.startswith("/api/")]
DETAIL_OPERATIONS = [(path, method) for path, method in API_OPERATIONS if "{id}" in path]
BODY_OPERATIONS = [
    ("/api/tasks", "post"),
    ("/api/tasks/{id}", "put"),
    ("/api/tasks/{id}", "patch"),
    ("/api/tasks/{id}/complete", "patch"),
    ("/api/tasks/{id}/move", "post"),
]
REQUIRED_BODY_OPERATIONS = [("/api/tasks", "post"), ("/api/tasks/{id}/move", "post")]
OPTIONAL_BODY_OPERATIONS = [operation for operation in BODY_OPERATIONS if operation not in REQUIRED_BODY_OPERATIONS]
TASK_FIELDS = set(TASK_FIELD_ORDER)
SERVER_SET_FIELDS = {"id", "user_id", "completed_at", "position", "created_at", "updated_at"}
SERVER_LIMIT_CODES = {"414", "431"}  # gunicorn's answers, documented without examples
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    response = Client().get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def operation(schema: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    return schema["paths"][path][method]


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        *_, name = node["$ref"].split("/")
        node = schema["components"]["schemas"][name]
    return node


def content_schema(schema: dict[str, Any], holder: dict[str, Any]) -> dict[str, Any]:
    """The application/json schema of a request body or a response, resolved."""
    return resolve(schema, holder["content"]["application/json"]["schema"])


def json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema: `nullable` becomes a "null" type, and
    an object with declared properties admits no undeclared ones (a field the
    document does not name is a contradiction too)."""
    if isinstance(node, list):
        return [json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") and "type" in converted:
        converted["type"] = [converted["type"], "null"]
        if "enum" in converted:
            converted["enum"] = [*converted["enum"], None]
    if converted.get("type") == "object" and "properties" in converted:
        converted.setdefault("additionalProperties", False)
    return converted


# The response headers the contract gives meaning to: each one the service
# sends must be in the document, for that answer, with a schema its value meets.
API_RESPONSE_HEADERS = (
    "ETag",
    "Idempotent-Replayed",
    "Link",
    "Location",
    "Retry-After",
    "WWW-Authenticate",
    "X-Request-ID",
)


def assert_headers_documented(answer: dict[str, Any], response, where: str) -> None:
    documented = answer.get("headers", {})
    for name in API_RESPONSE_HEADERS:
        if not response.has_header(name):
            continue
        assert name in documented, f"{where} sent {name}, which is not documented"
        header_schema = json_schema(documented[name]["schema"])
        value = int(response[name]) if header_schema.get("type") == "integer" else response[name]
        jsonschema.Draft7Validator(header_schema).validate(value)


def assert_matches_schema(schema: dict[str, Any], path: str, method: str, response) -> None:
    documented = operation(schema, path, method)["responses"]
    code = str(response.status_code)
    assert code in documented, f"{method.upper()} {path} answered {code}, which is not documented"
    assert_headers_documented(documented[code], response, f"{method.upper()} {path} answering {code}")
    if response.status_code in (204, 304):
        assert "content" not in documented[code]
        assert response.content == b""
        return
    body_schema = documented[code]["content"]["application/json"]["schema"]
    root = {"components": json_schema(schema["components"]), **json_schema(body_schema)}
    jsonschema.Draft7Validator.check_schema(root)
    jsonschema.Draft7Validator(root).validate(response.json())


class TestDocument:
    def test_openapi_json_is_an_openapi_3_document(self, client: Client) -> None:
        response = client.get("/openapi.json")

        assert response.status_code == 200
        media_type = response["Content-Type"].split(";")[0]
        assert media_type in ("application/json", "application/vnd.oai.openapi+json")
        document = json.loads(response.content)
        assert document["openapi"].startswith("3.")
        assert document["info"]["title"]
        assert document["info"]["version"]

    @pytest.mark.django_db
    @pytest.mark.parametrize(
        "authorization",
        [
            pytest.param("Bearer not-a-token", id="malformed-token"),
            pytest.param("Basic YWxpY2U6c2VjcmV0", id="other-scheme"),
        ],
    )
    def test_openapi_json_ignores_a_bad_authorization_header(self, client: Client, authorization: str) -> None:
        """The document needs no token: a client that sends its (stale) token
        everywhere must still be able to fetch it."""
        response = client.get("/openapi.json", HTTP_AUTHORIZATION=authorization)

        assert response.status_code == 200
        assert json.loads(response.content)["openapi"].startswith("3.")

    @pytest.mark.django_db
    def test_openapi_json_ignores_an_expired_token(self, client: Client, make_token) -> None:
        token = make_token("alice", expires_in=timedelta(hours=-1))

        assert client.get("/openapi.json", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200

    def test_paths_are_exactly_the_contract_paths_without_trailing_slashes(self, schema: dict[str, Any]) -> None:
        assert set(schema["paths"]) == {*SERVICE_PATHS, *API_PATHS}

    def test_operations_are_exactly_the_contract_operations(self, schema: dict[str, Any]) -> None:
        documented = {
            (path, method, op.get("operationId"))
            for path, item in schema["paths"].items()
            for method, op in item.items()
            if method in HTTP_METHODS
        }

        assert documented == set(OPERATIONS)

    def test_operation_ids_are_unique(self, schema: dict[str, Any]) -> None:
        ids = [op["operationId"] for item in schema["paths"].values() for op in item.values() if "operationId" in op]

        assert len(ids) == len(set(ids))


class TestSecurity:
    def test_bearer_jwt_scheme_is_declared(self, schema: dict[str, Any]) -> None:
        schemes = schema["components"]["securitySchemes"]

        assert len(schemes) == 1
        (scheme,) = schemes.values()
        assert scheme["type"] == "http"
        assert scheme["scheme"] == "bearer"
        assert scheme["bearerFormat"] == "JWT"

    @pytest.mark.parametrize(("path", "method"), API_OPERATIONS)
    def test_api_operation_requires_the_bearer_jwt(self, schema: dict[str, Any], path: str, method: str) -> None:
        (name,) = schema["components"]["securitySchemes"]
        requirements = operation(schema, path, method).get("security", schema.get("security"))

        # Exactly one way in, and no empty alternative that would make it optional.
        assert requirements == [{name: []}]

    @pytest.mark.parametrize("path", SERVICE_PATHS)
    def test_service_endpoint_requires_no_token(self, schema: dict[str, Any], path: str) -> None:
        requirements = operation(schema, path, "get").get("security", schema.get("security")) or []

        assert all(requirement == {} for requirement in requirements)


# Values of each list parameter, as the schema would type them, at the edges of what is accepted.
LIST_PARAMETER_SAMPLES: dict[str, list[Any]] = {
    "status": ["all", "pending", "completed", "", "done", "Pending"],
    "q": ["", "milk", "%_\\", "x" * 200, "x" * 201, "a\x00b"],
    "priority": [["high"], ["none", "low", "medium", "high"], ["urgent"], ["High"], [""]],
    "due_from": ["1900-01-01", "2999-12-31", "2028-02-29", "1899-12-31", "3000-01-01", "2026-02-30", "2026-1-5", ""],
    "due_to": ["2026-03-01", "2026-13-01", "0001-01-01"],
    "overdue": [True, False],
    "tz": ["UTC", "Europe/Berlin", "America/Santiago", "utc", "localtime", "Mars/Olympus", ""],
    "ordering": ["-created_at", "due", "title", "position", "-priority", "-due", "priority", ""],
    "limit": [1, 200, 0, 201, -1],
}


class TestParameters:
    def test_list_status_parameter_is_an_optional_enum(self, schema: dict[str, Any]) -> None:
        parameters = {p["name"]: p for p in operation(schema, "/api/tasks", "get").get("parameters", [])}

        status = parameters["status"]
        assert status["in"] == "query"
        assert not status.get("required", False)
        assert sorted(resolve(schema, status["schema"])["enum"]) == ["all", "completed", "pending"]

    def test_list_documents_every_parameter_as_optional_query(self, schema: dict[str, Any]) -> None:
        parameters = [p for p in operation(schema, "/api/tasks", "get")["parameters"] if p["in"] == "query"]

        assert {p["name"] for p in parameters} == set(LIST_PARAMETER_SAMPLES) | {"cursor"}
        assert all(p["in"] == "query" and not p.get("required", False) and p.get("description") for p in parameters)

    def test_list_parameters_carry_their_enums_formats_and_bounds(self, schema: dict[str, Any]) -> None:
        parameters = {p["name"]: p["schema"] for p in operation(schema, "/api/tasks", "get")["parameters"]}

        assert parameters["ordering"]["enum"] == [
            "-created_at",
            "created_at",
            "-updated_at",
            "updated_at",
            "due",
            "-priority",
            "position",
            "title",
        ]
        assert parameters["ordering"]["default"] == "-created_at"
        assert parameters["priority"]["items"]["enum"] == ["none", "low", "medium", "high"]
        assert (parameters["limit"]["type"], parameters["limit"]["minimum"], parameters["limit"]["maximum"]) == (
            "integer",
            1,
            200,
        )
        assert parameters["due_from"]["format"] == parameters["due_to"]["format"] == "date"
        assert parameters["overdue"]["type"] == "boolean"
        assert parameters["q"]["maxLength"] == 200
        assert {"UTC", "Europe/Berlin", "America/Santiago"} <= set(parameters["tz"]["enum"])
        assert parameters["tz"]["default"] == "UTC"

    def test_priority_is_a_comma_separated_list(self, schema: dict[str, Any]) -> None:
        (priority,) = [p for p in operation(schema, "/api/tasks", "get")["parameters"] if p["name"] == "priority"]

        assert (priority["style"], priority["explode"]) == ("form", False)

    @pytest.mark.django_db
    @pytest.mark.parametrize(
        ("name", "value"), [(name, value) for name, values in LIST_PARAMETER_SAMPLES.items() for value in values]
    )
    def test_list_parameter_schema_admits_exactly_what_the_api_accepts(
        self, schema: dict[str, Any], alice: APIClient, name: str, value: Any
    ) -> None:
        """`cursor` aside (a signature no schema can state), and `due_from` after
        `due_to`, a rule between two parameters."""
        (parameter,) = [p for p in operation(schema, "/api/tasks", "get")["parameters"] if p["name"] == name]
        sent = ",".join(value) if isinstance(value, list) else value

        response = alice.get("/api/tasks", {name: json.dumps(sent) if isinstance(sent, bool) else sent})

        assert response.status_code in (200, 400), response.content
        validator = jsonschema.Draft7Validator(
            json_schema(parameter["schema"]), format_checker=jsonschema.FormatChecker()
        )
        assert validator.is_valid(value) == (response.status_code == 200), (value, response.json())

    @pytest.mark.parametrize(("path", "method"), DETAIL_OPERATIONS)
    def test_detail_operation_takes_an_integer_id_in_the_path(
        self, schema: dict[str, Any], path: str, method: str
    ) -> None:
        parameters = {p["name"]: p for p in operation(schema, path, method).get("parameters", [])}

        assert parameters["id"]["in"] == "path"
        assert parameters["id"]["required"] is True
        assert resolve(schema, parameters["id"]["schema"])["type"] == "integer"

    @pytest.mark.parametrize(("path", "method"), DETAIL_OPERATIONS)
    def test_detail_operation_id_is_bounded_to_the_ids_a_task_can_have(
        self, schema: dict[str, Any], path: str, method: str
    ) -> None:
        parameters = {p["name"]: p for p in operation(schema, path, method).get("parameters", [])}

        id_schema = resolve(schema, parameters["id"]["schema"])
        assert (id_schema["minimum"], id_schema["maximum"]) == (1, 2**63 - 1)


class TestErrorResponses:
    @pytest.mark.parametrize(("path", "method"), API_OPERATIONS)
    def test_api_operation_documents_401_with_the_error_schema(
        self, schema: dict[str, Any], path: str, method: str
    ) -> None:
        response = operation(schema, path, method)["responses"]["401"]

        assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}

    @pytest.mark.parametrize(("path", "method"), DETAIL_OPERATIONS)
    def test_detail_operation_documents_404(self, schema: dict[str, Any], path: str, method: str) -> None:
        response = operation(schema, path, method)["responses"]["404"]

        assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}

    @pytest.mark.parametrize(("path", "method"), BODY_OPERATIONS)
    def test_body_operation_documents_422_with_the_validation_error_schema(
        self, schema: dict[str, Any], path: str, method: str
    ) -> None:
        response = operation(schema, path, method)["responses"]["422"]

        assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ValidationError"}

    @pytest.mark.parametrize(("path", "method"), [(path, method) for path, method, _ in OPERATIONS])
    @pytest.mark.parametrize("code", ["414", "431"])
    def test_operation_documents_gunicorns_size_limits(
        self, schema: dict[str, Any], path: str, method: str, code: str
    ) -> None:
        response = operation(schema, path, method)["responses"][code]

        assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}

    def test_list_documents_400_for_a_bad_status_filter(self, schema: dict[str, Any]) -> None:
        response = operation(schema, "/api/tasks", "get")["responses"]["400"]

        assert content_schema(schema, response) == schema["components"]["schemas"]["Error"]

    def test_error_schema_is_a_required_detail_string(self, schema: dict[str, Any]) -> None:
        error = schema["components"]["schemas"]["Error"]

        assert error["type"] == "object"
        assert error["properties"]["detail"]["type"] == "string"
        assert error["required"] == ["detail"]

    def test_validation_error_schema_has_detail_and_errors_per_field(self, schema: dict[str, Any]) -> None:
        error = schema["components"]["schemas"]["ValidationError"]

        assert set(error["required"]) == {"detail", "errors"}
        assert error["properties"]["detail"]["type"] == "string"
        errors = error["properties"]["errors"]
        assert errors["type"] == "object"
        assert errors["additionalProperties"]["type"] == "array"
        assert errors["additionalProperties"]["items"]["type"] == "string"


class TestBodies:
    def test_create_body_is_required_and_requires_only_title(self, schema: dict[str, Any]) -> None:
        body = operation(schema, "/api/tasks", "post")["requestBody"]

        assert body["required"] is True
        assert content_schema(schema, body)["required"] == ["title"]

    @pytest.mark.parametrize(("path", "method"), OPTIONAL_BODY_OPERATIONS)
    def test_update_body_is_optional_with_no_required_field(
        self, schema: dict[str, Any], path: str, method: str
    ) -> None:
        body = operation(schema, path, method)["requestBody"]

        assert not body.get("required", False)
        assert not content_schema(schema, body).get("required")

    @pytest.mark.parametrize(("path", "method"), BODY_OPERATIONS)
    def test_request_body_offers_no_server_set_field(self, schema: dict[str, Any], path: str, method: str) -> None:
        body = content_schema(schema, operation(schema, path, method)["requestBody"])

        assert not set(body["properties"]) & SERVER_SET_FIELDS

    @pytest.mark.parametrize(("path", "method"), [("/api/tasks", "post"), ("/api/tasks/{id}", "put")])
    def test_request_body_lists_the_writable_fields(self, schema: dict[str, Any], path: str, method: str) -> None:
        body = content_schema(schema, operation(schema, path, method)["requestBody"])

        assert set(body["properties"]) == {"title", "description", "completed", "due_date", "due_at", "priority"}
        # 200 is the limit after trimming, which only the title's pattern can say.
        assert "maxLength" not in body["properties"]["title"]
        assert "{0,198}" in body["properties"]["title"]["pattern"]
        assert body["properties"]["description"]["maxLength"] == 2000
        assert body["properties"]["description"]["nullable"] is True


# Strings at the edges of what the API accepts: "\x1d" is whitespace to Python
# (and so trimmed away), "\u3000" is an ideographic space; a title's length
# counts after trimming.
TEXT_SAMPLES = {
    "letter": "x",
    "padded": "  x  ",
    "emoji": "emoji 🎉",
    "ideographic-space-first": "\u3000x",
    "empty": "",
    "space": " ",
    "tab-newline": "\t\n",
    "information-separator": "\x1d",
    "ideographic-space": "\u3000",
    "inner-nul": "a\x00b",
    "nul": "\x00",
    "200-chars": "x" * 200,
    "200-chars-padded": "  " + "é" * 200 + "\n",
    "201-chars": "x" * 201,
    "201-chars-padded": " " + "x" * 201 + " ",
    "2000-chars": "x" * 2000,
    "2001-chars": "x" * 2001,
}


class TestTextSchemas:
    """A request schema's `title` and `description` admit exactly the strings the API stores."""

    def test_title_pattern_whitespace_is_what_python_strips(self) -> None:
        pattern = re.compile(f"[{WHITESPACE}]")

        assert {chr(c) for c in range(sys.maxunicode + 1) if pattern.fullmatch(chr(c))} == {
            chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()
        }

    @pytest.mark.django_db
    @pytest.mark.parametrize("value", TEXT_SAMPLES.values(), ids=TEXT_SAMPLES.keys())
    @pytest.mark.parametrize("field", ["title", "description"])
    @pytest.mark.parametrize(("path", "method"), [("/api/tasks", "post"), ("/api/tasks/{id}", "patch")])
    def test_schema_admits_exactly_what_the_api_accepts(
        self,
        schema: dict[str, Any],
        alice: APIClient,
        make_task: Callable[..., Task],
        path: str,
        method: str,
        field: str,
        value: str,
    ) -> None:
        documented = content_schema(schema, operation(schema, path, method)["requestBody"])["properties"][field]
        url = path.replace("{id}", str(make_task("alice").pk))

        response = getattr(alice, method)(url, {"title": "ok", field: value}, format="json")

        assert response.status_code in (200, 201, 422), response.content
        admitted = jsonschema.Draft7Validator(json_schema(documented)).is_valid(value)
        assert admitted == (response.status_code != 422)


class TestResponseHeaders:
    @pytest.mark.parametrize(("path", "method"), [(p, m) for p, m, _ in OPERATIONS])
    def test_every_answer_the_service_writes_documents_its_request_id(
        self, schema: dict[str, Any], path: str, method: str
    ) -> None:
        for code, answer in operation(schema, path, method)["responses"].items():
            if code not in SERVER_LIMIT_CODES:
                assert "X-Request-ID" in answer["headers"], code
                assert answer["headers"]["X-Request-ID"]["schema"]["pattern"] == "^[A-Za-z0-9._-]{1,128}$"

    @pytest.mark.parametrize(("path", "method"), API_OPERATIONS)
    def test_a_401_documents_www_authenticate(self, schema: dict[str, Any], path: str, method: str) -> None:
        assert "WWW-Authenticate" in operation(schema, path, method)["responses"]["401"]["headers"]

    @pytest.mark.parametrize(("path", "method"), [*API_OPERATIONS, ("/health", "get")])
    def test_a_429_and_a_503_document_retry_after(self, schema: dict[str, Any], path: str, method: str) -> None:
        responses = operation(schema, path, method)["responses"]
        for code in ("429", "503"):
            if code in responses:
                assert responses[code]["headers"]["Retry-After"]["schema"] == {"type": "integer", "minimum": 0}

    def test_the_409_of_a_key_still_in_progress_documents_retry_after(self, schema: dict[str, Any]) -> None:
        headers = operation(schema, "/api/tasks", "post")["responses"]["409"]["headers"]

        assert "Idempotency-Key" in headers["Retry-After"]["description"]

    def test_a_409_without_an_idempotency_key_documents_no_retry_after(self, schema: dict[str, Any]) -> None:
        headers = operation(schema, "/api/trash/{id}/restore", "post")["responses"]["409"]["headers"]

        assert "Retry-After" not in headers

    def test_gunicorns_own_answers_document_no_headers(self, schema: dict[str, Any]) -> None:
        for code in SERVER_LIMIT_CODES:
            assert "headers" not in operation(schema, "/api/tasks", "get")["responses"][code]

    @pytest.mark.django_db
    def test_a_real_429_matches_its_documented_headers(
        self, schema: dict[str, Any], alice: APIClient, settings
    ) -> None:
        settings.API_RATE_LIMIT = "1/day"  # a window no test run straddles
        cache.clear()
        alice.get("/api/tasks")

        response = alice.get("/api/tasks")

        assert response.status_code == 429
        assert response.has_header("Retry-After")
        assert_matches_schema(schema, "/api/tasks", "get", response)


class TestResponseSchemas:
    def test_task_requires_every_field(self, schema: dict[str, Any]) -> None:
        task = schema["components"]["schemas"]["Task"]

        assert set(task["properties"]) == TASK_FIELDS
        assert set(task["required"]) == TASK_FIELDS

    def test_task_description_is_nullable(self, schema: dict[str, Any]) -> None:
        assert schema["components"]["schemas"]["Task"]["properties"]["description"]["nullable"] is True

    def test_task_list_has_items_count_and_next_cursor(self, schema: dict[str, Any]) -> None:
        task_list = schema["components"]["schemas"]["TaskList"]

        assert set(task_list["required"]) == {"items", "count", "next_cursor"}
        assert task_list["properties"]["items"] == {"type": "array", "items": {"$ref": "#/components/schemas/Task"}}
        assert task_list["properties"]["count"]["type"] == "integer"
        assert task_list["properties"]["next_cursor"]["type"] == "string"
        assert task_list["properties"]["next_cursor"]["nullable"] is True

    def test_list_documents_the_link_header(self, schema: dict[str, Any]) -> None:
        headers = operation(schema, "/api/tasks", "get")["responses"]["200"]["headers"]

        assert headers["Link"]["schema"] == {"type": "string"}
        assert 'rel="next"' in headers["Link"]["description"]

    def test_list_answers_one_task_list_object_not_an_array(self, schema: dict[str, Any]) -> None:
        response = operation(schema, "/api/tasks", "get")["responses"]["200"]

        assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/TaskList"}

    @pytest.mark.parametrize(
        ("path", "method", "code"),
        [
            ("/api/tasks", "post", "201"),
            ("/api/tasks/{id}", "get", "200"),
            ("/api/tasks/{id}", "put", "200"),
            ("/api/tasks/{id}", "patch", "200"),
            ("/api/tasks/{id}/complete", "patch", "200"),
        ],
    )
    def test_single_task_operation_answers_a_task(
        self, schema: dict[str, Any], path: str, method: str, code: str
    ) -> None:
        response = operation(schema, path, method)["responses"][code]

        assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Task"}

    def test_delete_answers_204_with_no_body(self, schema: dict[str, Any]) -> None:
        response = operation(schema, "/api/tasks/{id}", "delete")["responses"]["204"]

        assert "content" not in response


# --- The document against the service's real answers -----------------------------


@dataclass
class Call:
    """One request whose real answer is checked against the document."""

    path: str
    method: str
    status: int
    send: Callable[[APIClient, APIClient, Task], Any]


def task_url(task: Task, suffix: str = "") -> str:
    return f"/api/tasks/{task.pk}{suffix}"


CALLS = {
    "service-info": Call("/", "get", 200, lambda anon, alice, task: anon.get("/")),
    "health": Call("/health", "get", 200, lambda anon, alice, task: anon.get("/health")),
    "list": Call("/api/tasks", "get", 200, lambda anon, alice, task: alice.get("/api/tasks")),
    "list-pending": Call(
        "/api/tasks", "get", 200, lambda anon, alice, task: alice.get("/api/tasks", {"status": "pending"})
    ),
    "list-bad-status": Call(
        "/api/tasks", "get", 400, lambda anon, alice, task: alice.get("/api/tasks", {"status": "done"})
    ),
    "list-no-token": Call("/api/tasks", "get", 401, lambda anon, alice, task: anon.get("/api/tasks")),
    "list-page": Call(
        "/api/tasks",
        "get",
        200,
        lambda anon, alice, task: alice.get("/api/tasks", {"ordering": "due", "limit": "1", "tz": "Europe/Berlin"}),
    ),
    "list-filtered": Call(
        "/api/tasks",
        "get",
        200,
        lambda anon, alice, task: alice.get(
            "/api/tasks", {"q": "milk", "priority": "none,high", "due_to": "2999-12-31", "overdue": "false"}
        ),
    ),
    "list-bad-limit": Call("/api/tasks", "get", 400, lambda anon, alice, task: alice.get("/api/tasks", {"limit": 0})),
    "list-bad-cursor": Call(
        "/api/tasks", "get", 400, lambda anon, alice, task: alice.get("/api/tasks", {"limit": "1", "cursor": "x"})
    ),
    "create": Call(
        "/api/tasks",
        "post",
        201,
        lambda anon, alice, task: alice.post("/api/tasks", {"title": "New", "description": "Details"}, format="json"),
    ),
    "create-without-description": Call(
        "/api/tasks", "post", 201, lambda anon, alice, task: alice.post("/api/tasks", {"title": "New"}, format="json")
    ),
    "create-blank-title": Call(
        "/api/tasks", "post", 422, lambda anon, alice, task: alice.post("/api/tasks", {"title": " "}, format="json")
    ),
    "create-missing-title": Call(
        "/api/tasks", "post", 422, lambda anon, alice, task: alice.post("/api/tasks", {}, format="json")
    ),
    "create-malformed-json": Call(
        "/api/tasks",
        "post",
        400,
        lambda anon, alice, task: alice.post("/api/tasks", "{", content_type="application/json"),
    ),
    "create-not-json": Call(
        "/api/tasks",
        "post",
        415,
        lambda anon, alice, task: alice.post("/api/tasks", "title=x", content_type="text/plain"),
    ),
    "create-no-token": Call(
        "/api/tasks", "post", 401, lambda anon, alice, task: anon.post("/api/tasks", {"title": "x"}, format="json")
    ),
    "get": Call("/api/tasks/{id}", "get", 200, lambda anon, alice, task: alice.get(task_url(task))),
    "get-unknown": Call("/api/tasks/{id}", "get", 404, lambda anon, alice, task: alice.get("/api/tasks/999999999")),
    "get-no-token": Call("/api/tasks/{id}", "get", 401, lambda anon, alice, task: anon.get(task_url(task))),
    "put": Call(
        "/api/tasks/{id}",
        "put",
        200,
        lambda anon, alice, task: alice.put(task_url(task), {"title": "Renamed"}, format="json"),
    ),
    "put-clears-description": Call(
        "/api/tasks/{id}",
        "put",
        200,
        lambda anon, alice, task: alice.put(task_url(task), {"description": None}, format="json"),
    ),
    "put-invalid": Call(
        "/api/tasks/{id}",
        "put",
        422,
        lambda anon, alice, task: alice.put(task_url(task), {"title": "x" * 201}, format="json"),
    ),
    "put-unknown": Call(
        "/api/tasks/{id}",
        "put",
        404,
        lambda anon, alice, task: alice.put("/api/tasks/999999999", {"title": "x"}, format="json"),
    ),
    "put-no-token": Call(
        "/api/tasks/{id}", "put", 401, lambda anon, alice, task: anon.put(task_url(task), {}, format="json")
    ),
    "patch": Call(
        "/api/tasks/{id}",
        "patch",
        200,
        lambda anon, alice, task: alice.patch(task_url(task), {"completed": True}, format="json"),
    ),
    "patch-invalid": Call(
        "/api/tasks/{id}",
        "patch",
        422,
        lambda anon, alice, task: alice.patch(task_url(task), {"completed": "yes"}, format="json"),
    ),
    "patch-unknown": Call(
        "/api/tasks/{id}",
        "patch",
        404,
        lambda anon, alice, task: alice.patch("/api/tasks/999999999", {}, format="json"),
    ),
    "patch-no-token": Call(
        "/api/tasks/{id}", "patch", 401, lambda anon, alice, task: anon.patch(task_url(task), {}, format="json")
    ),
    "complete-flip": Call(
        "/api/tasks/{id}/complete", "patch", 200, lambda anon, alice, task: alice.patch(task_url(task, "/complete"))
    ),
    "complete-set": Call(
        "/api/tasks/{id}/complete",
        "patch",
        200,
        lambda anon, alice, task: alice.patch(task_url(task, "/complete"), {"completed": False}, format="json"),
    ),
    "complete-invalid": Call(
        "/api/tasks/{id}/complete",
        "patch",
        422,
        lambda anon, alice, task: alice.patch(task_url(task, "/complete"), {"completed": 1}, format="json"),
    ),
    "complete-unknown": Call(
        "/api/tasks/{id}/complete",
        "patch",
        404,
        lambda anon, alice, task: alice.patch("/api/tasks/999999999/complete"),
    ),
    "complete-no-token": Call(
        "/api/tasks/{id}/complete", "patch", 401, lambda anon, alice, task: anon.patch(task_url(task, "/complete"))
    ),
    "create-planned": Call(
        "/api/tasks",
        "post",
        201,
        lambda anon, alice, task: alice.post(
            "/api/tasks", {"title": "Call", "due_at": "2026-01-09T17:00:00+01:00", "priority": "high"}, format="json"
        ),
    ),
    "create-bad-due-date": Call(
        "/api/tasks",
        "post",
        422,
        lambda anon, alice, task: alice.post("/api/tasks", {"title": "x", "due_date": "2026-1-9"}, format="json"),
    ),
    "move-first": Call(
        "/api/tasks/{id}/move",
        "post",
        200,
        lambda anon, alice, task: alice.post(task_url(task, "/move"), {"after": None}, format="json"),
    ),
    "move-after-itself": Call(
        "/api/tasks/{id}/move",
        "post",
        422,
        lambda anon, alice, task: alice.post(task_url(task, "/move"), {"after": task.pk}, format="json"),
    ),
    "move-unknown": Call(
        "/api/tasks/{id}/move",
        "post",
        404,
        lambda anon, alice, task: alice.post("/api/tasks/999999999/move", {"after": None}, format="json"),
    ),
    "move-no-token": Call(
        "/api/tasks/{id}/move",
        "post",
        401,
        lambda anon, alice, task: anon.post(task_url(task, "/move"), {"after": None}, format="json"),
    ),
    "delete": Call("/api/tasks/{id}", "delete", 204, lambda anon, alice, task: alice.delete(task_url(task))),
    "delete-unknown": Call(
        "/api/tasks/{id}", "delete", 404, lambda anon, alice, task: alice.delete("/api/tasks/999999999")
    ),
    "delete-no-token": Call("/api/tasks/{id}", "delete", 401, lambda anon, alice, task: anon.delete(task_url(task))),
    "get-not-modified": Call(
        "/api/tasks/{id}",
        "get",
        304,
        lambda anon, alice, task: alice.get(task_url(task), HTTP_IF_NONE_MATCH=alice.get(task_url(task))["ETag"]),
    ),
    "list-not-modified": Call(
        "/api/tasks",
        "get",
        304,
        lambda anon, alice, task: alice.get("/api/tasks", HTTP_IF_NONE_MATCH=alice.get("/api/tasks")["ETag"]),
    ),
    "put-stale": Call(
        "/api/tasks/{id}",
        "put",
        412,
        lambda anon, alice, task: alice.put(task_url(task), {"title": "x"}, format="json", HTTP_IF_MATCH='"stale"'),
    ),
    "delete-stale": Call(
        "/api/tasks/{id}",
        "delete",
        412,
        lambda anon, alice, task: alice.delete(task_url(task), HTTP_IF_MATCH='"stale"'),
    ),
    "clear-completed": Call(
        "/api/tasks/clear-completed", "post", 200, lambda anon, alice, task: alice.post("/api/tasks/clear-completed")
    ),
    "clear-completed-no-token": Call(
        "/api/tasks/clear-completed", "post", 401, lambda anon, alice, task: anon.post("/api/tasks/clear-completed")
    ),
    "trash-list": Call(
        "/api/trash", "get", 200, lambda anon, alice, task: (alice.delete(task_url(task)), alice.get("/api/trash"))[1]
    ),
    "trash-list-bad-limit": Call("/api/trash", "get", 400, lambda anon, alice, task: alice.get("/api/trash?limit=0")),
    "trash-list-no-token": Call("/api/trash", "get", 401, lambda anon, alice, task: anon.get("/api/trash")),
    "trash-empty": Call(
        "/api/trash",
        "delete",
        200,
        lambda anon, alice, task: (alice.delete(task_url(task)), alice.delete("/api/trash"))[1],
    ),
    "trash-empty-no-token": Call("/api/trash", "delete", 401, lambda anon, alice, task: anon.delete("/api/trash")),
    "trash-purge": Call(
        "/api/trash/{id}",
        "delete",
        204,
        lambda anon, alice, task: (alice.delete(task_url(task)), alice.delete(f"/api/trash/{task.pk}"))[1],
    ),
    "trash-purge-live": Call(
        "/api/trash/{id}", "delete", 404, lambda anon, alice, task: alice.delete(f"/api/trash/{task.pk}")
    ),
    "trash-purge-no-token": Call(
        "/api/trash/{id}", "delete", 401, lambda anon, alice, task: anon.delete(f"/api/trash/{task.pk}")
    ),
    "restore": Call(
        "/api/trash/{id}/restore",
        "post",
        200,
        lambda anon, alice, task: (alice.delete(task_url(task)), alice.post(f"/api/trash/{task.pk}/restore"))[1],
    ),
    "restore-live": Call(
        "/api/trash/{id}/restore", "post", 404, lambda anon, alice, task: alice.post(f"/api/trash/{task.pk}/restore")
    ),
    "restore-no-token": Call(
        "/api/trash/{id}/restore", "post", 401, lambda anon, alice, task: anon.post(f"/api/trash/{task.pk}/restore")
    ),
    "sync-full": Call("/api/sync", "get", 200, lambda anon, alice, task: alice.get("/api/sync")),
    "sync-delta": Call(
        "/api/sync",
        "get",
        200,
        lambda anon, alice, task: alice.get("/api/sync", {"token": alice.get("/api/sync").json()["sync_token"]}),
    ),
    "sync-bad-token": Call("/api/sync", "get", 400, lambda anon, alice, task: alice.get("/api/sync?token=nope")),
    "sync-no-token": Call("/api/sync", "get", 401, lambda anon, alice, task: anon.get("/api/sync")),
}


def test_every_operation_is_checked_against_the_real_service() -> None:
    assert {(call.path, call.method) for call in CALLS.values()} == {(path, method) for path, method, _ in OPERATIONS}


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(CALLS))
def test_real_response_matches_the_document(
    schema: dict[str, Any], api_client: APIClient, alice: APIClient, make_task: Callable[..., Task], name: str
) -> None:
    call = CALLS[name]
    # One task with every field filled, one with the nullable description left null.
    make_task("alice", title="Older", description=None)
    task = make_task("alice", title="Buy milk", description="Two litres", completed=True)

    response = call.send(api_client, alice, task)

    assert response.status_code == call.status, response.content
    assert_matches_schema(schema, call.path, call.method, response)


class TestExamples:
    @pytest.mark.parametrize(("path", "method"), [(p, m) for p, m in API_OPERATIONS if m != "delete"])
    def test_every_task_operation_shows_a_realistic_success_answer(
        self, schema: dict[str, Any], path: str, method: str
    ) -> None:
        responses = operation(schema, path, method)["responses"]
        success = next(code for code in ("200", "201") if code in responses)

        examples = responses[success]["content"]["application/json"]["examples"]

        assert examples
        for example in examples.values():
            assert "string" not in json.dumps(example["value"])

    @pytest.mark.parametrize(("path", "method"), BODY_OPERATIONS)
    def test_every_body_operation_shows_request_examples_that_the_service_accepts(
        self, schema: dict[str, Any], path: str, method: str, alice: APIClient, make_task: Callable[..., Task]
    ) -> None:
        examples = operation(schema, path, method)["requestBody"]["content"]["application/json"]["examples"]
        assert examples

        for example in examples.values():
            task = make_task()
            neighbour = make_task()
            body = example["value"]
            if "after" in body and body["after"] is not None:
                body = {"after": neighbour.pk}
            url = path.replace("{id}", str(task.pk))

            response = getattr(alice, method)(url, body, format="json")

            assert response.status_code in (200, 201), (example, response.json())

    @pytest.mark.parametrize(("path", "method"), API_OPERATIONS)
    def test_every_error_answer_shows_an_example_detail(self, schema: dict[str, Any], path: str, method: str) -> None:
        for code, answer in operation(schema, path, method)["responses"].items():
            if code.startswith(("4", "5")) and code not in SERVER_LIMIT_CODES:
                examples = answer["content"]["application/json"]["examples"]
                assert all(example["value"]["detail"] for example in examples.values()), code
