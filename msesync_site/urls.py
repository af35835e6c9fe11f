"""Top-level URLs: the console, the admin for raw edits, the API, ops endpoints."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("syncapp.api.urls")),
    path("", include("syncapp.ops.urls")),
    path("", include("syncapp.ui.urls")),
]
