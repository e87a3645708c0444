"""Where gunicorn listens: loopback unless BIND_ADDRESS says otherwise.

A sync worker is held by a client for as long as the client takes to send its
request, so gunicorn must only be reached through the buffering nginx of
deploy/nginx/todo-api.conf on the same host (e2e/test_slow_clients.py shows
what that buys). Each test reads gunicorn.conf.py in a fresh process, exactly
as `gunicorn --config gunicorn.conf.py` does."""

import json

import pytest

from testing.assertions import assert_refused_with_one_line
from testing.environments import production_env
from testing.processes import run_python

READ_BIND = "import json, runpy; print(json.dumps(runpy.run_path('gunicorn.conf.py')['bind']))"


def configured_bind(**env: str) -> list[str]:
    result = run_python(["-c", READ_BIND], production_env(**env))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_gunicorn_listens_on_loopback_only_unless_told_otherwise() -> None:
    assert configured_bind() == ["127.0.0.1:8000"]
    assert configured_bind(PORT="8001") == ["127.0.0.1:8001"]


EVERY_INTERFACE = "0.0.0.0"  # noqa: S104 (what an operator asks for, with the balancer on another host)


@pytest.mark.parametrize(
    ("address", "bind"),
    [(EVERY_INTERFACE, "0.0.0.0:8001"), ("10.0.0.5", "10.0.0.5:8001"), ("::", "[::]:8001"), ("::1", "[::1]:8001")],
)
def test_bind_address_chooses_the_interface(address: str, bind: str) -> None:
    assert configured_bind(BIND_ADDRESS=address, PORT="8001") == [bind]


@pytest.mark.parametrize("value", ["localhost", "0.0.0.0:8000", "[::1]", "all"])
def test_bind_address_that_is_not_an_ip_address_is_refused_with_one_line(value: str) -> None:
    result = run_python(["-c", READ_BIND], production_env(BIND_ADDRESS=value))

    assert_refused_with_one_line(result, "BIND_ADDRESS")
    assert value in result.stderr
