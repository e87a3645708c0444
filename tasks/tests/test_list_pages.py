"""GET /api/tasks?limit=&cursor=: keyset pages. Walking every page gives the
unpaged list exactly; `next_cursor` and `Link` announce exactly the pages
that exist; a cursor works only for the user and the list it came from."""

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import signing

from tasks.listing import CURSOR_SALT
from tasks.models import Task
from testing.assertions import assert_json_error
from testing.listing import ORDERINGS, reference_order, stored_tasks, varied_tasks, walk

pytestmark = pytest.mark.django_db

FILTERS = [
    pytest.param({}, id="no-filter"),
    pytest.param({"status": "pending", "priority": "medium,high"}, id="status-priority"),
    pytest.param({"q": "milk"}, id="q"),
    pytest.param({"due_from": "2026-02-15", "due_to": "2026-03-15", "tz": "America/Santiago"}, id="due-range"),
    pytest.param({"overdue": "false", "tz": "Europe/Berlin"}, id="not-overdue"),
]


@pytest.fixture
def tasks(db) -> list[Task]:
    varied_tasks("bob", 30, seed=6)
    varied_tasks("alice", 90, seed=5)
    return stored_tasks("alice")


def ids(items: list[dict[str, Any]]) -> list[int]:
    return [item["id"] for item in items]


def first_page(client, **params: Any) -> dict[str, Any]:
    response = client.get("/api/tasks", params)
    assert response.status_code == 200, response.content
    return response.json()


class TestWalk:
    @pytest.mark.parametrize("ordering", ORDERINGS)
    @pytest.mark.parametrize("limit", [1, 7, 200])
    def test_walking_the_pages_gives_the_unpaged_list(self, alice, tasks, ordering: str, limit: int) -> None:
        unpaged = first_page(alice, ordering=ordering)

        assert ids(walk(alice, {"ordering": ordering}, limit=limit)) == ids(unpaged["items"])
        assert ids(unpaged["items"]) == reference_order(tasks, ordering)

    @pytest.mark.parametrize("ordering", ORDERINGS)
    @pytest.mark.parametrize("filters", FILTERS)
    def test_walking_a_filtered_list(self, alice, tasks, ordering: str, filters: dict[str, str]) -> None:
        unpaged = ids(first_page(alice, ordering=ordering, **filters)["items"])

        assert ids(walk(alice, {"ordering": ordering, **filters}, limit=6)) == unpaged
        assert unpaged  # each combination lists something

    @pytest.mark.parametrize("zone", ["Europe/Berlin", "America/Santiago", "Pacific/Kiritimati"])
    def test_walking_due_in_a_time_zone(self, alice, tasks, zone: str) -> None:
        assert ids(walk(alice, {"ordering": "due", "tz": zone}, limit=4)) == reference_order(tasks, "due", zone)

    def test_the_limit_may_change_between_pages(self, alice, tasks) -> None:
        everything = ids(first_page(alice, ordering="title")["items"])
        page = first_page(alice, ordering="title", limit=5)
        seen = ids(page["items"])
        for limit in [1, 13, 2, 200]:
            page = first_page(alice, ordering="title", limit=limit, cursor=page["next_cursor"])
            seen += ids(page["items"])
            if page["next_cursor"] is None:
                break

        assert seen == everything

    @pytest.mark.parametrize("ordering", ORDERINGS)
    def test_a_cursor_without_limit_answers_every_remaining_task(self, alice, tasks, ordering: str) -> None:
        everything = ids(first_page(alice, ordering=ordering)["items"])
        page = first_page(alice, ordering=ordering, limit=10)

        rest = first_page(alice, ordering=ordering, cursor=page["next_cursor"])

        assert ids(page["items"]) + ids(rest["items"]) == everything
        assert rest["next_cursor"] is None


class TestNextCursor:
    @pytest.mark.parametrize("ordering", ORDERINGS)
    def test_next_cursor_is_null_exactly_on_the_last_page(self, alice, make_task, ordering: str) -> None:
        for n in range(6):
            make_task(title=f"task {n}")

        full = first_page(alice, ordering=ordering, limit=3)
        last = first_page(alice, ordering=ordering, limit=3, cursor=full["next_cursor"])

        assert (full["count"], last["count"]) == (3, 3)
        assert full["next_cursor"] is not None
        assert last["next_cursor"] is None

    def test_a_limit_above_the_number_of_tasks_has_no_next_page(self, alice, make_task) -> None:
        make_task()

        assert first_page(alice, limit=200)["next_cursor"] is None
        assert first_page(alice, limit=1)["next_cursor"] is None

    def test_an_empty_list_has_no_next_page(self, alice, db) -> None:
        assert first_page(alice, limit=5) == {"items": [], "count": 0, "next_cursor": None}

    def test_count_is_the_number_of_items_in_the_page(self, alice, tasks) -> None:
        page = first_page(alice, limit=7)

        assert page["count"] == len(page["items"]) == 7


class TestLinkHeader:
    def test_link_is_the_absolute_url_of_the_next_page_with_every_parameter(self, alice, tasks) -> None:
        params = {"ordering": "due", "tz": "Europe/Berlin", "status": "pending", "limit": "3"}
        response = alice.get("/api/tasks/", {**params, "unknown": "a b&c=é"})

        link = response["Link"]
        assert link.startswith("<http://testserver/api/tasks/?") and link.endswith('>; rel="next"')
        url = urlsplit(link[1 : -len('>; rel="next"')])
        query = {name: values for name, values in parse_qs(url.query, keep_blank_values=True).items()}
        assert query == {
            **{name: [value] for name, value in params.items()},
            "unknown": ["a b&c=é"],
            "cursor": [response.json()["next_cursor"]],
        }

    def test_following_the_link_gives_the_next_page(self, alice, tasks) -> None:
        first = alice.get("/api/tasks", {"ordering": "title", "limit": "4"})
        following = alice.get(first["Link"][1 : -len('>; rel="next"')])
        by_cursor = alice.get("/api/tasks", {"ordering": "title", "limit": "4", "cursor": first.json()["next_cursor"]})

        assert following.json() == by_cursor.json()

    def test_a_cursor_in_the_request_is_replaced_not_repeated(self, alice, tasks) -> None:
        first = alice.get("/api/tasks", {"limit": "2"})
        second = alice.get("/api/tasks", {"limit": "2", "cursor": first.json()["next_cursor"]})

        query = parse_qs(urlsplit(second["Link"][1 : -len('>; rel="next"')]).query)
        assert query["cursor"] == [second.json()["next_cursor"]]

    def test_no_link_on_the_last_page_or_without_limit(self, alice, make_task) -> None:
        make_task()

        assert "Link" not in alice.get("/api/tasks", {"limit": "1"})
        assert "Link" not in alice.get("/api/tasks")


def a_cursor(client, **params: Any) -> str:
    cursor = first_page(client, limit=2, **params)["next_cursor"]
    assert cursor
    return cursor


def refused(response) -> None:
    assert assert_json_error(response, 400)["detail"] == "Invalid cursor"


class TestTampering:
    def test_an_altered_cursor_is_refused(self, alice, tasks) -> None:
        cursor = a_cursor(alice)
        for index in range(len(cursor)):
            replacement = "A" if cursor[index] != "A" else "B"
            altered = cursor[:index] + replacement + cursor[index + 1 :]
            response = alice.get("/api/tasks", {"limit": 2, "cursor": altered})
            # A change the signature covers is refused; base64 padding bits may decode alike.
            if response.status_code == 200:
                assert signing.loads(altered, salt=CURSOR_SALT) == signing.loads(cursor, salt=CURSOR_SALT)
            else:
                refused(response)

    @pytest.mark.parametrize("cut", [1, 5, 20, -1, -5, -30])
    def test_a_truncated_cursor_is_refused(self, alice, tasks, cut: int) -> None:
        cursor = a_cursor(alice)

        refused(alice.get("/api/tasks", {"limit": 2, "cursor": cursor[cut:] if cut > 0 else cursor[:cut]}))

    def test_a_cursor_with_more_appended_is_refused(self, alice, tasks) -> None:
        refused(alice.get("/api/tasks", {"limit": 2, "cursor": a_cursor(alice) + "x"}))

    def test_another_users_cursor_is_refused(self, alice, bob, tasks) -> None:
        refused(bob.get("/api/tasks", {"limit": 2, "cursor": a_cursor(alice)}))

    def test_a_cursor_signed_with_another_key_is_refused(self, alice, tasks, settings) -> None:
        cursor = a_cursor(alice)
        settings.SECRET_KEY = "another-secret-key-of-at-least-fifty-characters-for-the-test"

        refused(alice.get("/api/tasks", {"limit": 2, "cursor": cursor}))

    def test_a_payload_signed_for_another_purpose_is_refused(self, alice, tasks) -> None:
        payload = signing.loads(a_cursor(alice), salt=CURSOR_SALT)

        refused(alice.get("/api/tasks", {"limit": 2, "cursor": signing.dumps(payload, salt="another.salt")}))

    @pytest.mark.parametrize(
        "key",
        [[], ["2026-01-01T00:00:00+00:00"], ["not a time", 1], ["2026-01-01T00:00:00", 1], [1, 1], [None, "1"]],
        ids=["empty", "short", "not-a-time", "naive-time", "number", "wrong-types"],
    )
    def test_a_signed_cursor_with_a_malformed_key_is_refused(self, alice, tasks, key: list[Any]) -> None:
        version, binding, _ = signing.loads(a_cursor(alice), salt=CURSOR_SALT)

        forged = signing.dumps([version, binding, key], salt=CURSOR_SALT, compress=True)

        refused(alice.get("/api/tasks", {"limit": 2, "cursor": forged}))


class TestMismatch:
    BASE = {"ordering": "due", "tz": "Europe/Berlin", "status": "pending", "q": "a", "priority": "low,high"}

    @pytest.mark.parametrize(
        "change",
        [
            {"ordering": "title"},
            {"ordering": "-created_at"},
            {"tz": "UTC"},
            {"status": "completed"},
            {"status": "all"},
            {"q": "b"},
            {"q": "A"},
            {"priority": "low"},
            {"priority": "low,medium,high"},
            {"due_from": "2026-01-01"},
            {"due_to": "2026-12-31"},
            {"overdue": "false"},
        ],
        ids=lambda change: "-".join(f"{k}={v}" for k, v in change.items()),
    )
    def test_a_cursor_for_other_filters_or_ordering_is_refused(self, alice, tasks, change: dict[str, str]) -> None:
        cursor = a_cursor(alice, **self.BASE)

        refused(alice.get("/api/tasks", {**self.BASE, **change, "limit": 2, "cursor": cursor}))

    @pytest.mark.parametrize("dropped", ["ordering", "tz", "status", "q", "priority"])
    def test_a_cursor_without_one_of_its_parameters_is_refused(self, alice, tasks, dropped: str) -> None:
        cursor = a_cursor(alice, **self.BASE)
        params = {name: value for name, value in self.BASE.items() if name != dropped}

        refused(alice.get("/api/tasks", {**params, "limit": 2, "cursor": cursor}))

    def test_the_same_list_spelled_differently_takes_the_cursor(self, alice, tasks) -> None:
        cursor = a_cursor(alice, priority="high,low", q="")

        response = alice.get("/api/tasks", {"priority": "low,high,low", "status": "all", "limit": 2, "cursor": cursor})

        assert response.status_code == 200, response.content
