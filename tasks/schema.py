"""What drf-spectacular cannot infer: the bearer-JWT scheme, the error bodies,
and paths written the way clients call them (no trailing slash)."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers


class BetterAuthJWTScheme(OpenApiAuthenticationExtension):
    target_class = "tasks.authentication.BetterAuthJWTAuthentication"
    name = "BetterAuthJWT"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A Better Auth HS256 JWT signed with BETTER_AUTH_SECRET.",
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
    413: OpenApiResponse(ErrorSerializer, description="Body larger than API_MAX_BODY_BYTES."),
    415: OpenApiResponse(ErrorSerializer, description="Body is not application/json."),
    422: OpenApiResponse(ValidationErrorSerializer, description="The body failed validation."),
    503: OpenApiResponse(ErrorSerializer, description="The database is unreachable; retry after `Retry-After`."),
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


# ECMA and Python regular expressions read these escapes the same way.
NO_NUL_PATTERN = r"^[^\u0000]*$"
NOT_BLANK_NO_NUL_PATTERN = r"^[^\u0000]*[^\u0000\s][^\u0000]*$"
TASK_TEXT_PATTERNS = {"title": NOT_BLANK_NO_NUL_PATTERN, "description": NO_NUL_PATTERN}


def describe_refused_task_text(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """What the task serializers refuse that drf-spectacular cannot see: NUL
    anywhere, and a title that is only whitespace (it is trimmed before
    `minLength` applies, so `minLength: 1` alone would promise that " " is a
    title). A hook, not a field validator: drf-spectacular turns a pattern on
    a blank-allowed field into a `oneOf` that the empty string matches twice."""
    for name, component in result["components"]["schemas"].items():
        if not name.startswith(("Task", "PatchedTask")):
            continue
        for field, pattern in TASK_TEXT_PATTERNS.items():
            if field in component.get("properties", {}):
                component["properties"][field]["pattern"] = pattern
    return result


def strip_trailing_slash_from_paths(endpoints: list[tuple], **kwargs: Any) -> list[tuple]:
    """Routes answer with and without the trailing slash; document the form
    the contract uses."""
    return [
        (path.rstrip("/") if path != "/" else path, path_regex, method, callback)
        for path, path_regex, method, callback in endpoints
    ]
