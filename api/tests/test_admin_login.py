"""The admin's login: repeated failures lock the client's address out before
any password is hashed (unknown usernames included), the count lives in the
database every worker shares, each failure is logged without the password,
and staff passwords must pass Django's validators.

The same login under gunicorn in production mode is in e2e/test_admin_login.py."""

import io
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.hashers import MD5PasswordHasher
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client, RequestFactory

from api import admin_login
from api.request_logging import JsonFormatter, PlainFormatter

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
STAFF = "staff-member"
PASSWORD = "correct-horse-battery-staple-42"
WRONG_PASSWORD = "Tr0ub4dor&3-never-logged"  # must never reach a log line
ATTACKER = "203.0.113.7"
COLLEAGUE = "198.51.100.20"


class CountingHasher(MD5PasswordHasher):
    """Counts every hash computed: a login that reaches the password check,
    for a real user or an unknown one, costs one."""

    computed = 0

    def encode(self, password: str, salt: str) -> str:
        CountingHasher.computed += 1
        return super().encode(password, salt)


@pytest.fixture(autouse=True)
def counting_hasher(settings: Any) -> type[CountingHasher]:
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    CountingHasher.computed = 0
    return CountingHasher


@pytest.fixture
def staff(django_user_model: type[User]) -> User:
    return django_user_model.objects.create_superuser(STAFF, f"{STAFF}@example.com", PASSWORD)


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """Everything any logger writes during the test, in both LOG_FORMATs."""
    stream = io.StringIO()
    handlers = [logging.StreamHandler(stream), logging.StreamHandler(stream)]
    handlers[0].setFormatter(PlainFormatter())
    handlers[1].setFormatter(JsonFormatter())
    root = logging.getLogger()
    previous_level = root.level
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    for handler in handlers:
        root.removeHandler(handler)
    root.setLevel(previous_level)


def log_in(client: Client, username: str, password: str, address: str = ATTACKER):
    return client.post(f"{LOGIN}?next=/admin/", {"username": username, "password": password}, REMOTE_ADDR=address)


def fail_until_locked_out(client: Client, usernames: list[str], address: str = ATTACKER) -> None:
    """AXES_FAILURE_LIMIT failed logins: the form again for each but the last,
    which locks the address out."""
    assert len(usernames) == settings.AXES_FAILURE_LIMIT
    *before_the_limit, last = usernames
    for username in before_the_limit:
        response = log_in(client, username, WRONG_PASSWORD, address)
        assert response.status_code == 200, "refused before the limit"
    assert_locked_out(log_in(client, last, WRONG_PASSWORD, address))
    assert "_auth_user_id" not in client.session


def unknown_usernames() -> list[str]:
    return [f"nobody-{n}" for n in range(settings.AXES_FAILURE_LIMIT)]


def assert_locked_out(response) -> None:
    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")
    assert response["Retry-After"] == str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    html = response.content.decode()
    assert "Too many failed logins" in html
    assert "Traceback" not in html


# --- Lockout ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["unknown-usernames", "staff-with-wrong-passwords"])
def test_repeated_failures_lock_the_address_out_before_any_password_is_hashed(
    client: Client, staff: User, counting_hasher: type[CountingHasher], kind: str
) -> None:
    usernames = unknown_usernames() if kind == "unknown-usernames" else [STAFF] * settings.AXES_FAILURE_LIMIT
    fail_until_locked_out(client, usernames)
    hashed_so_far = counting_hasher.computed
    assert hashed_so_far >= settings.AXES_FAILURE_LIMIT

    for _ in range(3):
        assert_locked_out(log_in(client, "nobody-else", WRONG_PASSWORD))
        assert_locked_out(log_in(client, STAFF, WRONG_PASSWORD))

    assert counting_hasher.computed == hashed_so_far


def test_a_locked_out_address_cannot_log_in_even_with_the_right_password(client: Client, staff: User) -> None:
    fail_until_locked_out(client, unknown_usernames())

    assert_locked_out(log_in(client, STAFF, PASSWORD))
    assert "_auth_user_id" not in client.session


def test_lockout_is_per_address_and_another_address_logs_in(client: Client, staff: User) -> None:
    fail_until_locked_out(client, unknown_usernames(), address=ATTACKER)

    response = log_in(Client(), STAFF, PASSWORD, address=COLLEAGUE)

    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_lockout_is_counted_in_the_database_not_in_one_process_memory(client: Client, staff: User) -> None:
    """Another worker or host shares the database, not this process's cache."""
    fail_until_locked_out(client, unknown_usernames())

    caches["default"].clear()

    assert_locked_out(log_in(Client(), STAFF, PASSWORD))
    assert AccessAttempt.objects.filter(ip_address=ATTACKER).exists()


def test_a_successful_login_clears_earlier_failures(client: Client, staff: User) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, STAFF, WRONG_PASSWORD)
    assert log_in(client, STAFF, PASSWORD).status_code == 302

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(Client(), STAFF, WRONG_PASSWORD).status_code == 200
    assert log_in(Client(), STAFF, PASSWORD).status_code == 302


def test_forwarded_for_header_does_not_change_the_counted_address(client: Client, staff: User) -> None:
    for n in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            LOGIN,
            {"username": f"nobody-{n}", "password": WRONG_PASSWORD},
            REMOTE_ADDR=ATTACKER,
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        )

    assert_locked_out(
        client.post(
            LOGIN, {"username": STAFF, "password": PASSWORD}, HTTP_X_FORWARDED_FOR="192.0.2.99", REMOTE_ADDR=ATTACKER
        )
    )


# --- Failed logins are logged, without the password ----------------------------------------


def test_failed_login_is_logged_with_username_and_address_never_the_password(
    client: Client, staff: User, log_output: io.StringIO
) -> None:
    log_in(client, STAFF, WRONG_PASSWORD, address=COLLEAGUE)
    log_in(client, "nobody", WRONG_PASSWORD, address=COLLEAGUE)

    output = log_output.getvalue()
    failures = [line for line in output.splitlines() if "admin login failed" in line]
    assert len(failures) == 4  # two failures, each in both formats
    for username in (STAFF, "nobody"):
        assert f'username=\\"{username}\\" client=\\"{COLLEAGUE}\\"' in output  # JSON
        assert f'username="{username}" client="{COLLEAGUE}"' in output  # plain
    assert WRONG_PASSWORD not in output


def test_the_password_is_stored_nowhere_by_the_lockout(client: Client, staff: User) -> None:
    fail_until_locked_out(client, [STAFF] * settings.AXES_FAILURE_LIMIT)

    stored = " ".join(f"{a.get_data} {a.post_data}" for a in AccessAttempt.objects.all())
    assert stored
    assert WRONG_PASSWORD not in stored


def test_an_attempt_while_locked_out_is_logged_as_locked_out(
    client: Client, staff: User, log_output: io.StringIO
) -> None:
    fail_until_locked_out(client, unknown_usernames())

    log_in(client, STAFF, PASSWORD)

    last = [line for line in log_output.getvalue().splitlines() if "admin login failed" in line][-1]
    assert "locked_out" in last and "true" in last
    assert PASSWORD not in log_output.getvalue()


def test_a_username_with_a_newline_cannot_forge_a_log_line(client: Client, log_output: io.StringIO) -> None:
    log_in(client, 'x" client="10.0.0.1"\nadmin login succeeded', WRONG_PASSWORD)

    assert "\nadmin login succeeded" not in log_output.getvalue()


# --- Password validators ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "complaint"),
    [
        ("Xy7!q", "too short"),
        ("password1234", "too common"),
        ("31415926535897", "entirely numeric"),
        ("staff-member-1", "too similar"),
    ],
    ids=["short", "common", "numeric", "like-the-username"],
)
def test_a_weak_staff_password_is_refused(password: str, complaint: str) -> None:
    with pytest.raises(ValidationError) as refused:
        validate_password(password, User(username=STAFF, email=f"{STAFF}@example.com"))

    assert complaint in " ".join(refused.value.messages)


def test_createsuperuser_asks_again_for_a_weak_password(monkeypatch: pytest.MonkeyPatch) -> None:
    typed = iter(["password", "password", PASSWORD, PASSWORD])
    answers = iter(["root", "root@example.com", "N"])  # username, email, "bypass validation?"
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    errors = io.StringIO()
    call_command("createsuperuser", interactive=True, stdin=Terminal(), stdout=io.StringIO(), stderr=errors)

    assert "too common" in errors.getvalue()
    user = User.objects.get(username="root")
    assert user.check_password(PASSWORD)
    assert not user.check_password("password")


def test_the_admin_refuses_to_set_a_weak_password(admin_client: Client, admin_user: User) -> None:
    response = admin_client.post(
        f"/admin/auth/user/{admin_user.pk}/password/", {"password1": "iloveyou", "password2": "iloveyou"}
    )

    assert response.status_code == 200
    assert "too common" in response.content.decode()
    admin_user.refresh_from_db()
    assert not admin_user.check_password("iloveyou")


def test_behind_a_trusted_proxy_the_lockout_counts_the_forwarded_client(settings) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    request = RequestFactory().post("/admin/login/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.9")

    assert admin_login.client_address(request) == "203.0.113.9"
