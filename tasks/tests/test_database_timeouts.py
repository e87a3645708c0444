"""Every wait on PostgreSQL is bounded by DATABASE_CONNECT_TIMEOUT, through
libpq's own options (the outages themselves are exercised in e2e/). Settings
are read once per process, so each case loads them in a fresh interpreter."""

import json
import os
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
PRINT_OPTIONS = (
    "import json, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'todo_project.settings'; "
    "from django.conf import settings; print(json.dumps(settings.DATABASES['default'].get('OPTIONS', {})))"
)


def database_options(**env: str) -> dict:
    clean = {name: value for name, value in os.environ.items() if not name.startswith(("DATABASE_", "DJANGO_"))}
    result = subprocess.run(  # noqa: S603 (our own interpreter and settings)
        [sys.executable, "-c", PRINT_OPTIONS],
        cwd=PROJECT_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_postgresql_connections_time_out_on_connect_send_and_idle_loss() -> None:
    options = database_options(DATABASE_URL="postgres://u@db.invalid:5432/todo", DATABASE_CONNECT_TIMEOUT="7")
    assert options == {
        "connect_timeout": 7,
        "tcp_user_timeout": 7000,
        "keepalives": 1,
        "keepalives_idle": 7,
        "keepalives_interval": 7,
        "keepalives_count": 3,
    }


def test_options_in_the_database_url_win_over_the_defaults() -> None:
    options = database_options(DATABASE_URL="postgres://u@db.invalid:5432/todo?connect_timeout=15&keepalives=0")
    assert options["connect_timeout"] == 15
    assert options["keepalives"] == 0
    assert options["tcp_user_timeout"] == 5000
