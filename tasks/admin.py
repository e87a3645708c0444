from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from tasks.models import Task

admin.site.site_header = "TODO administration"
admin.site.site_title = "TODO admin"
admin.site.index_title = "Tasks and staff accounts"


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["id", "title", "user_id", "completed", "created_at", "updated_at"]
    list_display_links = ["id", "title"]
    list_filter = ["completed", "created_at", "updated_at"]
    search_fields = ["title", "description", "user_id"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at", "updated_at"]
    fields = ["user_id", "title", "description", "completed", "created_at", "updated_at"]
    ordering = ["-created_at", "-id"]
    list_per_page = 50
    actions = ["mark_completed", "mark_pending"]

    @admin.action(description="Mark selected tasks as completed", permissions=["change"])
    def mark_completed(self, request: HttpRequest, queryset: QuerySet[Task]) -> None:
        self._set_completed(request, queryset, completed=True)

    @admin.action(description="Mark selected tasks as pending", permissions=["change"])
    def mark_pending(self, request: HttpRequest, queryset: QuerySet[Task]) -> None:
        self._set_completed(request, queryset, completed=False)

    def _set_completed(self, request: HttpRequest, queryset: QuerySet[Task], completed: bool) -> None:
        # Only rows that change get a new updated_at.
        changed = queryset.exclude(completed=completed).update(completed=completed, updated_at=timezone.now())
        state = "completed" if completed else "pending"
        self.message_user(request, f"{changed} task(s) marked as {state}.", messages.SUCCESS)
