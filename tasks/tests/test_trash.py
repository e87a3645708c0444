"""The trash: DELETE /api/tasks/{id} moves a task there; GET /api/trash lists
it; it can be restored to its old place or deleted for good, one task or
the whole trash; POST /api/tasks/clear-completed trashes the completed
tasks in one step. (`manage.py purge_trash`: test_purge_trash.py.)"""

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import signing

from tasks.models import Task, TaskTombstone
from tasks.sync import user_digest
from tasks.trash_views import CURSOR_SALT
from testing.assertions import assert_json_error

pytestmark = pytest.mark.django_db

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
LIMIT_DETAIL = "Invalid limit: must be an integer from 1 to 200"
NOT_FOUND = {"detail": "Task not found"}
MISSING_ID = 424242
MAY_1 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def trash(client, task: Task | int) -> None:
    task_id = task if isinstance(task, int) else task.pk
    assert client.delete(f"/api/tasks/{task_id}").status_code == 204


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def stored(*task_ids: int) -> list[Any]:
    """The rows as stored, trash included, and the tombstones: equal before
    and after means nothing was written."""
    tasks = list(Task.all_objects.filter(pk__in=task_ids).order_by("pk").values())
    tombstones = list(TaskTombstone.objects.order_by("pk").values())
    return [*tasks, *tombstones]


def link_target(response) -> str:
    link = response["Link"]
    assert link.endswith('>; rel="next"'), link
    return link[1 : -len('>; rel="next"')]


def created(client, title: str = "x", **fields: Any) -> int:
    response = client.post("/api/tasks", {"title": title, **fields}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def in_position_order(client) -> list[int]:
    return ids(client.get("/api/tasks", {"ordering": "position"}))


class TestDeleteTrashes:
    @pytest.fixture
    def task(self, alice, make_task) -> Task:
        task = make_task(title="Going to the trash")
        response = alice.delete(f"/api/tasks/{task.pk}")
        assert response.status_code == 204
        assert response.content == b""
        return task

    def test_a_deleted_task_is_kept_in_the_trash(self, task) -> None:
        assert Task.all_objects.get(pk=task.pk).deleted_at is not None
        assert not Task.objects.filter(pk=task.pk).exists()

    def test_a_deleted_task_is_absent_from_the_list(self, alice, make_task, task) -> None:
        live = make_task()

        assert ids(alice.get("/api/tasks")) == [live.pk]

    @pytest.mark.parametrize(
        ("method", "suffix", "body"),
        [
            ("get", "", None),
            ("put", "", {"title": "Back?"}),
            ("patch", "", {"title": "Back?"}),
            ("delete", "", None),
            ("patch", "/complete", {}),
            ("post", "/move", {"after": None}),
        ],
        ids=["get", "put", "patch", "delete", "complete", "move"],
    )
    def test_a_trashed_task_is_404_on_every_task_route(self, alice, task, method, suffix, body) -> None:
        before = stored(task.pk)

        response = getattr(alice, method)(f"/api/tasks/{task.pk}{suffix}", body, format="json")

        assert response.status_code == 404
        assert response.json() == NOT_FOUND
        assert stored(task.pk) == before

    def test_moving_after_a_trashed_task_is_422_like_after_a_missing_one(self, alice, make_task, task) -> None:
        other = make_task()

        after_trashed = alice.post(f"/api/tasks/{other.pk}/move", {"after": task.pk}, format="json")
        after_missing = alice.post(f"/api/tasks/{other.pk}/move", {"after": MISSING_ID}, format="json")

        assert_json_error(after_trashed, 422)
        assert after_trashed.json() == after_missing.json()
        assert "after" in after_trashed.json()["errors"]


class TestTrashList:
    def test_a_trashed_task_is_listed_with_when_it_was_deleted(self, alice, make_task) -> None:
        task = make_task(title="Old news", description="gone")
        before = alice.get(f"/api/tasks/{task.pk}").json()
        trash(alice, task)

        body = alice.get("/api/trash").json()

        (item,) = body["items"]
        deleted_at = Task.all_objects.get(pk=task.pk).deleted_at
        assert deleted_at is not None
        assert item == {**before, "deleted_at": deleted_at.astimezone(UTC).strftime(TIMESTAMP_FORMAT)}
        assert list(item)[-1] == "deleted_at"
        assert body["count"] == 1
        assert body["next_cursor"] is None

    def test_most_recently_deleted_first(self, alice, make_task) -> None:
        first, second, third = make_task(), make_task(), make_task()
        for task in (second, third, first):
            trash(alice, task)

        assert ids(alice.get("/api/trash")) == [first.pk, third.pk, second.pk]

    def test_tasks_deleted_at_the_same_moment_go_by_id_descending(self, alice, make_task) -> None:
        tasks = [make_task(deleted_at=MAY_1) for _ in range(3)]
        later = make_task(deleted_at=MAY_1 + timedelta(microseconds=1))

        assert ids(alice.get("/api/trash")) == [later.pk, *sorted((task.pk for task in tasks), reverse=True)]

    def test_only_the_callers_trashed_tasks(self, alice, bob, make_task) -> None:
        mine = make_task("alice", deleted_at=MAY_1)
        make_task("alice")
        make_task("bob", deleted_at=MAY_1)

        assert ids(alice.get("/api/trash")) == [mine.pk]

    def test_an_empty_trash(self, alice, make_task) -> None:
        make_task()

        assert alice.get("/api/trash").json() == {"items": [], "count": 0, "next_cursor": None}

    def test_without_a_token_is_401(self, api_client) -> None:
        assert_json_error(api_client.get("/api/trash"), 401)


class TestTrashPages:
    @pytest.fixture
    def trashed(self, make_task) -> list[int]:
        """Seven trashed tasks, as the trash lists them; two share a moment."""
        tasks = [make_task(deleted_at=MAY_1 + timedelta(minutes=n % 6)) for n in range(7)]
        make_task("bob", deleted_at=MAY_1)
        return [task.pk for task in sorted(tasks, key=lambda task: (task.deleted_at, task.pk), reverse=True)]

    def walk(self, client, limit: int) -> list[list[int]]:
        pages, cursor = [], None
        while True:
            response = client.get("/api/trash", {"limit": limit, **({"cursor": cursor} if cursor else {})})
            body = response.json()
            pages.append(ids(response))
            assert body["count"] == len(body["items"])
            cursor = body["next_cursor"]
            if cursor is None:
                assert "Link" not in response
                return pages
            assert len(body["items"]) == limit

    @pytest.mark.parametrize("limit", [1, 2, 3, 7, 200])
    def test_pages_walk_the_trash_in_order_once(self, alice, trashed, limit) -> None:
        pages = self.walk(alice, limit)

        assert [task_id for page in pages for task_id in page] == trashed
        assert len(pages) == max(1, -(-len(trashed) // limit))

    def test_a_page_has_the_limit_and_a_cursor_when_more_follow(self, alice, trashed) -> None:
        body = alice.get("/api/trash", {"limit": 3}).json()

        assert [item["id"] for item in body["items"]] == trashed[:3]
        assert body["count"] == 3
        assert isinstance(body["next_cursor"], str)

    def test_link_is_the_absolute_url_of_the_next_page(self, alice, trashed) -> None:
        response = alice.get("/api/trash/", {"limit": "3", "other": "kept"})

        target = link_target(response)
        assert target.startswith("http://testserver/api/trash/?")
        query = parse_qs(urlsplit(target).query)
        assert query == {"limit": ["3"], "other": ["kept"], "cursor": [response.json()["next_cursor"]]}
        assert ids(alice.get(target)) == trashed[3:6]

    def test_no_link_without_limit(self, alice, trashed) -> None:
        response = alice.get("/api/trash")

        assert "Link" not in response
        assert ids(response) == trashed

    def test_a_cursor_without_limit_gives_the_rest(self, alice, trashed) -> None:
        cursor = alice.get("/api/trash", {"limit": 2}).json()["next_cursor"]

        assert ids(alice.get("/api/trash", {"cursor": cursor})) == trashed[2:]

    def test_a_task_trashed_during_a_walk_does_not_disturb_it(self, alice, make_task, trashed) -> None:
        first = alice.get("/api/trash", {"limit": 3}).json()
        trash(alice, make_task())

        rest = ids(alice.get("/api/trash", {"cursor": first["next_cursor"]}))

        assert [item["id"] for item in first["items"]] + rest == trashed

    @pytest.mark.parametrize("limit", ["", "0", "201", "-1", "+5", "1.5", "ten", " 5", "\uff15", "1e2"])
    def test_a_bad_limit_is_400_with_the_task_lists_detail(self, alice, trashed, limit) -> None:
        response = alice.get("/api/trash", {"limit": limit})

        assert_json_error(response, 400)
        assert response.json() == {"detail": LIMIT_DETAIL}
        assert alice.get("/api/tasks", {"limit": limit}).json() == response.json()

    def test_a_bad_limit_is_400_before_a_bad_cursor(self, alice) -> None:
        assert alice.get("/api/trash", {"limit": "0", "cursor": "x"}).json() == {"detail": LIMIT_DETAIL}

    @pytest.mark.parametrize(
        "alter",
        [
            pytest.param(lambda cursor: cursor[:-2], id="truncated"),
            pytest.param(lambda cursor: cursor[:-1] + ("A" if cursor[-1] != "A" else "B"), id="altered"),
            pytest.param(lambda cursor: "x" + cursor, id="prefixed"),
            pytest.param(lambda cursor: "", id="empty"),
            pytest.param(lambda cursor: "not-a-cursor", id="garbage"),
        ],
    )
    def test_an_altered_cursor_is_invalid(self, alice, trashed, alter) -> None:
        cursor = alice.get("/api/trash", {"limit": 2}).json()["next_cursor"]

        response = alice.get("/api/trash", {"limit": 2, "cursor": alter(cursor)})

        assert_json_error(response, 400)
        assert response.json() == {"detail": "Invalid cursor"}

    def test_another_users_cursor_is_invalid(self, alice, bob, make_task, trashed) -> None:
        make_task("bob", deleted_at=MAY_1 + timedelta(days=1))
        bobs_cursor = bob.get("/api/trash", {"limit": 1}).json()["next_cursor"]
        assert bobs_cursor is not None

        response = alice.get("/api/trash", {"cursor": bobs_cursor})

        assert response.status_code == 400
        assert response.json() == {"detail": "Invalid cursor"}

    def test_a_task_list_cursor_is_invalid_here(self, alice, make_task, trashed) -> None:
        make_task()
        make_task()
        list_cursor = alice.get("/api/tasks", {"limit": 1}).json()["next_cursor"]

        assert alice.get("/api/trash", {"cursor": list_cursor}).json() == {"detail": "Invalid cursor"}

    @pytest.mark.parametrize(
        "payload",
        [
            pytest.param(lambda digest: [digest, ["2026-05-01T12:00:00", 1]], id="naive-datetime"),
            pytest.param(lambda digest: [digest, ["yesterday", 1]], id="not-a-datetime"),
            pytest.param(lambda digest: [digest, ["2026-05-01T12:00:00+00:00", "1"]], id="id-not-an-int"),
            pytest.param(lambda digest: [digest, ["2026-05-01T12:00:00+00:00", True]], id="id-a-bool"),
            pytest.param(lambda digest: [digest], id="short"),
        ],
    )
    def test_a_signed_cursor_of_the_wrong_shape_is_invalid(self, alice, trashed, payload) -> None:
        """Signed with the service's key, so only a bug could make one: still a 400, never a 500."""
        cursor = signing.dumps(payload(user_digest("alice")), salt=CURSOR_SALT, compress=True)

        assert alice.get("/api/trash", {"cursor": cursor}).json() == {"detail": "Invalid cursor"}


class TestRoutesOfTheTrashSeeOnlyTheCallersTrash:
    @pytest.fixture(params=["live", "another users trashed", "missing", "not a number", "zero"])
    def task_id(self, request, make_task) -> str:
        if request.param == "live":
            return str(make_task("alice").pk)
        if request.param == "another users trashed":
            return str(make_task("bob", deleted_at=MAY_1).pk)
        return {"missing": str(MISSING_ID), "not a number": "abc", "zero": "0"}[request.param]

    @pytest.mark.parametrize(("method", "suffix"), [("post", "/restore"), ("delete", "")], ids=["restore", "purge"])
    def test_404_task_not_found_writing_nothing(self, alice, task_id, method, suffix) -> None:
        before = stored(*Task.all_objects.values_list("pk", flat=True))

        response = getattr(alice, method)(f"/api/trash/{task_id}{suffix}")

        assert_json_error(response, 404)
        assert response.json() == NOT_FOUND
        assert stored(*Task.all_objects.values_list("pk", flat=True)) == before


class TestRestore:
    def test_restore_brings_the_task_back_unchanged_but_for_updated_at(self, alice, make_task) -> None:
        task = make_task(title="Call mum", description="Sunday", priority=2, due_date=datetime(2030, 1, 2).date())
        before = alice.get(f"/api/tasks/{task.pk}").json()
        trash(alice, task)

        response = alice.post(f"/api/trash/{task.pk}/restore")

        assert response.status_code == 200
        body = response.json()
        assert {**body, "updated_at": None, "etag": None} == {**before, "updated_at": None, "etag": None}
        assert body["updated_at"] > before["updated_at"]
        assert body["etag"] != before["etag"]
        assert response["ETag"] == body["etag"]
        assert "deleted_at" not in body
        assert alice.get(f"/api/tasks/{task.pk}").json() == body

    def test_a_restored_task_is_listed_again_and_leaves_the_trash(self, alice, make_task) -> None:
        task = make_task()
        trash(alice, task)

        alice.post(f"/api/trash/{task.pk}/restore/")

        assert ids(alice.get("/api/tasks")) == [task.pk]
        assert ids(alice.get("/api/trash")) == []
        assert alice.post(f"/api/trash/{task.pk}/restore").status_code == 404

    def test_a_restored_task_goes_back_to_its_place_in_the_manual_order(self, alice) -> None:
        bottom, middle, top = (created(alice, name) for name in ("bottom", "middle", "top"))
        assert in_position_order(alice) == [top, middle, bottom]
        trash(alice, middle)

        alice.post(f"/api/trash/{middle}/restore")

        assert in_position_order(alice) == [top, middle, bottom]

    def test_a_create_at_the_top_meanwhile_does_not_take_the_trashed_first_place(self, alice) -> None:
        second = created(alice, "second")
        first = created(alice, "first")
        trash(alice, first)

        newest = created(alice, "created while first was in the trash")
        alice.post(f"/api/trash/{first}/restore")

        assert in_position_order(alice) == [newest, first, second]
        assert_positions_unique()

    def test_a_move_into_the_gap_meanwhile_does_not_take_the_trashed_place(self, alice) -> None:
        bottom, middle, top = (created(alice, name) for name in ("bottom", "middle", "top"))
        trash(alice, middle)
        mover = created(alice, "mover")
        assert alice.post(f"/api/tasks/{mover}/move", {"after": top}, format="json").status_code == 200
        assert in_position_order(alice) == [top, mover, bottom]

        alice.post(f"/api/trash/{middle}/restore")

        order = in_position_order(alice)
        assert order.index(top) < order.index(middle) < order.index(bottom)
        assert order.index(top) < order.index(mover) < order.index(bottom)
        assert_positions_unique()

    def test_many_moves_into_the_gap_meanwhile_never_take_the_trashed_place(self, alice) -> None:
        bottom, middle, top = (created(alice, name) for name in ("bottom", "middle", "top"))
        trash(alice, middle)
        movers = [created(alice, f"mover {n}") for n in range(6)]
        for mover in movers:  # each one right after `top`: into the gap, again and again
            assert alice.post(f"/api/tasks/{mover}/move", {"after": top}, format="json").status_code == 200
            assert_positions_unique()

        alice.post(f"/api/trash/{middle}/restore")

        order = in_position_order(alice)
        assert order.index(top) < order.index(middle) < order.index(bottom)
        assert_positions_unique()

    def test_a_restore_over_the_task_limit_is_409_and_writes_nothing(self, alice, make_task, settings) -> None:
        settings.TASKS_MAX_PER_USER = 2
        task = make_task(deleted_at=MAY_1)
        make_task()
        make_task()
        before = stored(*Task.all_objects.values_list("pk", flat=True))

        response = alice.post(f"/api/trash/{task.pk}/restore")

        assert_json_error(response, 409)
        assert response.json() == {"detail": "Task limit reached: a user can hold at most 2 tasks"}
        assert stored(*Task.all_objects.values_list("pk", flat=True)) == before

    def test_a_restore_up_to_the_limit_succeeds(self, alice, make_task, settings) -> None:
        settings.TASKS_MAX_PER_USER = 2
        task = make_task(deleted_at=MAY_1)
        make_task()
        make_task("alice", deleted_at=MAY_1)  # the trash does not count

        assert alice.post(f"/api/trash/{task.pk}/restore").status_code == 200


def assert_positions_unique() -> None:
    positions = list(Task.all_objects.filter(user_id="alice").values_list("position", flat=True))
    assert len(positions) == len(set(positions)), positions


class TestPurgeOne:
    def test_purge_deletes_the_task_for_good(self, alice, make_task) -> None:
        task, other = make_task(), make_task()
        trash(alice, task)
        trash(alice, other)

        response = alice.delete(f"/api/trash/{task.pk}")

        assert response.status_code == 204
        assert response.content == b""
        assert not Task.all_objects.filter(pk=task.pk).exists()
        assert ids(alice.get("/api/trash")) == [other.pk]
        assert_json_error(alice.post(f"/api/trash/{task.pk}/restore"), 404)
        assert_json_error(alice.delete(f"/api/trash/{task.pk}/"), 404)

    def test_purge_leaves_a_tombstone_for_sync(self, alice, make_task) -> None:
        task = make_task(deleted_at=MAY_1)

        alice.delete(f"/api/trash/{task.pk}")

        assert list(TaskTombstone.objects.values_list("user_id", "task_id")) == [("alice", task.pk)]


class TestEmptyTrash:
    def test_empty_deletes_every_trashed_task_of_the_caller_only(self, alice, make_task) -> None:
        mine = [make_task(deleted_at=MAY_1) for _ in range(3)]
        live = make_task()
        bobs = make_task("bob", deleted_at=MAY_1)

        response = alice.delete("/api/trash")

        assert response.status_code == 200
        assert response.json() == {"deleted": 3}
        assert set(Task.all_objects.values_list("pk", flat=True)) == {live.pk, bobs.pk}
        assert sorted(TaskTombstone.objects.values_list("task_id", flat=True)) == sorted(task.pk for task in mine)

    def test_emptying_an_empty_trash_deletes_nothing(self, alice, make_task) -> None:
        make_task()
        make_task("bob", deleted_at=MAY_1)

        assert alice.delete("/api/trash/").json() == {"deleted": 0}
        assert Task.all_objects.count() == 2


class TestClearCompleted:
    def test_clear_completed_trashes_the_completed_tasks_and_names_them_ascending(self, alice, make_task) -> None:
        done = [make_task(completed=True) for _ in range(3)]
        pending = make_task(completed=False)

        response = alice.post("/api/tasks/clear-completed")

        assert response.status_code == 200
        assert response.json() == {"trashed": 3, "ids": sorted(task.pk for task in done)}
        assert ids(alice.get("/api/tasks")) == [pending.pk]
        assert sorted(ids(alice.get("/api/trash"))) == sorted(task.pk for task in done)

    def test_only_the_callers_live_completed_tasks(self, alice, make_task) -> None:
        done = make_task(completed=True)
        make_task("bob", completed=True)
        already_trashed = make_task(completed=True, deleted_at=MAY_1)

        response = alice.post("/api/tasks/clear-completed/", format="json")

        assert response.json() == {"trashed": 1, "ids": [done.pk]}
        assert Task.objects.filter(user_id="bob").count() == 1
        assert Task.all_objects.get(pk=already_trashed.pk).deleted_at == MAY_1

    def test_nothing_to_clear(self, alice, make_task) -> None:
        make_task(completed=False)

        response = alice.post("/api/tasks/clear-completed")

        assert response.status_code == 200
        assert response.json() == {"trashed": 0, "ids": []}
        assert Task.objects.count() == 1

    def test_in_one_step(self, alice, make_task) -> None:
        for _ in range(4):
            make_task(completed=True)

        alice.post("/api/tasks/clear-completed")

        assert Task.all_objects.values("deleted_at", "change_seq").distinct().count() == 1

    def test_cleared_tasks_can_be_restored(self, alice, make_task) -> None:
        task = make_task(completed=True)
        alice.post("/api/tasks/clear-completed")

        response = alice.post(f"/api/trash/{task.pk}/restore")

        assert response.status_code == 200
        assert response.json()["completed"] is True


class TestQueryCounts:
    """Each is a fixed number of statements however many tasks there are
    (tests run in a transaction: user_write() adds no savepoint). The lock
    is one UPDATE of the owner's counter."""

    @pytest.mark.parametrize("count", [1, 30])
    @pytest.mark.parametrize("query", [{}, {"limit": 5}], ids=["all", "page"])
    def test_trash_list_is_one_query(self, alice, make_task, django_assert_num_queries, count, query) -> None:
        for _ in range(count):
            make_task(deleted_at=MAY_1)
        cursor = alice.get("/api/trash", {"limit": 1}).json()["next_cursor"]

        with django_assert_num_queries(1):
            assert alice.get("/api/trash", query).status_code == 200
        with django_assert_num_queries(1):
            assert alice.get("/api/trash", {**query, **({"cursor": cursor} if cursor else {})}).status_code == 200

    def test_restore(self, alice, make_task, django_assert_num_queries) -> None:
        task = make_task(deleted_at=MAY_1)

        # the lock, the task, the quota count, the update
        with django_assert_num_queries(4):
            assert alice.post(f"/api/trash/{task.pk}/restore").status_code == 200

    def test_purge_one(self, alice, make_task, django_assert_num_queries) -> None:
        task = make_task(deleted_at=MAY_1)

        # the lock, the task, its id again, the tombstone, the delete
        with django_assert_num_queries(5):
            assert alice.delete(f"/api/trash/{task.pk}").status_code == 204

    @pytest.mark.parametrize("count", [1, 30])
    def test_empty(self, alice, make_task, django_assert_num_queries, count) -> None:
        for _ in range(count):
            make_task(deleted_at=MAY_1)

        # the lock, the ids, the tombstones, the delete
        with django_assert_num_queries(4):
            assert alice.delete("/api/trash").json() == {"deleted": count}

    def test_empty_an_empty_trash(self, alice, make_task, django_assert_num_queries) -> None:
        make_task()

        with django_assert_num_queries(2):
            assert alice.delete("/api/trash").json() == {"deleted": 0}

    @pytest.mark.parametrize("count", [0, 1, 30])
    def test_clear_completed(self, alice, make_task, django_assert_num_queries, count) -> None:
        make_task()
        for _ in range(count):
            make_task(completed=True)

        # the lock, the ids, and the update when there is any
        with django_assert_num_queries(3 if count else 2):
            assert alice.post("/api/tasks/clear-completed").json()["trashed"] == count
