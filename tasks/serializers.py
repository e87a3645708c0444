from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from tasks.models import DESCRIPTION_MAX_LENGTH, TITLE_MAX_LENGTH, Task


class StrictCharField(serializers.CharField):
    """A JSON string and nothing else: DRF's CharField would turn 42 into "42".
    NUL and unpaired surrogates are refused by DRF's own validators."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A JSON boolean and nothing else: DRF's BooleanField would accept "yes" or 1."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


ISO_UTC_MICROSECONDS = "%Y-%m-%dT%H:%M:%S.%fZ"


def format_datetime(value: datetime) -> str:
    """What DRF's DateTimeField writes for an aware datetime, with USE_TZ on
    and UTC the current time zone. For the API's format, isoformat() gives the
    same text in half the time strftime() takes."""
    value = value.astimezone(UTC)
    output_format = settings.REST_FRAMEWORK["DATETIME_FORMAT"]
    if output_format != ISO_UTC_MICROSECONDS or value.year < 1000:  # %Y does not pad the year
        return value.strftime(output_format)
    return value.isoformat("T", "microseconds").removesuffix("+00:00") + "Z"


class TaskSerializer(serializers.ModelSerializer):
    title = StrictCharField(max_length=TITLE_MAX_LENGTH)
    description = StrictCharField(
        max_length=DESCRIPTION_MAX_LENGTH, required=False, allow_null=True, allow_blank=True, trim_whitespace=False
    )
    completed = StrictBooleanField(required=False)

    class Meta:
        model = Task
        fields = ["id", "user_id", "title", "description", "completed", "created_at", "updated_at"]
        read_only_fields = ["id", "user_id", "created_at", "updated_at"]

    def to_representation(self, instance: Task | Any) -> dict[str, Any]:
        # `instance` is a Task, or a row with its field names (the list's).
        # The same dict DRF builds field by field (a test pins the equality),
        # built directly: DRF's walk through its fields was most of the time a
        # task list took, and building the fields costs ~0.3 ms a request.
        return {
            "id": instance.id,
            "user_id": instance.user_id,
            "title": instance.title,
            "description": instance.description,
            "completed": instance.completed,
            "created_at": format_datetime(instance.created_at),
            "updated_at": format_datetime(instance.updated_at),
        }

    def update(self, instance: Task, validated_data: dict[str, Any]) -> Task:
        # Write only the fields the request named, so two concurrent partial
        # updates of different fields cannot undo each other.
        for field, value in validated_data.items():
            setattr(instance, field, value)
        if validated_data:
            instance.save(update_fields=list(validated_data))
        return instance


class TaskUpdateSerializer(TaskSerializer):
    """`PUT` and `PATCH` bodies: every field optional."""

    title = StrictCharField(max_length=TITLE_MAX_LENGTH, required=False)


class TaskCompleteSerializer(serializers.Serializer):
    """Body of `PATCH /api/tasks/{id}/complete`: omit `completed` to flip it."""

    completed = StrictBooleanField(required=False)


@extend_schema_serializer(many=False)  # one {"items", "count"} object, not an array of them
class TaskListSerializer(serializers.Serializer):
    items = TaskSerializer(many=True)
    count = serializers.IntegerField()
