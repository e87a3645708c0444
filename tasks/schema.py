"""What drf-spectacular cannot infer: the bearer-JWT scheme, the error bodies,
and paths written the way clients call them (no trailing slash)."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

from tasks.models import TITLE_MAX_LENGTH


class BetterAuthJWTScheme(OpenApiAuthenticationExtension):
    target_class = "tasks.authentication.BetterAuthJWTAuthentication"
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
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per field; `non_field_errors` when the body as a whole is wrong.",
    )


_ERRORS: dict[int, OpenApiResponse] = {
    400: OpenApiResponse(ErrorSerializer, description="Malformed JSON or a bad query parameter."),
    401: OpenApiResponse(ErrorSerializer, description="Missing, malformed, expired or invalid token."),
    404: OpenApiResponse(ErrorSerializer, description="No such task for this user."),
    411: OpenApiResponse(ErrorSerializer, description="A chunked body: send it with a Content-Length header."),
    413: OpenApiResponse(ErrorSerializer, description="Body larger than API_MAX_BODY_BYTES."),
    415: OpenApiResponse(ErrorSerializer, description="Body is not application/json."),
    422: OpenApiResponse(ValidationErrorSerializer, description="The body failed validation."),
    429: OpenApiResponse(
        ErrorSerializer, description="Too many requests for this user (API_RATE_LIMIT); retry after `Retry-After`."
    ),
    503: OpenApiResponse(
        ErrorSerializer,
        description="The database, or Better Auth's JWKS for a token's key, is unreachable; retry after `Retry-After`.",
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


def require_every_task_field(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """A task in a response always carries every field; drf-spectacular would
    mark the ones optional on input (`description`, `completed`) as optional."""
    task = result["components"]["schemas"]["Task"]
    task["required"] = sorted(task["properties"])
    return result


# The characters Python's str.strip() removes (str.isspace()), spelled out:
# `\s` means a slightly different set in ECMA regular expressions.
WHITESPACE = r"\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NO_NUL_PATTERN = r"^[^\u0000]*$"
# Any surrounding whitespace, around 1-200 characters that start and end with
# something else; no NUL anywhere.
TITLE_PATTERN = (
    rf"^[{WHITESPACE}]*[^\u0000{WHITESPACE}](?:[^\u0000]{{0,{TITLE_MAX_LENGTH - 2}}}[^\u0000{WHITESPACE}])?"
    rf"[{WHITESPACE}]*$"
)
TITLE_REQUEST_DESCRIPTION = (
    f"Surrounding whitespace is trimmed; what remains, 1-{TITLE_MAX_LENGTH} characters, is stored."
)


def describe_task_text(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """What the task serializers refuse that drf-spectacular cannot see.

    A title is trimmed before its length is checked, so `maxLength: 200` on a
    request would refuse " " * 5 + "x" * 200, which the API stores, and
    `minLength: 1` would accept " ", which it refuses: requests get a pattern
    that says exactly what is accepted instead. NUL is refused in any text.
    (A hook, not a field validator: drf-spectacular turns a pattern on a
    blank-allowed field into a `oneOf` that the empty string matches twice.)
    """
    for name, component in result["components"]["schemas"].items():
        properties = component.get("properties", {})
        if not name.startswith(("Task", "PatchedTask")) or "title" not in properties:
            continue
        title = properties["title"]
        title["pattern"] = TITLE_PATTERN
        if not title.get("readOnly") and name != "Task":  # a request body
            title.pop("maxLength", None)
            title["description"] = TITLE_REQUEST_DESCRIPTION
        properties["description"]["pattern"] = NO_NUL_PATTERN
    return result


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


def strip_trailing_slash_from_paths(endpoints: list[tuple], **kwargs: Any) -> list[tuple]:
    """Routes answer with and without the trailing slash; document the form
    the contract uses."""
    return [
        (path.rstrip("/") if path != "/" else path, path_regex, method, callback)
        for path, path_regex, method, callback in endpoints
    ]
