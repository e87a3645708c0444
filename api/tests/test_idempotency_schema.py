"""`/openapi.json` describes `Idempotency-Key` on exactly the operations that
take it (`@idempotent` in the view; api.schema.AutoSchema documents it), and
the service's answers match what it says."""

from typing import Any

import jsonschema
import pytest
from django.test import Client
from rest_framework.test import APIClient

from api.idempotency import KEY_HEADER, REPLAYED_HEADER

IDEMPOTENT_OPERATIONS = {"createTask", "completeTask", "moveTask", "clearCompleted"}
REUSED_DETAIL = "Idempotency-Key was already used for a different request"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return Client().get("/openapi.json").json()


def operations(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        operation["operationId"]: operation
        for path_item in schema["paths"].values()
        for operation in path_item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }


def key_parameter(operation: dict[str, Any]) -> dict[str, Any] | None:
    matches = [p for p in operation.get("parameters", []) if p["in"] == "header" and p["name"] == KEY_HEADER]
    assert len(matches) <= 1
    return matches[0] if matches else None


def as_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 -> JSON Schema: `nullable` admits null, and an object
    admits no property the document does not declare."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: as_json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        converted = {"anyOf": [converted, {"type": "null"}]}
    elif "properties" in converted:
        converted.setdefault("additionalProperties", False)
    return converted


def body_schema(schema: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    """The answer's JSON schema, with the components to resolve it."""
    return {
        "components": as_json_schema(schema["components"]),
        **as_json_schema(answer["content"]["application/json"]["schema"]),
    }


def assert_documented(schema: dict[str, Any], operation_id: str, response) -> dict[str, Any]:
    answer = operations(schema)[operation_id]["responses"][str(response.status_code)]
    jsonschema.validate(response.json(), body_schema(schema, answer))
    for header in response.headers:
        if header == REPLAYED_HEADER:
            assert header in answer.get("headers", {}), f"{operation_id} {response.status_code} lacks {header}"
    return answer


def test_exactly_the_idempotent_operations_take_the_key(schema: dict[str, Any]) -> None:
    taking = {name for name, operation in operations(schema).items() if key_parameter(operation)}

    assert taking == IDEMPOTENT_OPERATIONS


@pytest.mark.parametrize("operation_id", sorted(IDEMPOTENT_OPERATIONS))
def test_the_key_is_an_optional_header_of_1_to_255_visible_ascii_characters(
    schema: dict[str, Any], operation_id: str
) -> None:
    parameter = key_parameter(operations(schema)[operation_id])

    assert parameter is not None
    assert parameter.get("required", False) is False
    assert parameter["schema"] == {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"}
    assert "IDEMPOTENCY_TTL_SECONDS" in parameter["description"]


KEYS = {
    "x": True,
    "!": True,
    "~": True,
    "0c4f7f7e-2f43-4ad8-b6a5-8d1e0e4c2a11": True,
    "x" * 255: True,
    "".join(map(chr, range(0x21, 0x7F))): True,
    "": False,
    "x" * 256: False,
    "two words": False,
    "tab\there": False,
    "clé": False,
    "del\x7f": False,
    "bell\x07": False,
}


@pytest.mark.django_db
@pytest.mark.parametrize("key", list(KEYS), ids=[repr(key)[:20] for key in KEYS])
def test_the_key_schema_admits_exactly_what_the_service_accepts(
    schema: dict[str, Any], alice: APIClient, key: str
) -> None:
    parameter = key_parameter(operations(schema)["createTask"])
    assert parameter is not None

    admitted = jsonschema.Draft7Validator(parameter["schema"]).is_valid(key)
    response = alice.post("/api/tasks", {"title": "x"}, format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert admitted is KEYS[key]
    assert (response.status_code != 400) is admitted


# The answers each operation gives of its own, all of which a replay may repeat.
OWN_KEPT_ANSWERS = {
    "createTask": ["201", "409", "422"],
    "completeTask": ["200", "404", "412", "422"],
    "moveTask": ["200", "404", "412", "422"],
    "clearCompleted": ["200"],
}


def test_every_idempotent_operation_is_listed_with_its_own_answers() -> None:
    assert set(OWN_KEPT_ANSWERS) == IDEMPOTENT_OPERATIONS


@pytest.mark.parametrize("operation_id", sorted(IDEMPOTENT_OPERATIONS))
def test_answers_that_can_be_replays_document_the_marker(schema: dict[str, Any], operation_id: str) -> None:
    responses = operations(schema)[operation_id]["responses"]

    for code in OWN_KEPT_ANSWERS[operation_id]:
        header = responses[code]["headers"][REPLAYED_HEADER]
        assert header["schema"] == {"type": "string", "enum": ["true"]}
    assert REPLAYED_HEADER not in responses["401"].get("headers", {})


@pytest.mark.parametrize("operation_id", sorted(IDEMPOTENT_OPERATIONS))
@pytest.mark.parametrize(
    ("code", "example", "detail"),
    [
        ("400", "InvalidIdempotencyKey", "Idempotency-Key must be 1 to 255 visible ASCII characters"),
        (
            "409",
            "IdempotencyKeyInUse",
            "A request with this Idempotency-Key is still in progress; retry after Retry-After seconds",
        ),
        ("422", "IdempotencyKeyReused", REUSED_DETAIL),
    ],
)
def test_the_keys_own_answers_are_documented_with_their_detail(
    schema: dict[str, Any], operation_id: str, code: str, example: str, detail: str
) -> None:
    answer = operations(schema)[operation_id]["responses"][code]

    value = answer["content"]["application/json"]["examples"][example]["value"]
    assert value["detail"] == detail
    assert KEY_HEADER in answer["description"]
    jsonschema.validate(value, body_schema(schema, answer))


def test_the_keys_cases_add_to_what_the_operation_already_documented(schema: dict[str, Any]) -> None:
    conflict = operations(schema)["createTask"]["responses"]["409"]

    assert conflict["description"].startswith("The user already holds TASKS_MAX_PER_USER live tasks. Or: ")
    assert len(conflict["content"]["application/json"]["examples"]) == 2


def test_other_operations_document_none_of_it(schema: dict[str, Any]) -> None:
    for operation_id, operation in operations(schema).items():
        if operation_id in IDEMPOTENT_OPERATIONS:
            continue
        assert key_parameter(operation) is None, operation_id
        for code, answer in operation["responses"].items():
            assert REPLAYED_HEADER not in answer.get("headers", {}), (operation_id, code)
            examples = answer.get("content", {}).get("application/json", {}).get("examples", {})
            assert not {"InvalidIdempotencyKey", "IdempotencyKeyInUse", "IdempotencyKeyReused"} & set(examples)


@pytest.mark.django_db
class TestRealAnswersMatchTheDocument:
    def create(self, client: APIClient, title: str = "Buy milk", key: str = "k"):
        return client.post("/api/tasks", {"title": title}, format="json", HTTP_IDEMPOTENCY_KEY=key)

    def test_a_replay(self, schema: dict[str, Any], alice: APIClient) -> None:
        self.create(alice)
        replay = self.create(alice)

        assert replay.status_code == 201
        assert_documented(schema, "createTask", replay)

    def test_a_bad_key(self, schema: dict[str, Any], alice: APIClient) -> None:
        response = self.create(alice, key="")

        assert response.status_code == 400
        assert_documented(schema, "createTask", response)

    def test_a_reused_key(self, schema: dict[str, Any], alice: APIClient, make_task) -> None:
        task = make_task()
        self.create(alice)
        response = alice.patch(f"/api/tasks/{task.pk}/complete", HTTP_IDEMPOTENCY_KEY="k")

        assert response.status_code == 422
        assert_documented(schema, "completeTask", response)

    def test_a_replayed_404(self, schema: dict[str, Any], alice: APIClient) -> None:
        alice.post("/api/tasks/424242/move", {"after": None}, format="json", HTTP_IDEMPOTENCY_KEY="k")
        replay = alice.post("/api/tasks/424242/move", {"after": None}, format="json", HTTP_IDEMPOTENCY_KEY="k")

        assert (replay.status_code, replay[REPLAYED_HEADER]) == (404, "true")
        assert_documented(schema, "moveTask", replay)
