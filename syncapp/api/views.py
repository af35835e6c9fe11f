"""Thin API views: each action is one call into the domain."""

from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from syncapp import jobs
from syncapp.api.serializers import (
    ClusterSerializer,
    ServiceSyncSerializer,
    SyncTaskSerializer,
)
from syncapp.models import Cluster, ServiceSync, SyncTask


class ClusterViewSet(viewsets.ModelViewSet):
    queryset = Cluster.objects.all()
    serializer_class = ClusterSerializer


class SyncTaskViewSet(viewsets.ModelViewSet):
    queryset = SyncTask.objects.select_related("source", "destination")
    serializer_class = SyncTaskSerializer

    def _set_paused(self, paused: bool) -> Response:
        task = self.get_object()
        SyncTask.objects.filter(pk=task.pk).update(paused=paused)
        task.refresh_from_db()
        return Response(self.get_serializer(task).data)

    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return self._set_paused(True)

    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._set_paused(False)

    @action(detail=True, methods=["post"])
    def resync(self, request, pk=None):
        task = self.get_object()
        jobs.request_resync(task.pk)
        return Response({"queued": True, "task": task.pk}, status=202)


class ServiceSyncViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Per-service state. POST adds a service by hand (tasks with autoscan off)."""

    serializer_class = ServiceSyncSerializer

    def get_queryset(self):
        rows = ServiceSync.objects.all()
        if task := self.request.query_params.get("task"):
            rows = rows.filter(task_id=task)
        if search := self.request.query_params.get("search"):
            rows = rows.filter(service__icontains=search)
        return rows
