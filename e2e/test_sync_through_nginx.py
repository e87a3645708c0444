"""Conditional requests, idempotent retries, the trash and sync through the
shipped nginx (deploy/nginx/todo-api.conf) in front of two gunicorn
instances sharing PostgreSQL and Redis.

What one instance answered, the other honours: an ETag, an idempotent
replay, a trashed task, a sync token. nginx's round robin alternates the
instances request by request; every request carries its own X-Request-ID,
and nginx's access log names the instance that answered it, so each test
asserts that the two halves of a pair really ran on different instances.

The nginx around the shipped file compresses JSON, as Debian's nginx.conf
does once its gzip_types line is uncommented, and the client asks for gzip
(requests always does): the shipped file's `gzip off` is what keeps the
ETags strong, so that If-Match can match them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
import requests

from e2e.balancer import INSTANCE_ENV, Balancer
from e2e.live import LiveService, session_for
from e2e.redis_cache import RedisCache
from testing.environments import deployment_env

TIMEOUT = 30
# Debian's /etc/nginx/nginx.conf: gzip on, and its commented gzip_types line.
DEBIAN_GZIP = (
    "gzip on;",
    "gzip_types text/plain text/css application/json application/javascript text/xml application/xml "
    "application/xml+rss text/javascript;",
)
ORIGIN = "http://localhost:3000"  # allowed by the instances' default CORS_ALLOWED_ORIGINS
SYNC_REQUEST_HEADERS = ["If-Match", "If-None-Match", "Idempotency-Key", "X-Request-ID"]
READABLE_RESPONSE_HEADERS = ["ETag", "Link", "Location", "Retry-After", "X-Request-ID", "Idempotent-Replayed"]


@pytest.fixture(scope="module")
def balancer(
    nginx_binary: str, e2e_database: str, better_auth_secret: str, session_redis_cache: RedisCache
) -> Iterator[Balancer]:
    env = deployment_env(e2e_database, better_auth_secret, **INSTANCE_ENV, **session_redis_cache.env)
    instances = [LiveService(env, name=f"sync-nginx-{letter}") for letter in "ab"]
    with Balancer(nginx_binary, instances, name="sync-nginx", http_directives=DEBIAN_GZIP) as balancer:
        yield balancer


class Client:
    """One user's HTTPS client of the balancer; `send` returns the answer and
    the instance that gave it."""

    def __init__(self, balancer: Balancer, token: str) -> None:
        self.balancer = balancer
        self.session = session_for(balancer)
        self.session.headers["Authorization"] = f"Bearer {token}"

    def send(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, body: Any = None
    ) -> tuple[requests.Response, LiveService]:
        request_id = f"sync-nginx-{uuid.uuid4().hex}"
        response = self.session.request(
            method,
            self.balancer.url(path),
            headers={**(headers or {}), "X-Request-ID": request_id},
            json=body,
            timeout=TIMEOUT,
        )
        instance = self.balancer.served_by(self.balancer.entries_for({request_id})[request_id])
        assert instance is not None, f"nginx answered {method} {path} itself: {response.status_code}"
        return response, instance

    def read_elsewhere(self, than: LiveService, path: str) -> tuple[requests.Response, LiveService]:
        """A GET answered by the other instance than `than`: sent once more
        when round robin hands it to `than` (a GET may be repeated)."""
        for _ in range(2):
            response, instance = self.send("GET", path)
            if instance is not than:
                return response, instance
        raise AssertionError(f"round robin sent GET {path} to the same instance twice in a row")


@pytest.fixture
def user(balancer: Balancer, token_for: Callable[..., str]) -> tuple[str, Client]:
    user_id = f"sync-nginx-{uuid.uuid4().hex[:12]}"
    return user_id, Client(balancer, token_for(user_id))


def create(client: Client, title: str) -> tuple[dict[str, Any], str, LiveService]:
    response, instance = client.send("POST", "/api/tasks", body={"title": title})
    assert response.status_code == 201, response.text
    return response.json(), response.headers["ETag"], instance


def test_an_etag_from_one_instance_is_current_on_the_other(user: tuple[str, Client]) -> None:
    _, client = user
    task, etag, created_on = create(client, "Buy milk")
    path = f"/api/tasks/{task['id']}"

    fetched, fetched_on = client.send("GET", path)
    not_modified, not_modified_on = client.send("GET", path, headers={"If-None-Match": etag})
    updated, updated_on = client.send("PATCH", path, headers={"If-Match": etag}, body={"title": "Buy oat milk"})
    stale, stale_on = client.send("PATCH", path, headers={"If-Match": etag}, body={"title": "Lost update"})

    assert fetched_on is not created_on and not_modified_on is not fetched_on
    assert updated_on is not not_modified_on and stale_on is not updated_on
    assert fetched.headers["ETag"] == etag == fetched.json()["etag"]
    assert not etag.startswith("W/")
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified.headers["ETag"] == etag
    assert updated.status_code == 200, updated.text
    assert updated.headers["ETag"] not in (etag, None)
    assert stale.status_code == 412
    assert stale.json() == {"detail": "Precondition failed: the task has changed"}
    assert stale.headers["ETag"] == updated.headers["ETag"]
    current, _ = client.send("GET", path)
    assert current.json()["title"] == "Buy oat milk"


def test_the_list_etag_from_one_instance_is_current_on_the_other(user: tuple[str, Client]) -> None:
    _, client = user
    create(client, "Buy milk")

    listed, listed_on = client.send("GET", "/api/tasks")
    not_modified, not_modified_on = client.send("GET", "/api/tasks", headers={"If-None-Match": listed.headers["ETag"]})

    assert not_modified_on is not listed_on
    assert not_modified.status_code == 304
    assert not_modified.headers["ETag"] == listed.headers["ETag"]


def test_the_etag_through_nginx_stays_strong_when_the_client_accepts_gzip(user: tuple[str, Client]) -> None:
    _, client = user
    response, _ = client.send("POST", "/api/tasks", body={"title": "Compressible", "description": "x" * 2000})
    task = response.json()

    fetched, _ = client.send("GET", f"/api/tasks/{task['id']}", headers={"Accept-Encoding": "gzip"})

    assert "Content-Encoding" not in fetched.headers
    assert fetched.headers["ETag"] == fetched.json()["etag"]
    assert not fetched.headers["ETag"].startswith("W/")


def test_a_retried_create_is_replayed_by_the_other_instance(
    user: tuple[str, Client], pg: psycopg.Connection[Any]
) -> None:
    user_id, client = user
    key = f"nginx-{uuid.uuid4()}"

    first, first_on = client.send("POST", "/api/tasks", headers={"Idempotency-Key": key}, body={"title": "Once"})
    retry, retry_on = client.send("POST", "/api/tasks", headers={"Idempotency-Key": key}, body={"title": "Once"})

    assert retry_on is not first_on
    assert first.status_code == retry.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert retry.headers["Location"] == first.headers["Location"]
    assert retry.headers["ETag"] == first.headers["ETag"]
    assert pg.execute("SELECT count(*) FROM tasks_task WHERE user_id = %s", [user_id]).fetchone() == (1,)


def test_a_task_trashed_on_one_instance_is_restored_on_the_other(user: tuple[str, Client]) -> None:
    _, client = user
    task, _, _ = create(client, "Keep me")
    path = f"/api/tasks/{task['id']}"

    trashed, trashed_on = client.send("DELETE", path)
    gone, gone_on = client.send("GET", path)
    trash, trash_on = client.send("GET", "/api/trash")
    restored, restored_on = client.send("POST", f"/api/trash/{task['id']}/restore")
    back, back_on = client.send("GET", path)

    assert [trashed_on is not gone_on, gone_on is not trash_on, trash_on is not restored_on] == [True] * 3
    assert restored_on is not back_on
    assert trashed.status_code == 204
    assert gone.status_code == 404
    assert [item["id"] for item in trash.json()["items"]] == [task["id"]]
    assert trash.json()["items"][0]["deleted_at"] is not None
    assert restored.status_code == 200, restored.text
    assert back.status_code == 200
    assert {k: back.json()[k] for k in ("id", "title", "created_at")} == {
        k: task[k] for k in ("id", "title", "created_at")
    }


def test_a_sync_token_from_one_instance_gives_the_delta_on_the_other(user: tuple[str, Client]) -> None:
    _, client = user
    kept, _, _ = create(client, "Kept")
    changed, _, _ = create(client, "Changed")
    trashed, _, _ = create(client, "Trashed")

    full, full_on = client.send("GET", "/api/sync")
    token = full.json()["sync_token"]
    assert sorted(item["id"] for item in full.json()["items"]) == [kept["id"], changed["id"], trashed["id"]]
    assert full.json()["deleted"] == []
    client.send("PATCH", f"/api/tasks/{changed['id']}", body={"title": "Changed again"})
    client.send("DELETE", f"/api/tasks/{trashed['id']}")
    added, _, _ = create(client, "Added")
    delta, delta_on = client.read_elsewhere(full_on, f"/api/sync?token={token}")
    then, _ = client.read_elsewhere(delta_on, f"/api/sync?token={delta.json()['sync_token']}")

    assert delta.status_code == 200, delta.text
    assert [(item["id"], item["title"]) for item in delta.json()["items"]] == [
        (changed["id"], "Changed again"),
        (added["id"], "Added"),
    ]
    assert delta.json()["deleted"] == [trashed["id"]]
    assert then.status_code == 200, then.text
    assert (then.json()["items"], then.json()["deleted"]) == ([], [])


def test_the_cors_preflight_through_nginx_allows_the_sync_headers_on_both_instances(balancer: Balancer) -> None:
    with session_for(balancer) as session:
        answered_by = set()
        for _ in range(2):
            request_id = f"preflight-{uuid.uuid4().hex}"
            preflight = session.options(
                balancer.url("/api/tasks/1"),
                headers={
                    "Origin": ORIGIN,
                    "Access-Control-Request-Method": "PATCH",
                    "Access-Control-Request-Headers": ", ".join(
                        ["authorization", "content-type", *(name.lower() for name in SYNC_REQUEST_HEADERS)]
                    ),
                    "X-Request-ID": request_id,
                },
                timeout=TIMEOUT,
            )
            answered_by.add(balancer.served_by(balancer.entries_for({request_id})[request_id]))

            assert preflight.status_code == 200
            assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
            allowed = {name.strip().lower() for name in preflight.headers["Access-Control-Allow-Headers"].split(",")}
            assert {"authorization", "content-type", *(name.lower() for name in SYNC_REQUEST_HEADERS)} <= allowed

        answer = session.get(balancer.url("/health"), headers={"Origin": ORIGIN}, timeout=TIMEOUT)

    assert answered_by == set(balancer.instances)
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN
    exposed = {name.strip().lower() for name in answer.headers["Access-Control-Expose-Headers"].split(",")}
    assert {name.lower() for name in READABLE_RESPONSE_HEADERS} <= exposed
