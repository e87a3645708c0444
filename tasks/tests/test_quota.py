"""TASKS_MAX_PER_USER: the live tasks one user may hold."""

import pytest

from tasks.models import Task
from testing.concurrent_requests import Request, send_concurrently

pytestmark = pytest.mark.django_db


@pytest.fixture
def limit_of_three(settings) -> int:
    settings.TASKS_MAX_PER_USER = 3
    return 3


def create(client, title: str = "x"):
    return client.post("/api/tasks", {"title": title}, format="json")


def test_the_default_limit_is_ten_thousand(settings):
    assert settings.TASKS_MAX_PER_USER == 10_000


def test_creates_up_to_the_limit_succeed(alice, limit_of_three):
    assert [create(alice).status_code for _ in range(3)] == [201, 201, 201]


def test_a_create_beyond_the_limit_is_a_409_that_states_it_and_writes_nothing(alice, limit_of_three):
    for _ in range(3):
        create(alice)

    response = create(alice, "one too many")

    assert response.status_code == 409
    assert response.json() == {"detail": "Task limit reached: a user can hold at most 3 tasks"}
    assert Task.objects.filter(user_id="alice").count() == 3
    assert not Task.objects.filter(title="one too many").exists()


def test_the_limit_is_per_user(alice, bob, limit_of_three):
    for _ in range(3):
        create(alice)

    assert create(bob).status_code == 201


def test_deleting_a_task_makes_room(alice, limit_of_three):
    ids = [create(alice).json()["id"] for _ in range(3)]

    alice.delete(f"/api/tasks/{ids[0]}")

    assert create(alice).status_code == 201


def test_a_refused_create_is_checked_before_the_body_is_stored_but_after_validation(alice, limit_of_three):
    for _ in range(3):
        create(alice)

    assert create(alice, " ").status_code == 422


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("postgresql_only")
def test_concurrent_creates_at_the_limit_never_pass_it(make_token, settings):
    settings.TASKS_MAX_PER_USER = 5
    for n in range(4):
        Task.objects.create(user_id="alice", title=f"existing {n}")

    def racer(n: int) -> Request:
        return lambda client: create(client, f"racer {n}")

    responses = send_concurrently(make_token("alice"), [racer(n) for n in range(20)])

    assert sorted(r.status_code for r in responses) == [201] + [409] * 19
    assert Task.objects.filter(user_id="alice").count() == 5
