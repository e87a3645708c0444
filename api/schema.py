"""What drf-spectacular cannot infer about every endpoint: the bearer-JWT
scheme, the error bodies, the limits gunicorn enforces, and paths written the
way clients call them (no trailing slash)."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers


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
