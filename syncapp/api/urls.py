"""API routes and the OpenAPI schema."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from syncapp.api.views import ClusterViewSet, ServiceSyncViewSet, SyncTaskViewSet

router = DefaultRouter()
router.register("clusters", ClusterViewSet)
router.register("tasks", SyncTaskViewSet)
router.register("services", ServiceSyncViewSet, basename="servicesync")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("", include(router.urls)),
]
