"""One log line per request, and the formatter for LOG_FORMAT=json.

The line carries the method, the path (never the query string, where a
careless client may put a token), the status, the duration, the user id and a
request id. The request id comes from the client's `X-Request-ID` when it is
well-formed, is generated otherwise, and is echoed in the response so a client
and an operator can talk about the same request.
"""

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.functional import LazyObject, empty

logger = logging.getLogger("api.request")

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,128}")
# The only record attributes the JSON formatter copies: Django attaches the
# request object itself to some records, and its repr carries the query string.
REQUEST_FIELDS = ("method", "path", "status", "duration_ms", "user_id", "request_id")
# Line breaks to str.splitlines() and many log shippers that json.dumps leaves
# raw with ensure_ascii=False (it escapes only control characters): NEL, LINE
# SEPARATOR, PARAGRAPH SEPARATOR. Escaped, a record is always one line. They
# can only occur inside JSON strings, where the escape means the same text.
_UNICODE_LINE_BREAKS = {ord(char): f"\\u{ord(char):04x}" for char in "\u0085\u2028\u2029"}


# The id of the request being served, for lines logged on its behalf elsewhere
# (a traceback, a warning): they carry it too, so an operator can match them.
current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)


def choose_request_id(request: HttpRequest) -> str:
    """The client's `X-Request-ID` when it is well-formed, else a new one."""
    candidate = request.headers.get(REQUEST_ID_HEADER, "")
    if REQUEST_ID_PATTERN.fullmatch(candidate):
        return candidate
    return uuid.uuid4().hex


def authenticated_user_id(request: HttpRequest) -> str | None:
    """The id of whoever the request authenticated as, if anyone.

    DRF sets the user it authenticates on the underlying HttpRequest too.
    Django's own lazy user is left alone when nothing evaluated it: loading a
    session just to write a log line would cost a query per request."""
    user = request.__dict__.get("user")
    # _wrapped is LazyObject's own slot, which the stubs do not declare.
    if isinstance(user, LazyObject) and user._wrapped is empty:  # type: ignore[attr-defined]
        return None
    if user is None or not user.is_authenticated:
        return None
    return str(user.id)


class RequestLoggingMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = choose_request_id(request)
        # The middleware's own attribute (read back by request_id_of_record).
        request.request_id = request_id  # type: ignore[attr-defined]
        started = time.perf_counter()
        context = current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(context)
        fields = {
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "user_id": authenticated_user_id(request),
            "request_id": request_id,
        }
        response[REQUEST_ID_HEADER] = request_id
        # Values are JSON-quoted in the plain line too: a path can hold spaces
        # or an encoded newline, which must not forge a second log line.
        logger.info(" ".join(f"{name}={json.dumps(value)}" for name, value in fields.items()), extra=fields)
        return response


def request_id_of_record(record: logging.LogRecord) -> str | None:
    """The id of the request a record was logged for, if any: the one being
    served, or the one Django attaches to its "Internal Server Error" record,
    which it writes after the middleware has returned."""
    request = record.__dict__.get("request")
    return current_request_id.get() or getattr(request, "request_id", None)


class PlainFormatter(logging.Formatter):
    """`time LEVEL logger message`; a line logged while a request is served
    ends with that request's id (the request's own line already holds it)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        request_id = request_id_of_record(record)
        if request_id and "request_id" not in record.__dict__:
            line += f" request_id={json.dumps(request_id)}"
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the request
    fields when the record has them, and the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = {name: record.__dict__[name] for name in REQUEST_FIELDS if name in record.__dict__}
        if len(fields) == len(REQUEST_FIELDS):
            # The plain line's key=value text would repeat the fields.
            entry["message"] = f"{fields['method']} {fields['path']} {fields['status']}"
        entry.update(fields)
        if "request_id" not in entry and (request_id := request_id_of_record(record)):
            entry["request_id"] = request_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str).translate(_UNICODE_LINE_BREAKS)
