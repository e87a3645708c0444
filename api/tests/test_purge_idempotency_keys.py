"""`manage.py purge_idempotency_keys`: deletes the kept answers older than
IDEMPOTENCY_TTL_SECONDS, which already count as absent, and no other."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from api.models import IdempotencyRecord

pytestmark = pytest.mark.django_db

DAY = 86400


def record(key: str, age_seconds: float, user_id: str = "alice") -> IdempotencyRecord:
    return IdempotencyRecord.objects.create(
        user_id=user_id,
        key=key,
        fingerprint="0" * 64,
        status=201,
        body=b"{}",
        created_at=timezone.now() - timedelta(seconds=age_seconds),
    )


def purge(*args: str) -> str:
    out = StringIO()
    call_command("purge_idempotency_keys", *args, stdout=out)
    return out.getvalue()


def keys_left() -> set[str]:
    return set(IdempotencyRecord.objects.values_list("key", flat=True))


def test_deletes_the_expired_records_and_keeps_the_live_ones():
    record("fresh", 0)
    record("an-hour-short-of-a-day", DAY - 3600)
    record("a-day-and-a-second", DAY + 1, user_id="bob")
    record("a-week", 7 * DAY)

    output = purge()

    assert keys_left() == {"fresh", "an-hour-short-of-a-day"}
    assert output == "Deleted 2 idempotency keys older than 86400 seconds.\n"


def test_follows_the_setting(settings):
    settings.IDEMPOTENCY_TTL_SECONDS = 60
    record("59-seconds", 59)
    record("61-seconds", 61)

    purge()

    assert keys_left() == {"59-seconds"}


def test_deletes_in_batches_until_none_is_left(django_assert_num_queries):
    for number in range(5):
        record(f"old-{number}", 2 * DAY)
    record("fresh", 0)

    # Three batches of two (a SELECT of ids and a DELETE each; the last one
    # deletes one), then the SELECT that finds none.
    with django_assert_num_queries(7):
        output = purge("--batch-size", "2")

    assert keys_left() == {"fresh"}
    assert output.startswith("Deleted 5 ")


def test_with_nothing_to_delete_says_so():
    record("fresh", 0)

    assert purge() == "Deleted 0 idempotency keys older than 86400 seconds.\n"
    assert keys_left() == {"fresh"}


def test_a_batch_size_below_one_is_refused():
    with pytest.raises(CommandError, match="--batch-size"):
        purge("--batch-size", "0")
