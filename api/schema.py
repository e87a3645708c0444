"""What drf-spectacular cannot infer about every endpoint: the bearer-JWT
scheme, the error bodies, the headers every answer of a kind carries, the
limits gunicorn enforces, `Idempotency-Key` where a view takes it, conditional
GETs, and paths written the way clients call them (no trailing slash)."""

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

from api.exceptions import (
    DATABASE_UNAVAILABLE_DETAIL,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
    LengthRequired,
    PreconditionFailed,
    RequestTooLarge,
)
from api.idempotency import KEY_HEADER, REPLAYED_HEADER, is_idempotent
from api.models import IDEMPOTENCY_KEY_MAX_LENGTH
from api.request_logging import REQUEST_ID_HEADER, REQUEST_ID_PATTERN


class BetterAuthJWTScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.BetterAuthJWTAuthentication"
    name = "BetterAuthJWT"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A Better Auth JWT: from its jwt() plugin (`GET /api/auth/token`; EdDSA, ES256, "
            "ES512, PS256 or RS256, verified with its JWKS when BETTER_AUTH_URL is set), or HS256 signed "
            "with BETTER_AUTH_SECRET.",
        }


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, for people.")


class ValidationErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="One line naming each failing field.")
    # A declared field: SerializerMetaclass moves it into _declared_fields, so
    # Serializer.errors (the property the stubs compare it with) stays as it is.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per field; `non_field_errors` when the body as a whole is wrong.",
    )


def _error(description: str, example: str) -> OpenApiResponse:
    """An error answer, with a realistic body for ReDoc and Swagger to show."""
    return OpenApiResponse(
        ErrorSerializer,
        description=description,
        examples=[OpenApiExample(description, value={"detail": example}, response_only=True)],
    )


DUE_DATE_MESSAGE = "Must be a date as YYYY-MM-DD, from 1900-01-01 to 2999-12-31."
_ERRORS: dict[int, OpenApiResponse] = {
    400: _error(
        "Malformed JSON or a bad query parameter.", "Malformed JSON: Expecting value: line 1 column 1 (char 0)"
    ),
    401: _error("Missing, malformed, expired or invalid token.", "Token has expired"),
    404: _error("No such task for this user.", "Task not found"),
    409: _error(
        "The user already holds TASKS_MAX_PER_USER live tasks.",
        "Task limit reached: a user can hold at most 10000 tasks",
    ),
    410: _error(
        "The sync token is older than TRASH_RETENTION_DAYS: do a full sync (`GET /api/sync` without a token).",
        "Sync token expired: do a full sync",
    ),
    411: _error("A chunked body: send it with a Content-Length header.", str(LengthRequired.default_detail)),
    412: _error(
        "`If-Match` names no current ETag of the task: nothing was written. The answer's `ETag` is the current one.",
        str(PreconditionFailed.default_detail),
    ),
    413: _error("Body larger than API_MAX_BODY_BYTES.", str(RequestTooLarge.default_detail)),
    415: _error("Body is not application/json.", 'Unsupported media type "text/plain" in request.'),
    422: OpenApiResponse(
        ValidationErrorSerializer,
        description="The body failed validation.",
        examples=[
            OpenApiExample(
                "The body failed validation.",
                value={
                    "detail": f"Validation failed: due_date: {DUE_DATE_MESSAGE}",
                    "errors": {"due_date": [DUE_DATE_MESSAGE]},
                },
                response_only=True,
            )
        ],
    ),
    429: _error(
        "Too many requests for this user (API_RATE_LIMIT), or too many failed authentications from this client "
        "address (API_AUTH_FAILURE_RATE_LIMIT); retry after `Retry-After`.",
        "Request was throttled. Expected available in 12 seconds.",
    ),
    503: _error(
        "The database, or Better Auth's JWKS for a token's key, is unreachable; retry after `Retry-After`.",
        DATABASE_UNAVAILABLE_DETAIL,
    ),
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: _ERRORS[code] for code in codes}


HealthSerializer = inline_serializer(
    "Health",
    {
        "status": serializers.ChoiceField(choices=["ok", "unavailable"]),
        "version": serializers.CharField(),
        "database": serializers.ChoiceField(choices=["ok", "unavailable"]),
        "detail": serializers.CharField(required=False, help_text="Present when unavailable."),
    },
)


SERVER_LIMIT_RESPONSES = {
    "414": "Request line (path and query) too long; answered by gunicorn before the service sees the request.",
    "431": "Headers too large; answered by gunicorn before the service sees the request.",
}


def document_server_limits(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Every operation can be refused by gunicorn for the size of its URL or
    headers, both chosen by the client."""
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for path_item in result["paths"].values():
        for operation in path_item.values():
            if "responses" not in operation:
                continue
            for code, description in SERVER_LIMIT_RESPONSES.items():
                operation["responses"].setdefault(code, {**error, "description": description})
    return result


RETRY_AFTER_HEADER = {
    "schema": {"type": "integer", "minimum": 0},
    "description": "Whole seconds to wait before retrying.",
}
RESPONSE_HEADERS_BY_CODE: dict[str, dict[str, dict[str, Any]]] = {
    "401": {
        "WWW-Authenticate": {
            "schema": {"type": "string"},
            "description": "The scheme to authenticate with: `Bearer`.",
        }
    },
    "429": {"Retry-After": RETRY_AFTER_HEADER},
    "503": {"Retry-After": RETRY_AFTER_HEADER},
}
KEY_IN_PROGRESS_RETRY_AFTER_HEADER = {
    **RETRY_AFTER_HEADER,
    "description": "Present when the request with the same `Idempotency-Key` is still in progress: "
    "whole seconds to wait before retrying.",
}
REQUEST_ID_RESPONSE_HEADER = {
    "schema": {"type": "string", "pattern": f"^{REQUEST_ID_PATTERN.pattern}$"},
    "description": "The request's id, also in the service's log line for it: the request's own `X-Request-ID` "
    "when it matches this pattern, else one the service made.",
}


def document_response_headers(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """The headers every answer of a kind carries, on every operation:
    `X-Request-ID` on all of them, `WWW-Authenticate` on a 401, `Retry-After`
    on a 429 and a 503, and on the 409 of a request whose `Idempotency-Key`
    is still in progress. (gunicorn's 414 and 431, added afterwards, carry none.)"""
    for path_item in result["paths"].values():
        for operation in path_item.values():
            takes_key = any(parameter.get("name") == KEY_HEADER for parameter in operation.get("parameters", []))
            for code, answer in operation.get("responses", {}).items():
                headers = answer.setdefault("headers", {})
                headers.setdefault(REQUEST_ID_HEADER, REQUEST_ID_RESPONSE_HEADER)
                for name, header in RESPONSE_HEADERS_BY_CODE.get(code, {}).items():
                    headers.setdefault(name, header)
                if code == "409" and takes_key:
                    headers.setdefault("Retry-After", KEY_IN_PROGRESS_RETRY_AFTER_HEADER)
    return result


# --- Conditional GETs (api/conditional.py) -----------------------------------------

IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    str,
    OpenApiParameter.HEADER,
    description="An ETag from an earlier answer (or `*`): 304 with no body while it is still current.",
)

NOT_MODIFIED = OpenApiResponse(description="Not modified: the `If-None-Match` ETag is current. No body.")


def strip_trailing_slash_from_paths(endpoints: list[tuple], **kwargs: Any) -> list[tuple]:
    """Routes answer with and without the trailing slash; document the form
    the contract uses."""
    return [
        (path.rstrip("/") if path != "/" else path, path_regex, method, callback)
        for path, path_regex, method, callback in endpoints
    ]


# --- Idempotency-Key (api/idempotency.py) -------------------------------------------

IDEMPOTENCY_PARAMETERS = [
    OpenApiParameter(
        KEY_HEADER,
        {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH, "pattern": "^[!-~]+$"},
        OpenApiParameter.HEADER,
        description="A key of the client's choosing (a UUID, say), 1-255 visible ASCII characters; anything "
        "else is a 400. Retries of this request with the same key, method, path and JSON body, by the same user "
        "within IDEMPOTENCY_TTL_SECONDS (default 24 hours), get the first answer again, marked "
        "`Idempotent-Replayed: true`, and change nothing. 401, 429 and 5xx answers are not kept: their retry runs.",
    ),
    OpenApiParameter(
        REPLAYED_HEADER,
        {"type": "string", "enum": ["true"]},
        OpenApiParameter.HEADER,
        description="Present when this is the kept first answer to an earlier request with the same "
        "`Idempotency-Key`, replayed: nothing was done this time.",
        response=[200, 201, 404, 409, 412, 422],
    ),
]
# What the key adds to an operation's answers: the example's name, the case, its detail.
_IDEMPOTENCY_ANSWERS = {
    "400": (
        "InvalidIdempotencyKey",
        "an `Idempotency-Key` that is not 1-255 visible ASCII characters.",
        InvalidIdempotencyKey.default_detail,
    ),
    "409": (
        "IdempotencyKeyInUse",
        "a request with the same `Idempotency-Key` is still in progress (on PostgreSQL); retry after `Retry-After`.",
        IdempotencyKeyInUse.default_detail,
    ),
    "422": (
        "IdempotencyKeyReused",
        "the `Idempotency-Key` was already used for a different method, path or body.",
        IdempotencyKeyReused.default_detail,
    ),
}


def _error_content(code: str) -> dict[str, Any]:
    component = "ValidationError" if code == "422" else "Error"  # every 422 has the validation shape
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}, "examples": {}}}


def _with_case(description: str, case: str) -> str:
    """An answer's description with one more case that gives it."""
    return f"{description} Or: {case}" if description else case[0].upper() + case[1:]


def _example(code: str, case: str, detail: str) -> dict[str, Any]:
    value: dict[str, Any] = {"detail": str(detail)}
    if code == "422":  # every 422 has the validation shape (api.error_handlers)
        value["errors"] = {"non_field_errors": [str(detail)]}
    return {"value": value, "summary": case[0].upper() + case[1:]}


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's, plus what `@idempotent` adds to an operation: the
    request header, the replay marker on the answers that can be replayed, and
    the 400, 409 and 422 the key can cause."""

    def takes_idempotency_key(self) -> bool:
        action = getattr(self.view, "action", None) or self.method.lower()
        return is_idempotent(getattr(self.view, action, None))

    def get_override_parameters(self) -> list[Any]:
        parameters = super().get_override_parameters()
        return [*parameters, *IDEMPOTENCY_PARAMETERS] if self.takes_idempotency_key() else parameters

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None or not self.takes_idempotency_key():
            return operation
        for code, (name, case, detail) in _IDEMPOTENCY_ANSWERS.items():
            answer = operation["responses"].setdefault(code, {"content": _error_content(code), "description": ""})
            answer["description"] = _with_case(answer["description"], case)
            answer["content"]["application/json"]["examples"][name] = _example(code, case, detail)
        return operation
