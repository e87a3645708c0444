"""The admin's login: each failure logged, and the page a locked-out client gets.

django-axes (configured by the AXES_* settings) counts failed logins per client
address in the database and refuses a locked-out address before any password
is hashed; this module tells it who the client is and what to answer.
"""

import json
import logging
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from api.client_address import client_address as api_client_address

logger = logging.getLogger("api.admin_login")


def client_address(request: HttpRequest) -> str | None:
    """The address failures are counted and logged under: the client's, as
    the API's limits see it (X-Forwarded-For believed only from
    TRUSTED_PROXIES; without them, behind a proxy, the proxy's address)."""
    return api_client_address(request) or None


def log_failed_login(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **_: Any) -> None:
    """Receiver of Django's `user_login_failed`: one warning with the username
    and the client's address. Only the username is read from `credentials`;
    Django has already masked the password there, and nothing else is logged."""
    # JSON-quoted, as in the request log: a typed username cannot forge a line.
    username = json.dumps(credentials.get("username"), default=str)
    address = json.dumps(client_address(request) if request is not None else None)
    locked_out = bool(getattr(request, "axes_locked_out", False))
    logger.warning("admin login failed: username=%s client=%s locked_out=%s", username, address, json.dumps(locked_out))


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """The admin's HTML page for a locked-out client: 429 with Retry-After."""
    cooloff_seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    html = render_to_string(
        "admin_lockout.html",
        {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": cooloff_seconds // 60},
        request=request,
    )
    response = HttpResponse(html, status=429)
    response["Retry-After"] = str(cooloff_seconds)
    return response
