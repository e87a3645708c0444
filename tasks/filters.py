from typing import Any

from django.db.models import QuerySet
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.filters import BaseFilterBackend
from rest_framework.request import Request

STATUS_CHOICES = ("all", "pending", "completed")


class InvalidStatusFilter(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Invalid status filter: must be 'pending', 'completed', or 'all'"
    default_code = "invalid_status_filter"


class TaskStatusFilter(BaseFilterBackend):
    """`?status=all|pending|completed`; absent means all, anything else is a 400."""

    def filter_queryset(self, request: Request, queryset: QuerySet, view: Any) -> QuerySet:
        if "status" not in request.query_params:
            return queryset
        value = request.query_params["status"]
        if value not in STATUS_CHOICES:
            raise InvalidStatusFilter()
        if value == "all":
            return queryset
        return queryset.filter(completed=value == "completed")

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": "status",
                "in": "query",
                "required": False,
                "description": "Which of the caller's tasks to list.",
                "schema": {"type": "string", "enum": list(STATUS_CHOICES), "default": "all"},
            }
        ]
