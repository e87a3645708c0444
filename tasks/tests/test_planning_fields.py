"""The planning fields: completed_at, due_date / due_at, priority, and the
read-only position; and writes that change nothing."""

from datetime import UTC, datetime

import pytest

from tasks.models import Task
from testing.contract import TASK_FIELD_ORDER

pytestmark = pytest.mark.django_db

LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def create(client, **body):
    response = client.post("/api/tasks", {"title": "Plan", **body}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


class TestRepresentation:
    def test_a_new_task_has_every_planning_field_with_its_default(self, alice):
        task = create(alice)

        assert task["completed_at"] is None
        assert task["due_date"] is None
        assert task["due_at"] is None
        assert task["priority"] == "none"
        assert isinstance(task["position"], str) and task["position"]

    def test_fields_come_in_the_contracts_order(self, alice):
        assert list(create(alice)) == TASK_FIELD_ORDER


class TestCompletedAt:
    def test_creating_a_completed_task_stamps_completed_at_with_its_creation(self, alice):
        task = create(alice, completed=True)

        assert task["completed_at"] == task["created_at"] == task["updated_at"]

    @pytest.mark.parametrize("route", ["patch", "put", "complete"])
    def test_completing_stamps_completed_at_with_the_writes_updated_at(self, alice, route):
        task = create(alice)
        if route == "complete":
            response = alice.patch(f"/api/tasks/{task['id']}/complete")
        else:
            response = getattr(alice, route)(f"/api/tasks/{task['id']}", {"completed": True}, format="json")

        body = response.json()
        assert body["completed"] is True
        assert body["completed_at"] == body["updated_at"] != task["updated_at"]

    def test_a_write_that_does_not_change_completed_leaves_completed_at(self, alice):
        task = create(alice, completed=True)

        body = alice.patch(f"/api/tasks/{task['id']}", {"title": "Renamed"}, format="json").json()

        assert body["updated_at"] != task["updated_at"]
        assert body["completed_at"] == task["completed_at"]

    def test_uncompleting_clears_completed_at(self, alice):
        task = create(alice, completed=True)

        body = alice.patch(f"/api/tasks/{task['id']}/complete").json()

        assert body["completed"] is False
        assert body["completed_at"] is None

    def test_completed_at_sent_by_a_client_is_ignored(self, alice):
        task = create(alice, completed_at="2020-01-01T00:00:00Z")
        assert task["completed_at"] is None

        body = alice.patch(f"/api/tasks/{task['id']}", {"completed_at": "2020-01-01T00:00:00Z"}, format="json").json()
        assert body["completed_at"] is None


class TestDueDate:
    @pytest.mark.parametrize("value", ["2026-01-09", "1900-01-01", "2999-12-31", "2024-02-29"])
    def test_a_calendar_day_is_stored_as_sent(self, alice, value):
        task = create(alice, due_date=value)

        assert task["due_date"] == value
        assert alice.get(f"/api/tasks/{task['id']}").json()["due_date"] == value

    @pytest.mark.parametrize(
        "value",
        [
            "2026-1-9",
            "20260109",
            "2026-01-09T00:00:00Z",
            "",
            20260109,
            "1899-12-31",
            "3000-01-01",
            "2023-02-29",
            "2026-13-01",
            "2026-01-32",
            " 2026-01-09",
            "2026-01-09\n",
            "\uff12\uff10\uff12\uff16-01-09",  # fullwidth digits
            True,
            [],
        ],
    )
    def test_anything_but_a_real_day_in_range_is_a_422_naming_due_date(self, alice, value):
        response = alice.post("/api/tasks", {"title": "x", "due_date": value}, format="json")

        assert response.status_code == 422
        assert "due_date" in response.json()["errors"]
        assert Task.objects.count() == 0


class TestDueAt:
    @pytest.mark.parametrize(
        ("value", "stored"),
        [
            ("2026-01-09T17:00:00Z", "2026-01-09T17:00:00.000000Z"),
            ("2026-01-09T17:00:00+01:00", "2026-01-09T16:00:00.000000Z"),
            ("2026-01-09T17:00:00-05:30", "2026-01-09T22:30:00.000000Z"),
            ("2026-01-09T17:00:00.5Z", "2026-01-09T17:00:00.500000Z"),
            ("2026-01-09T17:00:00.123456789Z", "2026-01-09T17:00:00.123456Z"),
            ("2026-01-09T00:30:00+02:00", "2026-01-08T22:30:00.000000Z"),
        ],
    )
    def test_an_instant_is_stored_and_returned_in_utc(self, alice, value, stored):
        task = create(alice, due_at=value)

        assert task["due_at"] == stored
        assert alice.get(f"/api/tasks/{task['id']}").json()["due_at"] == stored

    @pytest.mark.parametrize(
        "value",
        [
            "2026-01-09T17:00:00",
            "2026-01-09T17:00Z",
            "2026-01-09 17:00:00Z",
            "2026-01-09",
            "2026-01-09T17:00:00+0100",
            "2026-01-09T17:00:00+24:00",
            "2026-01-09T25:00:00Z",
            "2026-01-09T17:00:60Z",
            "1899-12-31T23:59:59Z",
            "3000-01-01T00:00:00Z",
            "2026-01-09T17:00:00.Z",
            "",
            1767978000,
        ],
    )
    def test_any_other_shape_is_a_422_naming_due_at(self, alice, value):
        response = alice.post("/api/tasks", {"title": "x", "due_at": value}, format="json")

        assert response.status_code == 422
        assert "due_at" in response.json()["errors"]
        assert Task.objects.count() == 0


class TestOneKindOfDue:
    def test_setting_both_is_a_422_under_due_at_and_writes_nothing(self, alice):
        response = alice.post(
            "/api/tasks", {"title": "x", "due_date": "2026-01-09", "due_at": "2026-01-09T10:00:00Z"}, format="json"
        )

        assert response.status_code == 422
        assert list(response.json()["errors"]) == ["due_at"]
        assert Task.objects.count() == 0

    def test_setting_a_due_instant_clears_the_due_date(self, alice):
        task = create(alice, due_date="2026-01-09")

        body = alice.patch(f"/api/tasks/{task['id']}", {"due_at": "2026-01-09T10:00:00Z"}, format="json").json()

        assert body["due_date"] is None
        assert body["due_at"] == "2026-01-09T10:00:00.000000Z"

    def test_setting_a_due_date_clears_the_due_instant(self, alice):
        task = create(alice, due_at="2026-01-09T10:00:00Z")

        body = alice.put(f"/api/tasks/{task['id']}", {"due_date": "2026-01-10"}, format="json").json()

        assert body["due_at"] is None
        assert body["due_date"] == "2026-01-10"

    def test_null_clears_only_the_field_it_is_sent_for(self, alice):
        task = create(alice, due_date="2026-01-09")

        body = alice.patch(f"/api/tasks/{task['id']}", {"due_at": None}, format="json").json()
        assert body["due_date"] == "2026-01-09"

        body = alice.patch(f"/api/tasks/{task['id']}", {"due_date": None}, format="json").json()
        assert body["due_date"] is None

    def test_one_value_and_a_null_for_the_other_is_accepted(self, alice):
        task = create(alice, due_date="2026-01-09", due_at=None)

        assert task["due_date"] == "2026-01-09"
        assert task["due_at"] is None


class TestPriority:
    @pytest.mark.parametrize("value", ["none", "low", "medium", "high"])
    def test_each_named_priority_round_trips(self, alice, value):
        task = create(alice, priority=value)

        assert task["priority"] == value
        assert alice.get(f"/api/tasks/{task['id']}").json()["priority"] == value

    @pytest.mark.parametrize("value", [None, "", "HIGH", "urgent", 3, 0, True, ["high"]])
    def test_anything_else_is_a_422_naming_priority(self, alice, value):
        response = alice.post("/api/tasks", {"title": "x", "priority": value}, format="json")

        assert response.status_code == 422
        assert "priority" in response.json()["errors"]

    def test_a_priority_update_changes_only_the_priority(self, alice):
        task = create(alice, priority="low")

        body = alice.patch(f"/api/tasks/{task['id']}", {"priority": "high"}, format="json").json()

        assert body["priority"] == "high"
        assert body["title"] == task["title"]


class TestWritesThatChangeNothing:
    @pytest.mark.parametrize("method", ["put", "patch"])
    def test_sending_the_current_values_is_a_200_that_keeps_updated_at(self, alice, method):
        task = create(alice, description="d", priority="medium", due_date="2026-01-09", completed=True)
        Task.objects.filter(pk=task["id"]).update(updated_at=LONG_AGO)
        unchanged = alice.get(f"/api/tasks/{task['id']}").json()

        same = {
            "title": "  Plan  ",
            "description": "d",
            "priority": "medium",
            "due_date": "2026-01-09",
            "due_at": None,
            "completed": True,
        }
        response = getattr(alice, method)(f"/api/tasks/{task['id']}", same, format="json")

        assert response.status_code == 200
        assert response.json() == unchanged

    def test_an_empty_patch_keeps_updated_at(self, alice):
        task = create(alice)
        Task.objects.filter(pk=task["id"]).update(updated_at=LONG_AGO)

        body = alice.patch(f"/api/tasks/{task['id']}", {}, format="json").json()

        assert body["updated_at"] == "2020-01-01T00:00:00.000000Z"

    def test_the_same_due_instant_in_another_offset_is_no_change(self, alice):
        task = create(alice, due_at="2026-01-09T10:00:00Z")
        Task.objects.filter(pk=task["id"]).update(updated_at=LONG_AGO)

        body = alice.patch(f"/api/tasks/{task['id']}", {"due_at": "2026-01-09T11:00:00+01:00"}, format="json").json()

        assert body["updated_at"] == "2020-01-01T00:00:00.000000Z"
