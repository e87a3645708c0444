"""GET /api/sync: a full sync, then the changes since each token
(docs/api.md, "Incremental sync")."""

import time
from datetime import timedelta
from typing import Any

import pytest
from django.core import signing
from rest_framework.test import APIClient

from tasks.models import Task
from tasks.sync import TOKEN_SALT, decode_token, encode_token


def sync(client: APIClient, token: str | None = None) -> dict[str, Any]:
    response = client.get("/api/sync", None if token is None else {"token": token})
    assert response.status_code == 200, response.content
    return response.json()


def token_now(client: APIClient) -> str:
    return sync(client)["sync_token"]


def live(client: APIClient) -> dict[int, dict[str, Any]]:
    return {item["id"]: item for item in client.get("/api/tasks").json()["items"]}


class TestFullSync:
    def test_without_a_token_it_answers_every_live_task_by_id(self, alice, make_task) -> None:
        tasks = [make_task(title=f"t{n}") for n in range(3)]
        alice.delete(f"/api/tasks/{tasks[1].pk}")

        answer = sync(alice)

        assert [item["id"] for item in answer["items"]] == [tasks[0].pk, tasks[2].pk]
        assert answer["deleted"] == []
        assert answer["items"] == [live(alice)[tasks[0].pk], live(alice)[tasks[2].pk]]
        assert isinstance(answer["sync_token"], str) and answer["sync_token"]

    def test_only_the_callers_tasks(self, alice, bob, make_task) -> None:
        make_task("bob")

        assert sync(alice)["items"] == []

    def test_a_user_with_no_task_gets_a_token_too(self, alice, db) -> None:
        answer = sync(alice)

        assert answer["items"] == [] and answer["deleted"] == []
        delta = sync(alice, answer["sync_token"])
        assert delta["items"] == [] and delta["deleted"] == [] and delta["sync_token"]


class TestDelta:
    def test_no_change_since_the_token_is_an_empty_delta(self, alice, make_task) -> None:
        make_task()
        token = token_now(alice)

        answer = sync(alice, token)

        assert answer["items"] == [] and answer["deleted"] == []

    @pytest.mark.parametrize(
        "change",
        [
            lambda client, task: client.patch(f"/api/tasks/{task.pk}", {"title": "New"}, format="json"),
            lambda client, task: client.put(f"/api/tasks/{task.pk}", {"priority": "high"}, format="json"),
            lambda client, task: client.patch(f"/api/tasks/{task.pk}/complete"),
            lambda client, task: client.post(f"/api/tasks/{task.pk}/move", {"after": None}, format="json"),
        ],
        ids=["patch", "put", "complete", "move"],
    )
    def test_a_changed_task_comes_as_it_is_now(self, alice, make_task, change) -> None:
        task = make_task()
        make_task(title="newer, so the first task can move to the top")
        token = token_now(alice)

        change(alice, task)

        answer = sync(alice, token)
        assert answer["items"] == [live(alice)[task.pk]]
        assert answer["deleted"] == []

    def test_a_created_task_comes_in_items(self, alice, db) -> None:
        token = token_now(alice)

        created = alice.post("/api/tasks", {"title": "New"}, format="json").json()

        assert sync(alice, token)["items"] == [created]

    def test_a_trashed_task_comes_in_deleted(self, alice, make_task) -> None:
        task = make_task()
        token = token_now(alice)

        alice.delete(f"/api/tasks/{task.pk}")

        assert sync(alice, token) | {"sync_token": None} == {"items": [], "deleted": [task.pk], "sync_token": None}

    def test_a_task_created_and_trashed_since_the_token_comes_in_deleted(self, alice, db) -> None:
        token = token_now(alice)
        task_id = alice.post("/api/tasks", {"title": "Brief"}, format="json").json()["id"]
        alice.delete(f"/api/tasks/{task_id}")

        answer = sync(alice, token)

        assert answer["items"] == [] and answer["deleted"] == [task_id]

    def test_a_restored_task_comes_in_items(self, alice, make_task) -> None:
        task = make_task()
        alice.delete(f"/api/tasks/{task.pk}")
        token = token_now(alice)

        restored = alice.post(f"/api/trash/{task.pk}/restore").json()

        assert sync(alice, token) | {"sync_token": None} == {"items": [restored], "deleted": [], "sync_token": None}

    @pytest.mark.parametrize(
        "purge",
        [
            lambda client, task: client.delete(f"/api/trash/{task.pk}"),
            lambda client, task: client.delete("/api/trash"),
        ],
        ids=["one", "empty-the-trash"],
    )
    def test_a_task_trashed_and_purged_since_the_token_comes_in_deleted(self, alice, make_task, purge) -> None:
        task = make_task()
        token = token_now(alice)
        alice.delete(f"/api/tasks/{task.pk}")

        purge(alice, task)

        assert sync(alice, token)["deleted"] == [task.pk]
        assert not Task.all_objects.filter(pk=task.pk).exists()

    def test_a_purge_names_the_task_to_a_token_taken_while_it_was_in_the_trash(self, alice, make_task) -> None:
        task = make_task()
        alice.delete(f"/api/tasks/{task.pk}")
        token = token_now(alice)

        alice.delete(f"/api/trash/{task.pk}")

        assert sync(alice, token)["deleted"] == [task.pk]

    def test_clear_completed_trashes_in_one_change(self, alice, make_task) -> None:
        done = [make_task(completed=True) for _ in range(3)]
        make_task(completed=False)
        token = token_now(alice)

        alice.post("/api/tasks/clear-completed")

        assert sync(alice, token)["deleted"] == sorted(task.pk for task in done)

    def test_items_and_deleted_are_sorted_by_id_and_never_share_an_id(self, alice, make_task) -> None:
        tasks = [make_task(title=f"t{n}") for n in range(6)]
        token = token_now(alice)
        for task in reversed(tasks[:3]):
            alice.patch(f"/api/tasks/{task.pk}", {"title": "changed"}, format="json")
        for task in reversed(tasks[3:]):
            alice.delete(f"/api/tasks/{task.pk}")

        answer = sync(alice, token)

        assert [item["id"] for item in answer["items"]] == [task.pk for task in tasks[:3]]
        assert answer["deleted"] == [task.pk for task in tasks[3:]]

    def test_another_users_changes_are_not_in_the_delta(self, alice, bob, make_task) -> None:
        task = make_task("bob")
        token = token_now(alice)

        bob.patch(f"/api/tasks/{task.pk}", {"title": "Bob's"}, format="json")
        bob.delete(f"/api/tasks/{task.pk}")

        assert sync(alice, token) | {"sync_token": None} == {"items": [], "deleted": [], "sync_token": None}

    @pytest.mark.parametrize(
        "no_op",
        [
            lambda client, task: client.patch(f"/api/tasks/{task.pk}", {"title": task.title}, format="json"),
            lambda client, task: client.patch(f"/api/tasks/{task.pk}/complete", {"completed": False}, format="json"),
            lambda client, task: client.post(f"/api/tasks/{task.pk}/move", {"after": None}, format="json"),
            lambda client, task: client.post("/api/tasks/clear-completed"),
        ],
        ids=["same-title", "same-state", "move-in-place", "nothing-to-clear"],
    )
    def test_a_write_that_changes_nothing_is_not_a_change(self, alice, make_task, no_op) -> None:
        task = make_task(completed=False)
        token = token_now(alice)

        no_op(alice, task)

        answer = sync(alice, token)
        assert answer["items"] == [] and answer["deleted"] == []

    def test_a_refused_write_is_not_a_change(self, alice, make_task) -> None:
        task = make_task()
        token = token_now(alice)

        alice.patch(f"/api/tasks/{task.pk}", {"title": ""}, format="json")
        alice.patch(f"/api/tasks/{task.pk}", {"title": "x"}, format="json", HTTP_IF_MATCH='"stale"')

        assert sync(alice, token)["items"] == []

    def test_neighbours_renumbered_by_a_move_come_as_changed(self, alice, make_task, monkeypatch) -> None:
        monkeypatch.setattr("tasks.manual_order.KEY_MAX_LENGTH", 2)  # every gap runs out at once
        tasks = [make_task(title=f"t{n}") for n in range(5)]
        token = token_now(alice)

        alice.post(f"/api/tasks/{tasks[0].pk}/move", {"after": tasks[4].pk}, format="json")

        answer = sync(alice, token)
        changed = {item["id"] for item in answer["items"]}
        assert tasks[0].pk in changed and len(changed) > 1
        assert answer["items"] == [live(alice)[task_id] for task_id in sorted(changed)]

    def test_applying_every_delta_in_turn_gives_the_live_tasks(self, alice, make_task) -> None:
        copy: dict[int, dict[str, Any]] = {}
        answer = sync(alice)
        for step in range(6):
            task = make_task(title=f"step {step}")
            if step % 2:
                alice.patch(f"/api/tasks/{task.pk}/complete")
            if step % 3 == 2:
                alice.delete(f"/api/tasks/{task.pk}")
            answer = sync(alice, answer["sync_token"])
            copy.update({item["id"]: item for item in answer["items"]})
            for task_id in answer["deleted"]:
                copy.pop(task_id, None)

        assert copy == live(alice)


class TestTokens:
    @pytest.mark.parametrize(
        "token",
        ["", "nope", "e30:1vB2xq:abc", "W10:1vB2xq:3nq0m8Yw7pYyJ1yq9cQ2Zc0Hc4m2w9k1m1J2qVd1Xx8"],
        ids=["empty", "garbage", "forged", "unsigned-shape"],
    )
    def test_a_token_that_is_not_one_of_ours_is_a_400(self, alice, db, token) -> None:
        response = alice.get("/api/sync", {"token": token})

        assert response.status_code == 400
        assert response.json() == {"detail": "Invalid sync token"}

    def test_an_altered_token_is_a_400(self, alice, db) -> None:
        token = token_now(alice)
        altered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]

        assert alice.get("/api/sync", {"token": altered}).json() == {"detail": "Invalid sync token"}

    def test_another_users_token_is_a_400(self, alice, bob, db) -> None:
        response = alice.get("/api/sync", {"token": token_now(bob)})

        assert response.status_code == 400
        assert response.json() == {"detail": "Invalid sync token"}

    def test_a_list_cursor_is_not_a_sync_token(self, alice, make_task) -> None:
        make_task(), make_task()
        cursor = alice.get("/api/tasks?limit=1").json()["next_cursor"]

        assert alice.get("/api/sync", {"token": cursor}).status_code == 400

    def test_a_token_older_than_the_trash_retention_is_a_410(self, alice, db, settings, monkeypatch) -> None:
        settings.TRASH_RETENTION_DAYS = 30
        token = token_now(alice)
        real_time = time.time
        monkeypatch.setattr(
            "django.core.signing.time.time", lambda: real_time() + timedelta(days=30, seconds=1).total_seconds()
        )

        response = alice.get("/api/sync", {"token": token})

        assert response.status_code == 410
        assert response.json() == {"detail": "Sync token expired: do a full sync"}

    def test_a_token_younger_than_the_trash_retention_is_accepted(self, alice, db, settings, monkeypatch) -> None:
        settings.TRASH_RETENTION_DAYS = 30
        token = token_now(alice)
        real_time = time.time
        monkeypatch.setattr("django.core.signing.time.time", lambda: real_time() + timedelta(days=29).total_seconds())

        assert alice.get("/api/sync", {"token": token}).status_code == 200

    def test_a_token_from_ahead_of_the_database_is_a_410(self, alice, make_task) -> None:
        """A database restored from an older backup: the client holds changes it lost."""
        make_task()
        ahead = encode_token("alice", decode_token("alice", token_now(alice)) + 1000)

        assert alice.get("/api/sync", {"token": ahead}).status_code == 410

    def test_the_token_is_signed_with_its_own_salt(self, alice, db) -> None:
        signing.loads(token_now(alice), salt=TOKEN_SALT)  # raises if not


class TestQueryCounts:
    def test_a_delta_is_the_counter_the_live_changes_and_the_deletions(
        self, alice, make_task, django_assert_num_queries
    ) -> None:
        for _ in range(5):
            make_task()
        token = token_now(alice)

        with django_assert_num_queries(3):
            alice.get("/api/sync", {"token": token})

    def test_a_full_sync_is_the_counter_and_the_tasks(self, alice, make_task, django_assert_num_queries) -> None:
        for _ in range(5):
            make_task()

        with django_assert_num_queries(2):
            alice.get("/api/sync")

    def test_a_bad_token_is_refused_before_any_query(self, alice, db, django_assert_num_queries) -> None:
        with django_assert_num_queries(0):
            alice.get("/api/sync", {"token": "nope"})
