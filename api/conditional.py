"""Conditional GETs and the caching rule for API answers.

A successful GET answer carries an ETag: the one its view set (a task's),
or else a digest of its body (Django's ConditionalGetMiddleware), which
changes whenever the body would; `If-None-Match` naming it gets a 304 with
no body. Answers under /api/ are per user and must be revalidated before
each reuse: `Cache-Control: private, no-cache`.
"""

from django.http import HttpRequest, HttpResponseBase
from django.middleware.http import ConditionalGetMiddleware

API_CACHE_CONTROL = "private, no-cache"


class ConditionalGetAndCachingMiddleware(ConditionalGetMiddleware):
    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if request.path.startswith("/api/"):
            response["Cache-Control"] = API_CACHE_CONTROL  # a 304 copies it
        return super().process_response(request, response)

    def needs_etag(self, response: HttpResponseBase) -> bool:
        """Only successful answers are entities a client can revalidate."""
        return 200 <= response.status_code < 300 and super().needs_etag(response)
