import re

from django.conf import settings
from django.urls import URLPattern, URLResolver, include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView

from api.error_handlers import not_found
from api.views import HealthView, OpenAPISchemaView, ServiceInfoView

# DJANGO_ADMIN_URL: the admin under its prefix, or no route at all when off.
admin_routes: list[URLPattern | URLResolver] = []
if settings.ADMIN_URL:
    from django.contrib import admin

    admin_routes = [
        re_path(rf"^{re.escape(settings.ADMIN_URL[:-1])}$", RedirectView.as_view(url=f"/{settings.ADMIN_URL}")),
        path(settings.ADMIN_URL, admin.site.urls),
    ]

urlpatterns = [
    re_path(r"^$", ServiceInfoView.as_view(), name="service-info"),
    re_path(r"^health/?$", HealthView.as_view(), name="health"),
    re_path(r"^openapi\.json$", OpenAPISchemaView.as_view(), name="openapi"),
    re_path(r"^docs/?$", SpectacularSwaggerView.as_view(url_name="openapi"), name="docs"),
    re_path(
        r"^redoc/?$",
        SpectacularRedocView.as_view(url_name="openapi", template_name="redoc_offline.html"),
        name="redoc",
    ),
    *admin_routes,
    re_path(r"^api/", include("tasks.urls")),
    # Last: any other path is a JSON 404, even with DEBUG on (where Django
    # would otherwise render its HTML debug page).
    re_path(r"", not_found),
]

handler400 = "api.error_handlers.bad_request"
handler403 = "api.error_handlers.permission_denied"
handler404 = "api.error_handlers.not_found"
handler500 = "api.error_handlers.server_error"
