"""Detail routes go through DRF's get_object, so an object permission added
to the view is enforced on every one of them, the flip included."""

from typing import Any

import pytest
from rest_framework.permissions import BasePermission, IsAuthenticated

from tasks.models import Task
from tasks.views import TaskViewSet

pytestmark = pytest.mark.django_db


class NoTaskIsYours(BasePermission):
    def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        return False


@pytest.fixture
def object_permission_denied(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TaskViewSet, "permission_classes", [IsAuthenticated, NoTaskIsYours])


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("get", "", None),
        ("put", "", {"title": "Changed"}),
        ("patch", "", {"title": "Changed"}),
        ("delete", "", None),
        ("patch", "/complete", None),
        ("patch", "/complete", {"completed": True}),
        ("post", "/move", {"after": None}),
    ],
    ids=["get", "put", "patch", "delete", "flip", "set", "move"],
)
def test_every_detail_route_checks_object_permissions(
    alice, make_task, object_permission_denied, method, suffix, body
) -> None:
    task = make_task(title="Original", completed=False)

    response = getattr(alice, method)(f"/api/tasks/{task.id}{suffix}", body, format="json")

    assert response.status_code == 403
    assert Task.objects.filter(pk=task.id, title="Original", completed=False).exists()


def test_the_list_still_answers_without_object_checks(alice, make_task, object_permission_denied) -> None:
    make_task()

    assert alice.get("/api/tasks").status_code == 200
