"""Service endpoints that need no token: the index and the health check."""

import logging

from django.conf import settings
from django.db import DatabaseError, connection
from drf_spectacular.renderers import OpenApiJsonRenderer2
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularJSONAPIView
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.exceptions import DATABASE_UNAVAILABLE_DETAIL, RETRY_AFTER_SECONDS
from api.schema import HealthSerializer

logger = logging.getLogger(__name__)


class PublicView(APIView):
    # Opts out of authentication explicitly. (A comment, not a docstring:
    # drf-spectacular would publish a docstring as every operation's description.)
    authentication_classes: list = []
    permission_classes = [AllowAny]


class OpenAPISchemaView(SpectacularJSONAPIView):
    """`/openapi.json` as plain `application/json`, which every client and
    browser handles (the API ignores `Accept`, so the first renderer wins)."""

    renderer_classes = [OpenApiJsonRenderer2]


class ServiceInfoView(PublicView):
    @extend_schema(
        operation_id="getServiceInfo",
        tags=["service"],
        summary="What this service is and where its documentation lives",
        responses=inline_serializer(
            "ServiceInfo",
            {
                "title": serializers.CharField(),
                "description": serializers.CharField(),
                "version": serializers.CharField(),
                "docs_url": serializers.CharField(),
                "redoc_url": serializers.CharField(),
                "openapi_url": serializers.CharField(),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        return Response(
            {
                "title": "TODO API",
                "description": "Per-user tasks for the TODO app, authenticated with Better Auth JWTs.",
                "version": settings.SERVICE_VERSION,
                "docs_url": "/docs",
                "redoc_url": "/redoc",
                "openapi_url": "/openapi.json",
            }
        )


class HealthView(PublicView):
    @extend_schema(
        operation_id="getHealth",
        tags=["service"],
        summary="Liveness and database reachability",
        responses={200: HealthSerializer, 503: HealthSerializer},
    )
    def get(self, request: Request) -> Response:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except DatabaseError as error:
            logger.warning("health check: database unavailable (%s)", type(error).__name__)
            return Response(
                {
                    "status": "unavailable",
                    "version": settings.SERVICE_VERSION,
                    "database": "unavailable",
                    "detail": DATABASE_UNAVAILABLE_DETAIL,
                },
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
                headers={"Retry-After": RETRY_AFTER_SECONDS},
            )
        return Response({"status": "ok", "version": settings.SERVICE_VERSION, "database": "ok"})
