"""The one place errors get their shape: `{"detail": "..."}`, plus `errors`
for validation failures (every 422). DRF views come through `api_exception_handler`;
Django's own 400/403/404/500 pages come through the `handler*` views below."""

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from api.exceptions import RETRY_AFTER_SECONDS, DatabaseUnavailable, RequestTooLarge

logger = logging.getLogger(__name__)

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
INTERNAL_ERROR_DETAIL = "Internal server error"


def _first_message(messages: Any) -> str:
    while isinstance(messages, (list, dict)) and messages:
        messages = next(iter(messages.values())) if isinstance(messages, dict) else messages[0]
    return str(messages)


def validation_summary(errors: dict[str, Any]) -> str:
    """One line naming each failing field with its first message."""
    return "Validation failed: " + "; ".join(
        f"{field}: {_first_message(messages)}" for field, messages in errors.items()
    )


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    if isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge()
    elif isinstance(exc, (OperationalError, InterfaceError)):
        # Connection refused, timed out or dropped: the request may succeed
        # once the database is back.
        logger.warning("database unavailable: %s", type(exc).__name__)
        exc = DatabaseUnavailable()

    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        return Response(
            {"detail": validation_summary(errors), "errors": errors},
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )

    response = drf_exception_handler(exc, context)
    if response is None:
        logger.error("unhandled exception", exc_info=exc)
        return Response({"detail": INTERNAL_ERROR_DETAIL}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)

    if response.status_code == status.HTTP_503_SERVICE_UNAVAILABLE:
        response["Retry-After"] = RETRY_AFTER_SECONDS
    # Headers an exception of ours carries with it (a 412's current ETag).
    for name, value in getattr(exc, "headers", {}).items():
        response[name] = value
    if not isinstance(response.data, dict) or not isinstance(response.data.get("detail"), str):
        response.data = {"detail": _first_message(response.data)}
    if response.status_code == status.HTTP_422_UNPROCESSABLE_ENTITY:
        # Every 422 has the validation shape, whatever refused the request as a whole.
        response.data["errors"] = {"non_field_errors": [response.data["detail"]]}
    return response


def _json_error(detail: str, status_code: int) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status_code, content_type=JSON_CONTENT_TYPE)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _json_error("Bad request", status.HTTP_400_BAD_REQUEST)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _json_error("Permission denied", status.HTTP_403_FORBIDDEN)


@csrf_exempt  # also the catch-all route, where a POST must get this 404, not a CSRF page
def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _json_error("Not found.", status.HTTP_404_NOT_FOUND)


def server_error(request: HttpRequest) -> JsonResponse:
    return _json_error(INTERNAL_ERROR_DETAIL, status.HTTP_500_INTERNAL_SERVER_ERROR)
