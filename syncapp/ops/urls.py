"""/healthz (public, for load balancers) and /metrics (Prometheus, authenticated)."""

from django.urls import path

from syncapp.ops.views import MetricsView, healthz

urlpatterns = [
    path("healthz", healthz),
    path("metrics", MetricsView.as_view(), name="metrics"),
]
