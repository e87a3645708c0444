from django.urls import re_path
from rest_framework.routers import SimpleRouter

from tasks.sync_views import SyncView
from tasks.trash_views import TrashViewSet
from tasks.views import TaskViewSet


class OptionalSlashRouter(SimpleRouter):
    """Every route answers with and without the trailing slash, with no
    redirect (a redirect would lose a POST body)."""

    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"


router = OptionalSlashRouter()
router.register("tasks", TaskViewSet, basename="task")

urlpatterns = [
    *router.urls,
    # Written out: a router maps no DELETE to a collection (emptying the trash).
    re_path(r"^trash/?$", TrashViewSet.as_view({"get": "list", "delete": "empty"}), name="trash-list"),
    re_path(r"^trash/(?P<pk>[^/]+)/?$", TrashViewSet.as_view({"delete": "destroy"}), name="trash-detail"),
    re_path(r"^trash/(?P<pk>[^/]+)/restore/?$", TrashViewSet.as_view({"post": "restore"}), name="trash-restore"),
    re_path(r"^sync/?$", SyncView.as_view(), name="sync"),
]
