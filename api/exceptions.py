"""The errors this API raises beyond DRF's own, as DRF's exceptions module
holds its. They get their JSON shape in `api.error_handlers`."""

from rest_framework import exceptions, status

RETRY_AFTER_SECONDS = "5"
DATABASE_UNAVAILABLE_DETAIL = "Database unavailable; try again shortly"


class DatabaseUnavailable(exceptions.APIException):
    """The database refused, dropped or timed out a connection: the request
    may succeed once it is back (503 with Retry-After)."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = DATABASE_UNAVAILABLE_DETAIL
    default_code = "database_unavailable"


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body is larger than API_MAX_BODY_BYTES allows"
    default_code = "request_too_large"


class LengthRequired(exceptions.APIException):
    status_code = status.HTTP_411_LENGTH_REQUIRED
    default_detail = "Send the body with a Content-Length header; chunked request bodies are not accepted"
    default_code = "length_required"


class SigningKeysUnavailable(exceptions.APIException):
    """Better Auth's JWKS could not be fetched and no key for the token is
    known: the token may be valid, so 503 (with Retry-After), not 401."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Token signing keys unavailable; try again shortly"
    default_code = "signing_keys_unavailable"


class InvalidIdempotencyKey(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Idempotency-Key must be 1 to 255 visible ASCII characters"
    default_code = "invalid_idempotency_key"


class IdempotencyKeyInUse(exceptions.APIException):
    """Another request with the same key is still running: its answer is not
    known yet, so this one can neither replay it nor run (409, Retry-After)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "A request with this Idempotency-Key is still in progress; retry after Retry-After seconds"
    default_code = "idempotency_key_in_use"
    wait = 1  # seconds, sent as Retry-After by DRF's exception handler


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "Idempotency-Key was already used for a different request"
    default_code = "idempotency_key_reused"


class PreconditionFailed(exceptions.APIException):
    """`If-Match` names no current ETag of the resource: nothing was written.
    The answer carries the current ETag, so the client can fetch and retry."""

    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "Precondition failed: the task has changed"
    default_code = "precondition_failed"

    def __init__(self, etag: str) -> None:
        super().__init__()
        self.headers = {"ETag": etag}
