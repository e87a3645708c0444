from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db.models import Count, Min, Q, QuerySet
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.throttling import BaseThrottle

from api.exceptions import LengthRequired
from api.idempotency import idempotent
from api.schema import IF_NONE_MATCH, NOT_MODIFIED, error_responses
from api.throttling import api_throttles
from tasks import examples
from tasks.changes import read_with_sync_lock, user_write
from tasks.conditional_schema import IF_MATCH, LOCATION_HEADER, etag_header
from tasks.etags import check_if_match
from tasks.list_schema import LIST_PARAMETERS, LIST_RESPONSE, PAGE_EXAMPLES
from tasks.listing import ListQuery, next_page_link, read_page
from tasks.manual_order import move_after
from tasks.models import Task
from tasks.positions import key_between
from tasks.quota import check_room_for_one_more
from tasks.serializers import (
    TaskCompleteSerializer,
    TaskMoveSerializer,
    TaskSerializer,
    TaskUpdateSerializer,
)
from tasks.trash import move_all_to_trash, move_to_trash

MAX_TASK_ID = 2**63 - 1
# The route takes any path segment (see lookup_value_regex); the schema names
# the ids that can exist, and 404 covers every other segment.
TASK_ID_PARAMETER = OpenApiParameter(
    "id",
    {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_TASK_ID},
    OpenApiParameter.PATH,
    description="Task id. Anything that cannot be a task id (not a positive 64-bit integer) gets a 404.",
)


def task_not_found() -> NotFound:
    return NotFound("Task not found")


def parse_task_id(raw: str) -> int:
    """The id in the path, or a 404 for anything that cannot be a task id
    (letters, zero, out of the 64-bit range) without asking the database."""
    if raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_TASK_ID:
        return int(raw)
    raise task_not_found()


@extend_schema(tags=["tasks"])
@extend_schema_view(
    list=extend_schema(
        operation_id="listTasks",
        examples=[*examples.LIST, *PAGE_EXAMPLES],
        summary="List the caller's tasks: filtered, ordered, a page at a time",
        parameters=[*LIST_PARAMETERS, IF_NONE_MATCH, etag_header(200, 304)],
        responses={200: LIST_RESPONSE, 304: NOT_MODIFIED, **error_responses(400, 401, 429, 503)},
    ),
    create=extend_schema(
        operation_id="createTask",
        examples=examples.CREATE,
        summary="Create a task",
        parameters=[etag_header(201), LOCATION_HEADER],
        responses={201: TaskSerializer, **error_responses(400, 401, 409, 411, 413, 415, 422, 429, 503)},
    ),
    retrieve=extend_schema(
        operation_id="getTask",
        examples=examples.RETRIEVE,
        summary="Get one task",
        parameters=[TASK_ID_PARAMETER, IF_NONE_MATCH, etag_header(200, 304)],
        responses={200: TaskSerializer, 304: NOT_MODIFIED, **error_responses(401, 404, 429, 503)},
    ),
    update=extend_schema(
        operation_id="updateTask",
        examples=examples.UPDATE,
        summary="Update a task (partial: send any subset of fields)",
        parameters=[TASK_ID_PARAMETER, IF_MATCH, etag_header(200, 412)],
        responses={200: TaskSerializer, **error_responses(400, 401, 404, 411, 412, 413, 415, 422, 429, 503)},
    ),
    partial_update=extend_schema(
        operation_id="patchTask",
        examples=examples.PARTIAL_UPDATE,
        summary="Update a task (same as PUT)",
        parameters=[TASK_ID_PARAMETER, IF_MATCH, etag_header(200, 412)],
        responses={200: TaskSerializer, **error_responses(400, 401, 404, 411, 412, 413, 415, 422, 429, 503)},
    ),
    destroy=extend_schema(
        operation_id="deleteTask",
        summary="Move a task to the trash",
        description="It can be restored from the trash (`POST /api/trash/{id}/restore`) until it is purged.",
        parameters=[TASK_ID_PARAMETER, IF_MATCH, etag_header(412)],
        responses={204: None, **error_responses(401, 404, 412, 429, 503)},
    ),
)
class TaskViewSet(viewsets.ModelViewSet):
    """The caller's tasks. Every query is scoped to the user id in the token,
    so another user's task is indistinguishable from a missing one."""

    serializer_class = TaskSerializer
    # Any path segment reaches the view, so authentication runs before the id
    # is judged and every bad id gets the same JSON 404.
    lookup_value_regex = "[^/]+"

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authentication and throttling come first
        # Django reads a body by its Content-Length only: a chunked body would
        # be read as empty, and a PATCH would answer 200 having changed nothing.
        if (
            request.method in ("POST", "PUT", "PATCH")
            and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        ):
            raise LengthRequired()

    @property
    def user_id(self) -> str:
        """The caller's user id, from the token (authentication runs first)."""
        return str(self.request.user.id)

    def get_queryset(self) -> QuerySet[Task]:
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Task.objects.none()
        return Task.objects.filter(user_id=self.user_id)

    def get_throttles(self) -> list[BaseThrottle]:
        # Read per request, so API_RATE_LIMIT is honoured as configured now.
        return api_throttles()

    def get_serializer_class(self) -> type[TaskSerializer]:
        if self.action in ("update", "partial_update"):
            return TaskUpdateSerializer
        return TaskSerializer

    def get_object(self, queryset: QuerySet[Task] | None = None) -> Task:
        """DRF's contract (the caller's task by the id in the path, then the
        object permissions), with every bad id a 404 before any query, and
        get() rather than DRF's filter: no ORDER BY for a single row.
        `queryset` narrows get_queryset() (a write reads the row locked)."""
        queryset = self.get_queryset() if queryset is None else queryset
        try:
            task = queryset.get(pk=parse_task_id(self.kwargs["pk"]))
        except Task.DoesNotExist:
            raise task_not_found() from None
        self.check_object_permissions(self.request, task)
        return task

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = ListQuery.from_params(request.query_params)  # every 400 before any query
        # Rows with the task's field names, not Task instances: building 500
        # model objects cost more than running the query.
        page = read_page(self.get_queryset(), query, self.user_id, TaskSerializer.row_fields)
        items = self.get_serializer(page.rows, many=True).data
        headers = {"Link": next_page_link(request, page.next_cursor)} if page.next_cursor else None
        return Response({"items": items, "count": len(items), "next_cursor": page.next_cursor}, headers=headers)

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        """Every answer that carries one task carries its ETag."""
        response = super().finalize_response(request, response, *args, **kwargs)
        if status.is_success(response.status_code) and isinstance(response.data, dict) and "etag" in response.data:
            response["ETag"] = response.data["etag"]
        return response

    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer: BaseSerializer[Task]) -> None:
        # Under the user's order lock, so two creates at the limit cannot both
        # pass and two new tasks never take the same first position (nor one
        # that a task in the trash keeps for its restore).
        user_id = self.user_id
        with user_write(user_id, order=True):
            tasks = Task.all_objects.filter(user_id=user_id).aggregate(
                live=Count("pk", filter=Q(deleted_at__isnull=True)), first=Min("position")
            )
            check_room_for_one_more(tasks["live"])
            serializer.save(user_id=user_id, position=key_between(None, tasks["first"]))

    def get_success_headers(self, data: dict[str, Any]) -> dict[str, str]:
        return {"Location": reverse("task-detail", kwargs={"pk": data["id"]})}

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # PUT is partial too: the contract lets clients send any subset.
        parse_task_id(kwargs["pk"])
        with self.writing() as task:
            serializer = self.get_serializer(task, data=request.data, partial=True)
            serializer.is_valid(raise_exception=True)
            serializer.save()
        return Response(serializer.data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The task goes to the trash (GET /api/trash), whence it can be restored."""
        parse_task_id(kwargs["pk"])
        with self.writing() as task:
            move_to_trash(task)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def get_locked_object_if_matched(self) -> Task:
        task = self.get_object(read_with_sync_lock(self.get_queryset(), self.user_id).select_for_update())
        if "If-Match" in self.request.headers:  # the ETag is computed only when asked for
            check_if_match(self.request, TaskSerializer(task).data["etag"])
        return task

    @contextmanager
    def writing(self, *, order: bool = False) -> Iterator[Task]:
        """The write to the task in the path, in a transaction that takes the
        user's write locks first (tasks/changes.py; `order` for a move),
        then reads the task with its row lock: a 404 for anything but the
        caller's live task, then `If-Match` (a 412 writes nothing), checked
        under the row lock the write holds, so of two writes sent with the
        same ETag only the first passes."""
        with user_write(
            self.user_id, self.get_locked_object_if_matched, order=order, read_takes_sync_lock=True
        ) as task:
            yield task

    @extend_schema(
        operation_id="completeTask",
        examples=examples.COMPLETE,
        summary="Flip `completed`, or set it",
        description="No body, an empty body or `{}` flips `completed` atomically; "
        '`{"completed": true|false}` sets it (idempotent).',
        parameters=[TASK_ID_PARAMETER, IF_MATCH, etag_header(200, 412)],
        request=TaskCompleteSerializer,
        responses={200: TaskSerializer, **error_responses(400, 401, 404, 411, 412, 413, 415, 422, 429, 503)},
    )
    @action(detail=True, methods=["patch"])
    @idempotent
    def complete(self, request: Request, pk: str) -> Response:
        # The id, then the body, are judged before a transaction opens (on
        # SQLite that is BEGIN IMMEDIATE, the database's write lock).
        parse_task_id(pk)
        body = TaskCompleteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with self.writing() as task:
            task.set_completed(body.validated_data.get("completed"))
        return Response(TaskSerializer(task).data)

    @extend_schema(
        operation_id="moveTask",
        examples=examples.MOVE,
        summary="Move a task in the manual order",
        description='`{"after": <task id>}` puts the task right after that one in `ordering=position`; '
        '`{"after": null}` puts it first. A move to the place the task already has changes nothing.',
        parameters=[TASK_ID_PARAMETER, IF_MATCH, etag_header(200, 412)],
        request=TaskMoveSerializer,
        responses={200: TaskSerializer, **error_responses(400, 401, 404, 411, 412, 413, 415, 422, 429, 503)},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def move(self, request: Request, pk: str) -> Response:
        parse_task_id(pk)
        with self.writing(order=True) as task:  # a 404 comes before the body is judged
            body = TaskMoveSerializer(data=request.data, context={"task": task})
            body.is_valid(raise_exception=True)
            move_after(task, body.validated_data["after"])
        return Response(TaskSerializer(task).data)

    @extend_schema(
        operation_id="clearCompleted",
        examples=examples.CLEAR_COMPLETED,
        summary="Move every completed task to the trash",
        description="In one step. The answer names the trashed tasks, ascending by id.",
        request=None,
        responses={
            200: inline_serializer(
                "ClearedCompleted",
                {"trashed": serializers.IntegerField(), "ids": serializers.ListField(child=serializers.IntegerField())},
            ),
            **error_responses(401, 429, 503),
        },
    )
    @action(detail=False, methods=["post"], url_path="clear-completed")
    @idempotent
    def clear_completed(self, request: Request) -> Response:
        with user_write(self.user_id, order=True):
            ids = move_all_to_trash(self.get_queryset().filter(completed=True), self.user_id)
        return Response({"trashed": len(ids), "ids": ids})
