from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from api.models import IdempotencyRecord, idempotency_cutoff

BATCH_SIZE = 1000


class Command(BaseCommand):
    help = (
        "Delete the kept answers of Idempotency-Keys older than IDEMPOTENCY_TTL_SECONDS. They already count "
        "as absent; this frees their space. Run it from cron, hourly or daily."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=BATCH_SIZE,
            help=f"Records deleted per statement, each its own transaction (default {BATCH_SIZE}).",
        )

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        cutoff = idempotency_cutoff()
        expired = IdempotencyRecord.objects.filter(created_at__lte=cutoff)
        deleted = 0
        # Short transactions, one batch each: no long lock, and an interrupted
        # run has deleted what it reported, and simply resumes next time.
        while batch := list(expired.values_list("pk", flat=True)[:batch_size]):
            deleted += IdempotencyRecord.objects.filter(pk__in=batch).delete()[0]
        ttl = settings.IDEMPOTENCY_TTL_SECONDS
        self.stdout.write(f"Deleted {deleted} idempotency keys older than {ttl} seconds.")
