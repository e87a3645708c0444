"""`GET /api/sync`: a full sync, or the changes since a sync token."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from api.schema import IF_NONE_MATCH, NOT_MODIFIED, error_responses
from api.throttling import api_throttles
from tasks import examples
from tasks.conditional_schema import etag_header
from tasks.serializers import TaskSerializer
from tasks.sync import decode_token, encode_token, read_changes


class SyncSerializer(serializers.Serializer):
    items = TaskSerializer(
        many=True, help_text="Live tasks changed since the token (every live task without one), as they are now, by id."
    )
    deleted = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Ids of tasks trashed or purged since the token, ascending; may name tasks the client never saw.",
    )
    sync_token = serializers.CharField(help_text="Pass as `token` next time.")


TOKEN_PARAMETER = OpenApiParameter(
    "token",
    str,
    OpenApiParameter.QUERY,
    description="The `sync_token` of the previous sync; absent for a full sync.",
)


class SyncView(APIView):
    """The caller's tasks that changed since a sync token. A client that
    starts from a full sync and applies every delta in turn (upsert `items`,
    drop `deleted`) holds exactly the caller's live tasks as of the newest
    token, however other devices' writes interleave
    (docs/decisions/sync-change-numbers.md)."""

    def get_throttles(self) -> list[BaseThrottle]:
        return api_throttles()

    @extend_schema(
        operation_id="syncTasks",
        tags=["sync"],
        summary="Everything (no token), or what changed since `token`",
        parameters=[TOKEN_PARAMETER, IF_NONE_MATCH, etag_header(200, 304)],
        examples=examples.SYNC,
        responses={200: SyncSerializer, 304: NOT_MODIFIED, **error_responses(400, 401, 410, 429, 503)},
    )
    def get(self, request: Request) -> Response:
        user_id = str(request.user.id)
        token = request.query_params.get("token")
        since = None if token is None else decode_token(user_id, token)  # 400 and 410 before any query
        changes = read_changes(user_id, since, TaskSerializer.row_fields)
        return Response(
            {
                "items": TaskSerializer(changes.rows, many=True).data,
                "deleted": changes.deleted,
                "sync_token": encode_token(user_id, changes.change_seq),
            }
        )
