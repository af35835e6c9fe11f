"""/healthz (public, for load balancers) and /metrics (authenticated: it names every cluster)."""

from django.db import DatabaseError, connection
from django.http import HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from syncapp.ops.metrics import DatabaseCollector


def healthz(request):
    """200 when this process can reach the database; a probe must not need a login."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return JsonResponse({"status": "error", "database": type(exc).__name__}, status=503)
    return JsonResponse({"status": "ok"})


class MetricsView(APIView):
    """Prometheus text format. Authentication and permission: the API's defaults (session,
    basic or `Authorization: Token <key>`; IsAuthenticated), so anonymous scrapes get 403."""

    renderer_classes = [JSONRenderer]  # refusals only; the metrics bypass DRF rendering

    def perform_content_negotiation(self, request, force=False):
        # Prometheus asks for text/plain or OpenMetrics: answer text whatever the Accept.
        return super().perform_content_negotiation(request, force=True)

    def get(self, request):
        registry = CollectorRegistry(auto_describe=False)
        registry.register(DatabaseCollector())
        return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
