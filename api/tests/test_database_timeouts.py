"""Every wait on PostgreSQL is bounded by DATABASE_CONNECT_TIMEOUT, through
libpq's own options (the outages themselves are exercised in e2e/). Settings
are read once per process, so each case loads them in a fresh interpreter."""

OPTIONS = "settings.DATABASES['default'].get('OPTIONS', {})"


def test_postgresql_connections_time_out_on_connect_send_and_idle_loss(value_in_fresh_process) -> None:
    options = value_in_fresh_process(
        OPTIONS, DATABASE_URL="postgres://u@db.invalid:5432/todo", DATABASE_CONNECT_TIMEOUT="7"
    )
    assert options == {
        "connect_timeout": 7,
        "tcp_user_timeout": 7000,
        "keepalives": 1,
        "keepalives_idle": 7,
        "keepalives_interval": 7,
        "keepalives_count": 3,
    }


def test_options_in_the_database_url_win_over_the_defaults(value_in_fresh_process) -> None:
    options = value_in_fresh_process(
        OPTIONS, DATABASE_URL="postgres://u@db.invalid:5432/todo?connect_timeout=15&keepalives=0"
    )
    assert options["connect_timeout"] == 15
    assert options["keepalives"] == 0
    assert options["tcp_user_timeout"] == 5000
