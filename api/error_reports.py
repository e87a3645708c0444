"""What Django's debug pages and error reports may show of the settings and
of the request's environment."""

import re

from django.views.debug import SafeExceptionReporterFilter


class SecretHidingReporterFilter(SafeExceptionReporterFilter):
    """Django hides what it recognises by name (KEY, PASS, SECRET, TOKEN,
    AUTH, ...: the BETTER_AUTH_* settings among them). URLs carry passwords
    too: DATABASE_URL, REDIS_URL, a cache's LOCATION and the DATABASES that
    DATABASE_URL becomes are hidden as well, in settings and in request.META."""

    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|URL|LOCATION|DATABASE|DSN", flags=re.IGNORECASE
    )
