"""What drf-spectacular cannot infer about tasks: every field present in an
answer, and the text rules the serializers enforce."""

from typing import Any

from tasks.models import TITLE_MAX_LENGTH


def require_every_task_field(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """A task in a response always carries every field; drf-spectacular would
    mark the ones optional on input (`description`, `completed`) as optional."""
    for name in ("Task", "TrashedTask"):
        task = result["components"]["schemas"][name]
        task["required"] = sorted(task["properties"])
    return result


# The characters Python's str.strip() removes (str.isspace()), spelled out:
# `\s` means a slightly different set in ECMA regular expressions.
WHITESPACE = r"\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NO_NUL_PATTERN = r"^[^\u0000]*$"
# Any surrounding whitespace, around 1-200 characters that start and end with
# something else; no NUL anywhere.
TITLE_PATTERN = (
    rf"^[{WHITESPACE}]*[^\u0000{WHITESPACE}](?:[^\u0000]{{0,{TITLE_MAX_LENGTH - 2}}}[^\u0000{WHITESPACE}])?"
    rf"[{WHITESPACE}]*$"
)
TITLE_REQUEST_DESCRIPTION = (
    f"Surrounding whitespace is trimmed; what remains, 1-{TITLE_MAX_LENGTH} characters, is stored."
)


def describe_task_text(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """What the task serializers refuse that drf-spectacular cannot see.

    A title is trimmed before its length is checked, so `maxLength: 200` on a
    request would refuse " " * 5 + "x" * 200, which the API stores, and
    `minLength: 1` would accept " ", which it refuses: requests get a pattern
    that says exactly what is accepted instead. NUL is refused in any text.
    (A hook, not a field validator: drf-spectacular turns a pattern on a
    blank-allowed field into a `oneOf` that the empty string matches twice.)
    """
    for name, component in result["components"]["schemas"].items():
        properties = component.get("properties", {})
        if not name.startswith(("Task", "PatchedTask")) or "title" not in properties:
            continue
        title = properties["title"]
        title["pattern"] = TITLE_PATTERN
        if not title.get("readOnly") and name != "Task":  # a request body
            title.pop("maxLength", None)
            title["description"] = TITLE_REQUEST_DESCRIPTION
        properties["description"]["pattern"] = NO_NUL_PATTERN
    return result
