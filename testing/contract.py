"""Facts of the API contract (docs/api.md) that several tests check against,
written down independently of the code that implements them."""

# Every task object carries these fields, in this order.
TASK_FIELD_ORDER = [
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
