"""`Idempotency-Key` on the writes that take it (createTask, completeTask,
moveTask, clearCompleted): a retry gets the first answer again and changes
nothing.

Requests in flight at once, and requests whose connection dies, need
PostgreSQL's advisory locks: api/tests/test_idempotency_concurrency.py."""

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import OperationalError, connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.test import APIClient

from api.idempotency import request_fingerprint
from api.models import IdempotencyRecord
from api.parsers import StrictJSONParser
from tasks.models import Task
from tasks.views import TaskViewSet
from testing.assertions import JSON_CONTENT_TYPE, assert_json_error, database_state

pytestmark = pytest.mark.django_db

KEY = "3f0c8a52-6a4e-4b7e-9a55-0d3c2e1f9b10"
REUSED_DETAIL = "Idempotency-Key was already used for a different request"
INVALID_DETAIL = "Idempotency-Key must be 1 to 255 visible ASCII characters"


def send(client: APIClient, method: str, path: str, body: Any = None, key: str | None = KEY, **extra: Any):
    """A request with `Idempotency-Key: key` (none when key is None); a body
    other than None goes as JSON, a str as it is."""
    if key is not None:
        extra["HTTP_IDEMPOTENCY_KEY"] = key
    if isinstance(body, str):
        return getattr(client, method)(path, body, content_type="application/json", **extra)
    if body is not None:
        return getattr(client, method)(path, body, format="json", **extra)
    return getattr(client, method)(path, **extra)


def create(client: APIClient, body: Any = None, **extra: Any):
    return send(client, "post", "/api/tasks", {"title": "Buy milk"} if body is None else body, **extra)


def flip(client: APIClient, task: Task, **extra: Any):
    return send(client, "patch", f"/api/tasks/{task.pk}/complete", **extra)


def move_first(client: APIClient, task: Task, **extra: Any):
    return send(client, "post", f"/api/tasks/{task.pk}/move", {"after": None}, **extra)


def assert_replay_of(replay, first) -> None:
    """The first answer again, byte for byte, with its kept headers, marked as a replay."""
    assert replay.status_code == first.status_code
    assert replay.content == first.content
    for header in ("Content-Type", "Location", "ETag"):
        assert replay.get(header) == first.get(header), header
    assert replay["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first


def assert_ran(response, status: int) -> None:
    """An answer computed now, not a replay."""
    assert response.status_code == status, response.content
    assert "Idempotent-Replayed" not in response


class TestReplay:
    def test_a_repeated_create_gets_the_first_answer_and_creates_nothing(self, alice):
        first = create(alice)
        replay = create(alice)

        assert_ran(first, 201)
        assert first["Location"] == f"/api/tasks/{first.json()['id']}"
        assert_replay_of(replay, first)
        assert Task.objects.filter(user_id="alice").count() == 1

    def test_a_replay_is_the_first_answer_even_after_the_task_changed(self, alice):
        first = create(alice)
        alice.patch(f"/api/tasks/{first.json()['id']}", {"title": "Renamed"}, format="json")

        replay = create(alice)

        assert_replay_of(replay, first)
        assert replay.json()["title"] == "Buy milk"

    def test_a_retried_flip_does_not_flip_twice(self, alice, make_task):
        task = make_task(completed=False)

        first = flip(alice, task)
        replay = flip(alice, task)

        assert first.json()["completed"] is True
        assert_replay_of(replay, first)
        assert Task.objects.get(pk=task.pk).completed is True

    def test_a_retried_move_moves_nothing(self, alice, make_task):
        a, b = make_task(title="a"), make_task(title="b")  # b is first: new tasks go first
        first = move_first(alice, a)
        move_first(alice, b, key=None)  # meanwhile, another move puts b first again

        replay = move_first(alice, a)

        assert_replay_of(replay, first)
        assert list(Task.objects.order_by("position").values_list("title", flat=True)) == ["b", "a"]

    def test_a_retried_clear_completed_trashes_nothing_more(self, alice, make_task):
        done = make_task(completed=True)
        first = send(alice, "post", "/api/tasks/clear-completed")
        completed_since = make_task(completed=True)

        replay = send(alice, "post", "/api/tasks/clear-completed")

        assert first.json() == {"trashed": 1, "ids": [done.pk]}
        assert_replay_of(replay, first)
        assert Task.objects.filter(pk=completed_since.pk).exists()  # still live, not in the trash

    def test_the_etag_of_the_first_answer_is_replayed(self, alice, make_task):
        task = make_task(completed=False)
        first = flip(alice, task)
        alice.patch(f"/api/tasks/{task.pk}", {"title": "Renamed"}, format="json")

        replay = flip(alice, task)

        assert first["ETag"] == first.json()["etag"]
        assert_replay_of(replay, first)
        assert replay["ETag"] != alice.get(f"/api/tasks/{task.pk}")["ETag"]  # the first answer's, not today's

    def test_every_retry_is_a_replay(self, alice):
        first = create(alice)

        replays = [create(alice) for _ in range(3)]

        for replay in replays:
            assert_replay_of(replay, first)
        assert Task.objects.count() == 1

    def test_without_the_header_nothing_is_kept_and_every_request_runs(self, alice, make_task):
        task = make_task(completed=False)

        answers = [flip(alice, task, key=None).json()["completed"] for _ in range(2)]

        assert answers == [True, False]
        assert not IdempotencyRecord.objects.exists()

    def test_another_key_is_another_request(self, alice):
        create(alice, key="first")

        second = create(alice, key="second")

        assert_ran(second, 201)
        assert Task.objects.count() == 2


class TestSameRequest:
    """What counts as the same request: method, path without a trailing
    slash, and the body's parsed JSON."""

    @pytest.mark.parametrize(
        "first_body",
        [None, "", "{}", " { } "],
        ids=["no-body", "empty-body", "empty-object", "empty-object-spaced"],
    )
    @pytest.mark.parametrize("retry_body", [None, "", "{}"], ids=["no-body", "empty-body", "empty-object"])
    def test_no_body_an_empty_body_and_an_empty_object_are_the_same(self, alice, make_task, first_body, retry_body):
        task = make_task(completed=False)
        path = f"/api/tasks/{task.pk}/complete"

        first = send(alice, "patch", path, first_body)
        retry = send(alice, "patch", path, retry_body)

        assert_replay_of(retry, first)
        assert Task.objects.get(pk=task.pk).completed is True

    def test_key_order_and_whitespace_in_the_body_do_not_matter(self, alice):
        first = create(alice, '{"title": "Pay rent", "priority": "high", "description": null}')

        retry = create(alice, '{\n  "description":null,"priority" : "high",\t"title":"Pay rent"}')

        assert_replay_of(retry, first)

    def test_nested_key_order_does_not_matter(self, alice, make_task):
        first = create(alice, '{"title": "x", "ignored": {"b": [1, {"y": 2, "x": 1}], "a": true}}')

        retry = create(alice, '{"ignored": {"a": true, "b": [1, {"x": 1, "y": 2}]}, "title": "x"}')

        assert_replay_of(retry, first)

    @pytest.mark.parametrize(
        ("first_path", "retry_path"), [("/api/tasks", "/api/tasks/"), ("/api/tasks/", "/api/tasks")]
    )
    def test_a_trailing_slash_does_not_matter(self, alice, first_path, retry_path):
        first = send(alice, "post", first_path, {"title": "Buy milk"})

        retry = send(alice, "post", retry_path, {"title": "Buy milk"})

        assert_replay_of(retry, first)

    def test_a_trailing_slash_on_an_action_does_not_matter(self, alice, make_task):
        task = make_task(completed=False)

        first = send(alice, "patch", f"/api/tasks/{task.pk}/complete")
        retry = send(alice, "patch", f"/api/tasks/{task.pk}/complete/")

        assert_replay_of(retry, first)

    @pytest.mark.parametrize(
        ("a", "b"),
        [
            ('{"completed": true}', '{"completed": 1}'),
            ('{"completed": 1}', '{"completed": 1.0}'),
            ('{"title": "x"}', '{"title": "x "}'),
            ('{"title": "x"}', '{"title": "x", "description": null}'),
            ("[]", "{}"),
        ],
    )
    def test_bodies_that_differ_as_json_are_different_requests(self, rf: RequestFactory, a, b):
        def fingerprint(body: str) -> str:
            request = rf.post("/api/tasks", body, content_type="application/json")
            return request_fingerprint(Request(request, parsers=[StrictJSONParser()]))

        assert fingerprint(a) != fingerprint(b)
        assert fingerprint(a) == fingerprint(a)

    def test_the_method_is_part_of_the_request(self, rf: RequestFactory):
        def fingerprint(method: str) -> str:
            return request_fingerprint(Request(rf.generic(method, "/api/tasks/1/complete")))

        assert fingerprint("PATCH") != fingerprint("POST")


class TestDifferentRequest:
    def test_the_same_key_with_another_body_is_a_422_that_runs_nothing(self, alice):
        create(alice, {"title": "Buy milk"})
        before = database_state()

        response = create(alice, {"title": "Buy bread"})

        body = assert_json_error(response, 422)
        assert body == {"detail": REUSED_DETAIL, "errors": {"non_field_errors": [REUSED_DETAIL]}}
        assert "Idempotent-Replayed" not in response
        assert database_state() == before

    def test_the_same_key_on_another_task_is_a_422(self, alice, make_task):
        first_task, other_task = make_task(), make_task()
        flip(alice, first_task)

        response = flip(alice, other_task)

        assert assert_json_error(response, 422)["detail"] == REUSED_DETAIL
        assert Task.objects.get(pk=other_task.pk).completed is False

    def test_the_same_key_on_another_route_and_method_is_a_422(self, alice, make_task):
        task = make_task()
        create(alice)

        flipped = flip(alice, task)
        moved = move_first(alice, task)

        assert assert_json_error(flipped, 422)["detail"] == REUSED_DETAIL
        assert assert_json_error(moved, 422)["detail"] == REUSED_DETAIL
        assert Task.objects.get(pk=task.pk).completed is False

    def test_the_422_is_not_kept_the_first_answer_is(self, alice):
        first = create(alice, {"title": "Buy milk"})
        create(alice, {"title": "Buy bread"})

        assert_replay_of(create(alice, {"title": "Buy milk"}), first)
        assert create(alice, {"title": "Buy bread"}).status_code == 422


class TestKeysBelongToAUser:
    def test_another_users_identical_key_and_body_is_another_request(self, alice, bob):
        alices = create(alice)

        bobs = create(bob)

        assert_ran(bobs, 201)
        assert bobs.json()["id"] != alices.json()["id"]
        assert bobs.json()["user_id"] == "bob"
        assert Task.objects.filter(user_id="bob").count() == 1

    def test_another_users_key_with_another_body_is_no_422(self, alice, bob):
        create(alice, {"title": "Alice's"})

        assert_ran(create(bob, {"title": "Bob's"}), 201)


class TestBadKeys:
    @pytest.mark.parametrize(
        "key",
        ["", "x" * 256, "two words", " ", "clé", "\u00a0", "tab\there", "nul\x00", "del\x7f", "bell\x07", "é" * 10],
        ids=[
            "empty",
            "256-characters",
            "space",
            "only-a-space",
            "non-ascii",
            "no-break-space",
            "tab",
            "nul",
            "del",
            "control",
            "latin-1",
        ],
    )
    def test_a_bad_key_is_a_400_before_any_query(self, alice, make_task, django_assert_num_queries, key):
        task = make_task(completed=False)
        before = database_state()

        with django_assert_num_queries(0):
            responses = [create(alice, key=key), flip(alice, task, key=key), move_first(alice, task, key=key)]

        for response in responses:
            assert assert_json_error(response, 400) == {"detail": INVALID_DETAIL}
        assert database_state() == before
        assert not IdempotencyRecord.objects.exists()

    @pytest.mark.parametrize("key", ["x", "!", "~", "x" * 255, "".join(map(chr, range(0x21, 0x7F)))])
    def test_any_visible_ascii_of_1_to_255_characters_is_a_key(self, alice, key):
        first = create(alice, key=key)

        assert_ran(first, 201)
        assert_replay_of(create(alice, key=key), first)

    def test_a_bad_key_is_not_kept_the_retry_with_a_good_one_runs(self, alice):
        create(alice, key="bad key")

        assert_ran(create(alice, key="bad-key"), 201)


class TestNotKept:
    """401, 429 and 5xx answers are not kept: the retry runs."""

    def test_a_401_is_not_kept(self, api_client, alice):
        refused = create(api_client)

        retry = create(alice)

        assert refused.status_code == 401
        assert_ran(retry, 201)
        assert Task.objects.count() == 1

    def test_a_429_is_not_kept(self, alice, settings):
        settings.API_RATE_LIMIT = "1/min"
        cache.clear()
        alice.get("/api/tasks")

        throttled = create(alice)
        settings.API_RATE_LIMIT = "off"
        retry = create(alice)

        assert throttled.status_code == 429
        assert_ran(retry, 201)
        assert Task.objects.count() == 1

    @pytest.mark.parametrize(
        "refusal", [exceptions.Throttled(wait=5), exceptions.AuthenticationFailed("Token revoked")], ids=["429", "401"]
    )
    def test_a_401_or_429_from_the_action_itself_is_not_kept(self, alice, make_task, refusal):
        task = make_task(completed=False)

        with mock.patch.object(Task, "set_completed", side_effect=refusal):
            refused = flip(alice, task)
        retry = flip(alice, task)

        assert refused.status_code == refusal.status_code
        assert_ran(retry, 200)

    def test_a_500_is_not_kept_and_the_retry_runs(self, alice, make_task):
        task = make_task(completed=False)

        with mock.patch.object(Task, "set_completed", side_effect=RuntimeError("boom")):
            failed = flip(alice, task)
        retry = flip(alice, task)

        assert assert_json_error(failed, 500) == {"detail": "Internal server error"}
        assert_ran(retry, 200)
        assert retry.json()["completed"] is True
        assert list(IdempotencyRecord.objects.values_list("status", flat=True)) == [200]

    def test_a_500_after_the_write_rolls_the_write_back_so_the_retry_creates_one_task(self, alice):
        """The task was inserted, then the answer failed: the whole request is
        undone, or the retry that runs would create a second task."""
        with mock.patch.object(TaskViewSet, "get_success_headers", side_effect=RuntimeError("boom")):
            failed = create(alice)
        retry = create(alice)

        assert failed.status_code == 500
        assert_ran(retry, 201)
        assert Task.objects.count() == 1

    def test_a_503_is_not_kept(self, alice):
        with mock.patch.object(TaskViewSet, "perform_create", side_effect=OperationalError("gone")):
            failed = create(alice)
        retry = create(alice)

        assert failed.status_code == 503
        assert failed["Retry-After"]
        assert_ran(retry, 201)

    def test_a_malformed_body_is_refused_before_anything_is_kept(self, alice):
        malformed = create(alice, "{")

        assert assert_json_error(malformed, 400)["detail"].startswith("Malformed JSON")
        assert not IdempotencyRecord.objects.exists()
        assert_ran(create(alice, {"title": "x"}), 201)


class TestKept:
    """The route's own 4xx answers are kept like its 2xx."""

    def test_a_404_is_kept(self, alice):
        first = send(alice, "patch", "/api/tasks/424242/complete")

        replay = send(alice, "patch", "/api/tasks/424242/complete")

        assert first.status_code == 404
        assert_replay_of(replay, first)

    def test_a_404_for_an_impossible_id_is_kept(self, alice):
        first = send(alice, "patch", "/api/tasks/abc/complete")

        assert first.status_code == 404
        assert_replay_of(send(alice, "patch", "/api/tasks/abc/complete"), first)

    def test_a_validation_422_is_kept(self, alice):
        first = create(alice, {"title": " "})

        replay = create(alice, {"title": " "})

        assert first.status_code == 422
        assert "title" in first.json()["errors"]
        assert_replay_of(replay, first)

    def test_a_412_is_kept_with_the_etag_it_named(self, alice, make_task):
        task = make_task(completed=False)
        stale = alice.get(f"/api/tasks/{task.pk}")["ETag"]
        alice.patch(f"/api/tasks/{task.pk}", {"title": "Changed"}, format="json")
        first = flip(alice, task, HTTP_IF_MATCH=stale)
        alice.patch(f"/api/tasks/{task.pk}", {"title": "Changed again"}, format="json")

        replay = flip(alice, task, HTTP_IF_MATCH=stale)

        assert first.status_code == 412
        assert first["ETag"]
        assert_replay_of(replay, first)
        assert Task.objects.get(pk=task.pk).completed is False

    def test_a_409_over_the_quota_is_kept_even_once_there_is_room(self, alice, settings, make_task):
        settings.TASKS_MAX_PER_USER = 1
        existing = make_task()
        first = create(alice)
        existing.delete()

        replay = create(alice)

        assert first.status_code == 409
        assert_replay_of(replay, first)
        assert not Task.objects.exists()


class TestExpiry:
    def age(self, seconds: float) -> None:
        """Make every kept answer `seconds` old."""
        IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(seconds=seconds))

    def test_the_default_lifetime_is_a_day(self, settings):
        assert settings.IDEMPOTENCY_TTL_SECONDS == 86400

    def test_within_the_lifetime_a_retry_is_replayed(self, alice):
        first = create(alice)
        self.age(86400 - 60)

        assert_replay_of(create(alice), first)

    def test_an_expired_key_is_absent_the_request_runs_and_is_kept_anew(self, alice):
        first = create(alice)
        self.age(86400 + 1)

        second = create(alice)
        third = create(alice)

        assert_ran(second, 201)
        assert second.json()["id"] != first.json()["id"]
        assert_replay_of(third, second)
        assert IdempotencyRecord.objects.count() == 1

    def test_an_expired_key_may_be_used_for_another_request(self, alice):
        create(alice, {"title": "Buy milk"})
        self.age(86400 + 1)

        assert_ran(create(alice, {"title": "Buy bread"}), 201)

    @pytest.mark.parametrize(("age", "replayed"), [(59, True), (61, False)])
    def test_the_lifetime_follows_the_setting(self, alice, settings, age, replayed):
        settings.IDEMPOTENCY_TTL_SECONDS = 60
        create(alice)
        self.age(age)

        retry = create(alice)

        assert ("Idempotent-Replayed" in retry) is replayed
        assert Task.objects.count() == (1 if replayed else 2)

    def test_the_setting_is_read_from_the_environment(self, value_in_fresh_process):
        assert value_in_fresh_process("settings.IDEMPOTENCY_TTL_SECONDS") == 86400
        assert value_in_fresh_process("settings.IDEMPOTENCY_TTL_SECONDS", IDEMPOTENCY_TTL_SECONDS="60") == 60


class TestOneTransaction:
    """The record is written in the request's transaction: kept exactly when
    the route's effect is committed."""

    def test_a_rollback_of_the_routes_own_savepoint_keeps_the_answer(self, alice, make_task):
        """A route may roll back a no-op write in its own atomic block: that
        rolls back its savepoint only, not the record."""
        task = make_task(completed=False)

        def no_op_write(self: Task, completed: bool | None) -> None:
            with transaction.atomic():
                Task.objects.filter(pk=self.pk).update(title="never")
                transaction.set_rollback(True)

        with mock.patch.object(Task, "set_completed", no_op_write):
            first = flip(alice, task)
        replay = flip(alice, task)

        assert first.status_code == 200
        assert_replay_of(replay, first)
        assert Task.objects.get(pk=task.pk).title == "Buy milk"
        assert IdempotencyRecord.objects.count() == 1

    def test_a_route_that_rolls_back_the_whole_request_keeps_nothing(self, alice):
        """Marked for rollback outside any atomic block of its own, the
        request's transaction is undone: its effect, and so the record too."""

        def roll_back(view: TaskViewSet, data: dict[str, Any]) -> dict[str, str]:
            transaction.set_rollback(True)
            return {"Location": f"/api/tasks/{data['id']}"}

        with mock.patch.object(TaskViewSet, "get_success_headers", roll_back):
            first = create(alice)

        assert first.status_code == 201
        assert not IdempotencyRecord.objects.exists()
        assert not Task.objects.exists()

    def test_the_record_holds_the_answer_and_no_request_content(self, alice):
        first = create(alice)

        record = IdempotencyRecord.objects.get()

        assert (record.user_id, record.key, record.status) == ("alice", KEY, 201)
        assert bytes(record.body) == first.content
        assert record.headers == {
            "Content-Type": JSON_CONTENT_TYPE,
            "Location": first["Location"],
            "ETag": first["ETag"],
        }
        assert len(record.fingerprint) == 64
        assert "Buy milk" not in record.fingerprint


def statements(send: Callable[[], Any]) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        send()
    return [query["sql"] for query in captured.captured_queries]


class TestQueryCounts:
    """With the header: the route's own statements, unchanged, between the
    record's: a transaction of its own (here a SAVEPOINT, as tests run in one),
    on PostgreSQL the advisory lock, the record's lookup, and after the route
    its insert. Without the header, the route's own statements only
    (tasks/tests/test_query_counts.py pins those)."""

    def before(self) -> int:
        """Statements before the route's: SAVEPOINT, [lock], SELECT record."""
        return 3 if connection.vendor == "postgresql" else 2

    def assert_wrapped(self, keyed: list[str], own: list[str]) -> None:
        before = self.before()
        assert keyed[0].startswith("SAVEPOINT")
        if connection.vendor == "postgresql":
            assert "pg_try_advisory_xact_lock" in keyed[1]
        assert 'FROM "api_idempotencyrecord"' in keyed[before - 1]
        assert [sql.split(" ", 1)[0] for sql in keyed[before:-2]] == [sql.split(" ", 1)[0] for sql in own]
        assert keyed[-2].startswith(('INSERT INTO "api_idempotencyrecord"', 'UPDATE "api_idempotencyrecord"'))
        assert keyed[-1].startswith("RELEASE SAVEPOINT")

    def test_a_create_with_a_key(self, alice, django_assert_num_queries):
        create(alice, key=None)  # the owner row exists
        own = statements(lambda: create(alice, key=None))

        with django_assert_num_queries(len(own) + self.before() + 2) as captured:
            response = create(alice)

        assert response.status_code == 201
        self.assert_wrapped([query["sql"] for query in captured.captured_queries], own)

    def test_a_flip_with_a_key(self, alice, make_task, django_assert_num_queries):
        task = make_task()
        flip(alice, task, key=None)
        own = statements(lambda: flip(alice, task, key=None))

        with django_assert_num_queries(len(own) + self.before() + 2) as captured:
            response = flip(alice, task)

        assert response.status_code == 200
        self.assert_wrapped([query["sql"] for query in captured.captured_queries], own)

    def test_a_replay(self, alice, django_assert_num_queries):
        create(alice)

        # SAVEPOINT, [lock], SELECT record, RELEASE SAVEPOINT
        with django_assert_num_queries(self.before() + 1):
            response = create(alice)

        assert response["Idempotent-Replayed"] == "true"

    def test_a_reused_key(self, alice, django_assert_num_queries):
        create(alice)

        # SAVEPOINT, [lock], SELECT record, ROLLBACK TO SAVEPOINT, RELEASE SAVEPOINT
        with django_assert_num_queries(self.before() + 2):
            response = create(alice, {"title": "another"})

        assert response.status_code == 422

    def test_an_expired_record_is_replaced_in_one_update(self, alice, django_assert_num_queries):
        create(alice, key=None)
        own = statements(lambda: create(alice, key=None))
        create(alice)
        IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(days=2))

        with django_assert_num_queries(len(own) + self.before() + 2) as captured:
            response = create(alice)

        assert response.status_code == 201
        assert captured.captured_queries[-2]["sql"].startswith('UPDATE "api_idempotencyrecord"')


def test_a_replay_carries_the_request_id_of_the_retry(alice: APIClient) -> None:
    create(alice, HTTP_X_REQUEST_ID="first-request")

    replay = create(alice, HTTP_X_REQUEST_ID="retry-request")

    assert replay["X-Request-ID"] == "retry-request"


def test_the_answer_parses_like_the_first(alice: APIClient, make_task: Callable[..., Task]) -> None:
    task = make_task()
    first = move_first(alice, task)

    replay = move_first(alice, task)

    assert replay["Content-Type"] == JSON_CONTENT_TYPE
    assert json.loads(replay.content) == first.json()
