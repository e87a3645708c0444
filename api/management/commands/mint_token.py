from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rest_framework_simplejwt.exceptions import TokenError

from api.authentication import mint_token
from api.users import is_valid_user_id


class Command(BaseCommand):
    help = (
        "Print an HS256 token for USER_ID, signed with BETTER_AUTH_SECRET the way "
        "the service verifies it. For curl and local frontend work."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user_id", help="The Better Auth user id the token speaks for.")
        parser.add_argument("--minutes", type=int, default=60, help="Lifetime in minutes (default 60).")

    def handle(self, *args: Any, user_id: str, minutes: int, **options: Any) -> None:
        if not is_valid_user_id(user_id):
            raise CommandError("USER_ID must be 1-255 characters with no control characters.")
        if minutes < 1:
            raise CommandError("--minutes must be at least 1.")
        if minutes * 60 > settings.JWT_MAX_AGE_SECONDS:
            raise CommandError(
                f"--minutes must be at most {settings.JWT_MAX_AGE_SECONDS // 60}: the service refuses tokens "
                f"that live longer than JWT_MAX_AGE_SECONDS ({settings.JWT_MAX_AGE_SECONDS} s)."
            )
        try:
            token = mint_token(user_id, timedelta(minutes=minutes))
        except TokenError:
            raise CommandError("BETTER_AUTH_SECRET is not set: this service accepts no HS256 tokens.") from None
        self.stdout.write(token)
