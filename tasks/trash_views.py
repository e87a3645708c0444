"""`/api/trash`: the caller's deleted tasks, to list, restore or purge."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core import signing
from django.db.models import F, QuerySet, Value
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from api.schema import IF_NONE_MATCH, NOT_MODIFIED, error_responses
from api.throttling import api_throttles
from tasks import examples
from tasks.changes import user_write
from tasks.conditional_schema import etag_header
from tasks.listing import DIGITS, LIMIT_DETAIL, MAX_LIMIT, InvalidCursor, InvalidListParameter, next_page_link
from tasks.models import Task
from tasks.orderings import RowComparison
from tasks.serializers import TaskSerializer, format_datetime
from tasks.sync import user_digest
from tasks.trash import purge, restore
from tasks.views import TASK_ID_PARAMETER, parse_task_id, task_not_found

# Pages read most recently deleted first, then by id descending: one scan of
# task_user_trash_idx, continued from the (deleted_at, id) in the cursor.
CURSOR_SALT = "tasks.trash.cursor"


class TrashedTaskSerializer(TaskSerializer):
    deleted_at = serializers.DateTimeField(read_only=True, help_text="When the task went to the trash.")

    class Meta(TaskSerializer.Meta):
        fields = [*TaskSerializer.Meta.fields, "deleted_at"]

    row_fields = [*TaskSerializer.row_fields, "deleted_at"]

    def to_representation(self, instance: Task | Any) -> dict[str, Any]:
        deleted_at = instance.deleted_at
        assert deleted_at is not None  # a task in the trash
        return {**super().to_representation(instance), "deleted_at": format_datetime(deleted_at)}


@extend_schema_serializer(many=False)  # one {"items", "count", "next_cursor"} object, not an array of them
class TrashPageSerializer(serializers.Serializer):
    items = TrashedTaskSerializer(many=True)
    count = serializers.IntegerField(help_text="The number of tasks in `items`.")
    next_cursor = serializers.CharField(
        allow_null=True, help_text="Pass as `cursor` for the next page; null on the last page."
    )


LIMIT_PARAMETER = OpenApiParameter(
    "limit",
    {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
    OpenApiParameter.QUERY,
    description=f"At most this many tasks (1-{MAX_LIMIT}); all of them when absent.",
)
CURSOR_PARAMETER = OpenApiParameter(
    "cursor", str, OpenApiParameter.QUERY, description="The `next_cursor` of the previous page."
)
LINK_HEADER = OpenApiParameter(
    "Link", str, OpenApiParameter.HEADER, response=[200], description='`<URL>; rel="next"` when another page follows.'
)


def _parse_limit(params: Any) -> int | None:
    if (value := params.get("limit")) is None:
        return None
    if not (DIGITS.fullmatch(value) and 1 <= int(value) <= MAX_LIMIT):
        raise InvalidListParameter(LIMIT_DETAIL)
    return int(value)


def _decode_cursor(user_id: str, cursor: str) -> tuple[datetime, int]:
    """The (deleted_at, id) a cursor of this user's trash continues from."""
    try:
        digest, (deleted_at, task_id) = signing.loads(cursor, salt=CURSOR_SALT)
        if digest != user_digest(user_id) or type(task_id) is not int:
            raise ValueError("another user's cursor")
        after = datetime.fromisoformat(deleted_at)
        if after.tzinfo is None:
            raise ValueError("not an aware datetime")
        return after, task_id
    except (signing.BadSignature, ValueError, TypeError):
        raise InvalidCursor() from None


def _encode_cursor(user_id: str, row: Any) -> str:
    return signing.dumps([user_digest(user_id), [row.deleted_at.isoformat(), row.id]], salt=CURSOR_SALT, compress=True)


@extend_schema(tags=["trash"])
class TrashViewSet(viewsets.GenericViewSet):
    """The caller's trash. Every query is scoped to the user id in the token."""

    serializer_class = TrashedTaskSerializer
    lookup_value_regex = "[^/]+"

    @property
    def user_id(self) -> str:
        return str(self.request.user.id)

    def get_throttles(self) -> list[BaseThrottle]:
        return api_throttles()

    def get_queryset(self) -> QuerySet[Task]:
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Task.objects.none()
        return Task.all_objects.filter(user_id=self.user_id, deleted_at__isnull=False)

    def get_object(self) -> Task:
        try:
            return self.get_queryset().get(pk=parse_task_id(self.kwargs["pk"]))
        except Task.DoesNotExist:
            raise task_not_found() from None

    @extend_schema(
        operation_id="listTrash",
        summary="List the caller's trash, most recently deleted first",
        parameters=[LIMIT_PARAMETER, CURSOR_PARAMETER, LINK_HEADER, IF_NONE_MATCH, etag_header(200, 304)],
        examples=examples.TRASH,
        responses={200: TrashPageSerializer, 304: NOT_MODIFIED, **error_responses(400, 401, 429, 503)},
    )
    def list(self, request: Request) -> Response:
        limit = _parse_limit(request.query_params)  # every 400 before any query
        cursor = request.query_params.get("cursor")
        after = None if cursor is None else _decode_cursor(self.user_id, cursor)
        tasks = self.get_queryset()
        if after is not None:
            bound = (Value(after[0]), Value(after[1]))
            tasks = tasks.filter(RowComparison((F("deleted_at"), F("id")), bound, descending=True))
        selected = tasks.order_by("-deleted_at", "-id").values_list(*TrashedTaskSerializer.row_fields, named=True)
        rows = list(selected if limit is None else selected[: limit + 1])
        next_cursor = None
        if limit is not None and len(rows) > limit:
            rows = rows[:limit]
            next_cursor = _encode_cursor(self.user_id, rows[-1])
        items = TrashedTaskSerializer(rows, many=True).data
        headers = {"Link": next_page_link(request, next_cursor)} if next_cursor else None
        return Response({"items": items, "count": len(items), "next_cursor": next_cursor}, headers=headers)

    @extend_schema(
        operation_id="emptyTrash",
        summary="Delete every task in the caller's trash for good",
        request=None,
        examples=examples.EMPTY_TRASH,
        responses={
            200: inline_serializer("TrashEmptied", {"deleted": serializers.IntegerField()}),
            **error_responses(401, 429, 503),
        },
    )
    def empty(self, request: Request) -> Response:
        with user_write(self.user_id, order=True):
            deleted = purge(self.get_queryset(), self.user_id)
        return Response({"deleted": deleted})

    @extend_schema(
        operation_id="purgeTask",
        summary="Delete a task in the trash for good",
        parameters=[TASK_ID_PARAMETER],
        request=None,
        responses={204: OpenApiResponse(description="Deleted for good."), **error_responses(401, 404, 429, 503)},
    )
    def destroy(self, request: Request, pk: str) -> Response:
        parse_task_id(pk)
        with user_write(self.user_id, order=True):
            purge(self.get_queryset().filter(pk=self.get_object().pk), self.user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="restoreTask",
        summary="Bring a task back from the trash, to its old place",
        parameters=[TASK_ID_PARAMETER, etag_header(200)],
        request=None,
        examples=examples.RESTORE,
        responses={200: TaskSerializer, **error_responses(401, 404, 409, 429, 503)},
    )
    def restore(self, request: Request, pk: str) -> Response:
        parse_task_id(pk)
        with user_write(self.user_id, order=True):
            task = self.get_object()
            restore(task)
        data = TaskSerializer(task).data
        return Response(data, headers={"ETag": data["etag"]})
