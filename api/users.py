"""Who a caller is: the Better Auth user id from the token. Users live in
Better Auth; this service stores none, only the id on each task."""

import unicodedata
from typing import Any

USER_ID_MAX_LENGTH = 255


def is_valid_user_id(value: Any) -> bool:
    """A non-empty string of at most 255 characters with no control or
    surrogate characters: anything else would be a database error later."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= USER_ID_MAX_LENGTH
        and not any(unicodedata.category(char) in ("Cc", "Cs") for char in value)
    )
