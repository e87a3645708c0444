import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from tasks.etags import task_etag
from tasks.models import DESCRIPTION_MAX_LENGTH, TITLE_MAX_LENGTH, Priority, Task

EARLIEST_DUE_YEAR = 1900
LATEST_DUE_YEAR = 2999
DUE_DATE_MIN = date(EARLIEST_DUE_YEAR, 1, 1)
DUE_DATE_MAX = date(LATEST_DUE_YEAR, 12, 31)
DATE_PATTERN = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
# RFC 3339 with seconds and an offset, as the contract spells it.
DATETIME_PATTERN = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:(Z)|([+-])(\d{2}):(\d{2}))", re.ASCII
)
PRIORITY_NAMES = {priority.label: priority.value for priority in Priority}


def parse_due_date(text: Any) -> date:
    """A due date as the API reads it, in a body or a query: exactly
    YYYY-MM-DD, a real day from 1900-01-01 to 2999-12-31; ValueError otherwise."""
    if not isinstance(text, str) or not (match := DATE_PATTERN.fullmatch(text)):
        raise ValueError(f"not a date as YYYY-MM-DD: {text!r}")
    value = date(*map(int, match.groups()))
    if not EARLIEST_DUE_YEAR <= value.year <= LATEST_DUE_YEAR:
        raise ValueError(f"outside {EARLIEST_DUE_YEAR}-{LATEST_DUE_YEAR}: {text!r}")
    return value


PRIORITY_LABELS = {value: label for label, value in PRIORITY_NAMES.items()}


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


# Years 1900-2999, so generated clients and fuzzers keep to the accepted range.
DUE_YEAR_PATTERN = "(19[0-9]{2}|2[0-9]{3})"


@extend_schema_field(
    {
        "type": "string",
        "format": "date",
        "pattern": f"^{DUE_YEAR_PATTERN}-[0-9]{{2}}-[0-9]{{2}}$",
        "example": "2026-01-09",
    }
)
class DueDateField(serializers.Field):
    """A calendar day, exactly YYYY-MM-DD, from 1900-01-01 to 2999-12-31."""

    default_error_messages = {
        "invalid": f"Must be a date as YYYY-MM-DD, from {EARLIEST_DUE_YEAR}-01-01 to {LATEST_DUE_YEAR}-12-31."
    }

    def to_internal_value(self, data: Any) -> date:
        try:
            return parse_due_date(data)
        except ValueError:
            self.fail("invalid")

    def to_representation(self, value: date) -> str:
        return value.isoformat()


@extend_schema_field(
    {
        "type": "string",
        "format": "date-time",
        "pattern": f"^{DUE_YEAR_PATTERN}-[0-9]{{2}}-[0-9]{{2}}T[0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}(\\.[0-9]+)?"
        "(Z|[+-][0-9]{2}:[0-9]{2})$",
        "example": "2026-01-09T17:00:00Z",
    }
)
class DueInstantField(serializers.Field):
    """An instant as RFC 3339 YYYY-MM-DDTHH:MM:SS[.fraction] with Z or ±HH:MM,
    stored in UTC; digits beyond microseconds are dropped."""

    default_error_messages = {
        "invalid": "Must be a date-time as YYYY-MM-DDTHH:MM:SS[.fraction] followed by Z or ±HH:MM, "
        f"in the years {EARLIEST_DUE_YEAR}-{LATEST_DUE_YEAR}."
    }

    def to_internal_value(self, data: Any) -> datetime:
        if not isinstance(data, str) or not (match := DATETIME_PATTERN.fullmatch(data)):
            self.fail("invalid")
        year, month, day, hour, minute, second, fraction, zulu, sign, offset_hours, offset_minutes = match.groups()
        try:
            if zulu:
                zone = UTC
            else:
                if int(offset_hours) > 23 or int(offset_minutes) > 59:
                    self.fail("invalid")
                offset = timedelta(hours=int(offset_hours), minutes=int(offset_minutes))
                zone = timezone(-offset if sign == "-" else offset)
            microsecond = int((fraction or "0")[:6].ljust(6, "0"))
            value = datetime(
                int(year), int(month), int(day), int(hour), int(minute), int(second), microsecond, tzinfo=zone
            )
        except ValueError:
            self.fail("invalid")
        if not EARLIEST_DUE_YEAR <= value.year <= LATEST_DUE_YEAR:
            self.fail("invalid")
        return value.astimezone(UTC)

    def to_representation(self, value: datetime) -> str:
        return format_datetime(value)


@extend_schema_field({"type": "string", "enum": list(PRIORITY_NAMES), "default": "none"})
class PriorityField(serializers.Field):
    """One of "none", "low", "medium", "high"; stored as its rank."""

    default_error_messages = {"invalid": "Must be one of: none, low, medium, high."}

    def to_internal_value(self, data: Any) -> int:
        if not isinstance(data, str) or data not in PRIORITY_NAMES:
            self.fail("invalid")
        return PRIORITY_NAMES[data]

    def to_representation(self, value: int) -> str:
        return PRIORITY_LABELS[value]


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
    due_date = DueDateField(required=False, allow_null=True)
    due_at = DueInstantField(required=False, allow_null=True)
    priority = PriorityField(required=False)
    etag = serializers.SerializerMethodField(
        help_text="The task's current ETag, as the `ETag` header of a single-task answer carries it: "
        "send it in `If-Match` to write only if the task has not changed since."
    )

    class Meta:
        model = Task
        fields = [
            "id",
            "user_id",
            "title",
            "description",
            "completed",
            "completed_at",
            "due_date",
            "due_at",
            "priority",
            "position",
            "created_at",
            "updated_at",
            "etag",
        ]
        read_only_fields = ["id", "user_id", "completed_at", "position", "created_at", "updated_at"]

    # The columns a representation is built from (the list reads only these).
    row_fields = Meta.fields[:-1]

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
            "completed_at": None if instance.completed_at is None else format_datetime(instance.completed_at),
            "due_date": None if instance.due_date is None else instance.due_date.isoformat(),
            "due_at": None if instance.due_at is None else format_datetime(instance.due_at),
            "priority": PRIORITY_LABELS[instance.priority],
            "position": instance.position,
            "created_at": format_datetime(instance.created_at),
            "updated_at": (updated_at := format_datetime(instance.updated_at)),
            "etag": task_etag(instance.id, updated_at),
        }

    @extend_schema_field({"type": "string", "example": '"5d41402abc4b2a76b972"'})
    def get_etag(self, instance: Task | Any) -> str:
        return task_etag(instance.id, format_datetime(instance.updated_at))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """A task has a due date or a due instant, never both: setting one
        clears the other, and a request may not set both."""
        if attrs.get("due_date") is not None and attrs.get("due_at") is not None:
            raise serializers.ValidationError(
                {"due_at": ["A task has a due date or a due time, not both: send one of them as null."]}
            )
        if attrs.get("due_date") is not None:
            attrs["due_at"] = None
        elif attrs.get("due_at") is not None:
            attrs["due_date"] = None
        return attrs

    def update(self, instance: Task, validated_data: dict[str, Any]) -> Task:
        # Write only the fields that change, so two concurrent partial updates
        # of different fields cannot undo each other, and a write that changes
        # nothing leaves updated_at as it was.
        changed = [field for field, value in validated_data.items() if getattr(instance, field) != value]
        for field in changed:
            setattr(instance, field, validated_data[field])
        if changed:
            instance.save(update_fields=changed)
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


@extend_schema_field({"type": "integer", "format": "int64", "minimum": 1, "example": 41})
class TaskIdField(serializers.Field):
    """A task id: a JSON integer (not a boolean, not 3.0)."""

    default_error_messages = {"invalid": "Must be a task id (an integer) or null."}

    def to_internal_value(self, data: Any) -> int:
        if not isinstance(data, int) or isinstance(data, bool):
            self.fail("invalid")
        return data

    def to_representation(self, value: int) -> int:
        return value


class TaskMoveSerializer(serializers.Serializer):
    """Body of `POST /api/tasks/{id}/move`: the task to put this one after,
    or null to put it first."""

    # Validation needs the moving task, in context["task"].
    after = TaskIdField(allow_null=True, help_text="The id of the task to follow, or null to go first.")

    def validate_after(self, value: int | None) -> Task | None:
        if value is None:
            return None
        task: Task = self.context["task"]
        if value == task.pk:
            raise serializers.ValidationError("A task cannot be moved after itself.")
        try:
            return Task.objects.get(user_id=task.user_id, pk=value)
        except (Task.DoesNotExist, OverflowError):
            raise serializers.ValidationError("No task of yours has this id.") from None
