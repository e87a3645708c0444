"""`POST /api/tasks/{id}/move` and the manual order (`ordering=position`)."""

import pytest

from tasks import manual_order
from tasks.models import Task
from tasks.positions import KEY_MAX_LENGTH
from testing import LONG_AGO
from testing.concurrent_requests import Request, send_concurrently

pytestmark = pytest.mark.django_db


def manual_order_of(user_id: str = "alice") -> list[int]:
    """The user's task ids in manual order, as the database sorts them."""
    return list(Task.objects.filter(user_id=user_id).order_by("position").values_list("id", flat=True))


def code_point_order_of(user_id: str = "alice") -> list[int]:
    """The same order computed in Python (code point comparison, then id)."""
    tasks = Task.objects.filter(user_id=user_id).values_list("position", "id")
    return [task_id for _, task_id in sorted(tasks)]


def create(client, title: str) -> int:
    response = client.post("/api/tasks", {"title": title}, format="json")
    assert response.status_code == 201
    return response.json()["id"]


def move(client, task_id: int, after):
    return client.post(f"/api/tasks/{task_id}/move", {"after": after}, format="json")


@pytest.fixture
def three(alice) -> list[int]:
    """Tasks a, b, c, created in that order: manual order c, b, a."""
    return [create(alice, title) for title in "abc"]


class TestNewTasks:
    def test_a_new_task_goes_first(self, alice, three):
        a, b, c = three

        assert manual_order_of() == [c, b, a]

    def test_a_position_sent_by_a_client_is_ignored(self, alice, three):
        response = alice.post("/api/tasks", {"title": "d", "position": "0"}, format="json")

        assert response.json()["position"] != "0"
        assert manual_order_of()[0] == response.json()["id"]

    def test_ten_thousand_tasks_added_at_the_top_keep_short_keys(self, make_task):
        # Creating first again and again takes the key below the first, which
        # only ever decrements the key's integer part.
        for n in range(300):
            make_task(title=f"t{n}")

        assert max(len(p) for p in Task.objects.values_list("position", flat=True)) <= 4


class TestMove:
    def test_after_a_task_puts_it_right_after_that_one(self, alice, three):
        a, b, c = three

        response = move(alice, c, a)

        assert response.status_code == 200
        assert response.json()["id"] == c
        assert manual_order_of() == [b, a, c] == code_point_order_of()

    def test_after_null_puts_it_first(self, alice, three):
        a, b, c = three

        move(alice, a, None)

        assert manual_order_of() == [a, c, b]

    def test_between_two_tasks(self, alice, three):
        a, b, c = three

        move(alice, a, c)

        assert manual_order_of() == [c, a, b]

    def test_answers_the_task_with_its_new_position_and_a_new_updated_at(self, alice, three):
        a, _, c = three
        before = alice.get(f"/api/tasks/{c}").json()

        after = move(alice, c, a).json()

        assert after["position"] != before["position"]
        assert after["updated_at"] > before["updated_at"]
        assert {k: v for k, v in after.items() if k not in ("position", "updated_at", "etag")} == {
            k: v for k, v in before.items() if k not in ("position", "updated_at", "etag")
        }

    @pytest.mark.parametrize("where", ["first", "after its predecessor"])
    def test_a_move_to_its_current_place_changes_nothing(self, alice, three, where):
        _, b, c = three
        Task.objects.filter(pk=b).update(updated_at=LONG_AGO)
        before = alice.get(f"/api/tasks/{b}").json()

        if where == "first":
            move(alice, c, None)
            response = move(alice, c, None)
            assert response.json() == alice.get(f"/api/tasks/{c}").json()
        else:
            response = move(alice, b, c)
            assert response.status_code == 200
            assert response.json() == before

    def test_other_users_tasks_are_not_neighbours(self, alice, bob, three):
        a, b, c = three
        theirs = create(bob, "bob's")

        move(alice, a, None)
        move(bob, theirs, None)

        assert manual_order_of() == [a, c, b]
        assert manual_order_of("bob") == [theirs]


class TestRefusals:
    def test_another_users_task_is_a_404_before_the_body_is_judged(self, alice, bob, three):
        response = move(bob, three[0], "not an id")

        assert response.status_code == 404
        assert response.json() == {"detail": "Task not found"}

    def test_a_missing_task_is_a_404(self, alice, db):
        assert move(alice, 424242, None).status_code == 404

    @pytest.mark.parametrize("after", ["1", 1.0, True, [], {}, "null"])
    def test_after_that_is_not_an_integer_or_null_is_a_422(self, alice, three, after):
        order = manual_order_of()

        response = move(alice, three[0], after)

        assert response.status_code == 422
        assert "after" in response.json()["errors"]
        assert manual_order_of() == order

    def test_a_missing_after_is_a_422(self, alice, three):
        response = alice.post(f"/api/tasks/{three[0]}/move", {}, format="json")

        assert response.status_code == 422
        assert "after" in response.json()["errors"]

    def test_after_itself_is_a_422(self, alice, three):
        response = move(alice, three[0], three[0])

        assert response.status_code == 422
        assert "after" in response.json()["errors"]

    def test_after_another_users_task_and_after_a_missing_one_get_the_same_422(self, alice, bob, three):
        theirs = create(bob, "bob's")

        foreign = move(alice, three[0], theirs)
        missing = move(alice, three[0], 424242)
        huge = move(alice, three[0], 2**70)

        assert foreign.status_code == missing.status_code == huge.status_code == 422
        assert foreign.json() == missing.json() == huge.json()


class TestRespacing:
    def test_a_gap_that_runs_out_renumbers_neighbours_and_keeps_the_order(self, alice, three):
        a, b, _ = three
        # Moving into the same gap again and again grows its keys by about one
        # character per six moves, until they would pass 64 characters.
        extra = [create(alice, f"x{n}") for n in range(8)]
        expected = manual_order_of()
        moving = extra[0]
        for _ in range(450):
            anchor = a if manual_order_of().index(moving) != manual_order_of().index(a) + 1 else b
            move(alice, moving, anchor)
        lengths = [len(p) for p in Task.objects.values_list("position", flat=True)]

        assert max(lengths) <= KEY_MAX_LENGTH
        assert manual_order_of() == code_point_order_of()
        assert len(set(manual_order_of())) == len(expected)

    def test_renumbered_neighbours_count_as_changed(self, alice, three, monkeypatch):
        a, b, c = three
        Task.objects.update(updated_at=LONG_AGO)
        monkeypatch.setattr(manual_order, "KEY_MAX_LENGTH", 1)  # every gap has run out

        move(alice, a, None)

        assert manual_order_of() == [a, c, b] == code_point_order_of()
        assert not Task.objects.filter(updated_at=LONG_AGO).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("postgresql_only")
class TestConcurrentMoves:
    def test_fifty_concurrent_moves_and_creates_leave_a_strict_order(self, make_token, make_task):
        tasks = [make_task(title=f"t{n}").id for n in range(20)]

        def move_request(n: int) -> Request:
            after = tasks[(n * 7 + 3) % 20] if n % 5 else None
            return lambda client: client.post(f"/api/tasks/{tasks[n % 20]}/move", {"after": after}, format="json")

        def create_request(n: int) -> Request:
            return lambda client: client.post("/api/tasks", {"title": f"new {n}"}, format="json")

        moves = [move_request(n) for n in range(50)]
        creates = [create_request(n) for n in range(10)]

        responses = send_concurrently(make_token("alice"), moves + creates)

        assert {r.status_code for r in responses[:50]} <= {200, 422}  # 422: a task moved after itself
        assert [r.status_code for r in responses[50:]] == [201] * 10
        positions = list(Task.objects.filter(user_id="alice").values_list("position", flat=True))
        assert len(positions) == len(set(positions)) == 30
        assert manual_order_of() == code_point_order_of()
