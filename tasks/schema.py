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


def strip_trailing_slash_from_paths(endpoints: list[tuple], **kwargs: Any) -> list[tuple]:
    """Routes answer with and without the trailing slash; document the form
    the contract uses."""
    return [
        (path.rstrip("/") if path != "/" else path, path_regex, method, callback)
        for path, path_regex, method, callback in endpoints
    ]
