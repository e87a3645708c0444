"""What the API keeps between requests beyond the tasks themselves."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from api.users import USER_ID_MAX_LENGTH

IDEMPOTENCY_KEY_MAX_LENGTH = 255


def idempotency_cutoff() -> datetime:
    """Records created at or before this instant have expired (IDEMPOTENCY_TTL_SECONDS)."""
    return timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_TTL_SECONDS)


class IdempotencyRecord(models.Model):
    """The first answer to a request sent with an `Idempotency-Key`, which its
    retries get again (api/idempotency.py). Written in the transaction of the
    request it answers, so it exists exactly when that request's effect does."""

    user_id = models.CharField(max_length=USER_ID_MAX_LENGTH)
    key = models.CharField(max_length=IDEMPOTENCY_KEY_MAX_LENGTH)
    # sha256 of the method, the path without a trailing slash and the body as canonical JSON.
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    body = models.BinaryField()
    # The answer's headers a retry gets again: Content-Type, Location, ETag.
    headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # Keys belong to a user: another user's identical key is another record.
            models.UniqueConstraint(fields=["user_id", "key"], name="idempotency_user_key_unique"),
        ]
        indexes = [
            # manage.py purge_idempotency_keys finds the expired records by age.
            models.Index(fields=["created_at"], name="idempotency_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.key}"

    @property
    def expired(self) -> bool:
        return self.created_at <= idempotency_cutoff()
