from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from tasks.trash import count_expired, purge_expired


class Command(BaseCommand):
    help = (
        "Delete for good the tasks that went to the trash more than TRASH_RETENTION_DAYS ago "
        "(leaving tombstones, so syncing clients learn they are gone), and drop tombstones older "
        "than that. Safe to run while the service takes traffic, and twice at once: run it from cron."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Only count what would be purged and dropped.")

    def handle(self, *args: Any, dry_run: bool, **options: Any) -> None:
        days = settings.TRASH_RETENTION_DAYS
        if dry_run:
            tasks, tombstones = count_expired()
            self.stdout.write(
                f"Would purge {tasks} task(s) trashed more than {days} day(s) ago "
                f"and drop {tombstones} tombstone(s) (dry run: nothing written)."
            )
            return
        tasks, tombstones = purge_expired()
        self.stdout.write(
            f"Purged {tasks} task(s) trashed more than {days} day(s) ago and dropped {tombstones} tombstone(s)."
        )
