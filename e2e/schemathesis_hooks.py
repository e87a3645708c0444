"""Schemathesis hooks for e2e/test_fuzz.py (SCHEMATHESIS_HOOKS names this file).

Idempotency-Key: schemathesis draws keys from the schema's pattern, and while
it shrinks it draws the same short ones ("0", "!") again and again, for
different requests. The service then rightly answers with the first request's
answer (a task that a later scenario may have deleted) or a 422: rules across
requests that no schema can state, which its checks would report as failures.
Each key the service would accept is therefore made unique, still valid; the
ones it refuses are sent as drawn, to get their 400. Replays and reuse are
tested against the document in api/tests/test_idempotency_schema.py."""

from __future__ import annotations

import itertools
import re
from typing import Any

import schemathesis

KEY_HEADER = "Idempotency-Key"
VALID_KEY = re.compile(r"[!-~]{1,255}")
SUFFIX_ROOM = 16
_serial = itertools.count()


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    """Every phase's cases (the coverage phase's too, which map_headers misses)."""
    key = (case.headers or {}).get(KEY_HEADER)
    if isinstance(key, str) and VALID_KEY.fullmatch(key):
        case.headers[KEY_HEADER] = f"{key[: 255 - SUFFIX_ROOM]}.{next(_serial)}"
    return case
