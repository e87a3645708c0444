from rest_framework.routers import SimpleRouter

from tasks.views import TaskViewSet


class OptionalSlashRouter(SimpleRouter):
    """Every route answers with and without the trailing slash, with no
    redirect (a redirect would lose a POST body)."""

    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"


router = OptionalSlashRouter()
router.register("tasks", TaskViewSet, basename="task")

urlpatterns = router.urls
