"""Thin API views: each action is one call into the domain."""

from django.db.models import ProtectedError
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from syncapp import jobs
from syncapp.api.params import BoundedLimitOffsetPagination, PhaseFilter, ServiceFilter, checked
from syncapp.api.permissions import RolePermissions
from syncapp.api.schema import ErrorsAutoSchema
from syncapp.api.serializers import (
    ClusterSerializer,
    ServiceSyncSerializer,
    SyncTaskSerializer,
)
from syncapp.cockpit.report import task_phases
from syncapp.models import Cluster, ServiceSync, SyncTask
from syncapp.roles import OPERATE


class RoleViewSetMixin:
    """Every API view: role permissions, bounded paging, error answers in the schema."""

    permission_classes = [RolePermissions]
    pagination_class = BoundedLimitOffsetPagination
    schema = ErrorsAutoSchema()


class ClusterViewSet(RoleViewSetMixin, viewsets.ModelViewSet):
    queryset = Cluster.objects.all()
    serializer_class = ClusterSerializer
    extra_errors = {"DELETE": {"409": "tasks use the cluster: `tasks` lists them"}}

    def destroy(self, request, *args, **kwargs):
        """A cluster in use stays: 409 with the tasks to delete first."""
        cluster = self.get_object()
        try:
            cluster.delete()
        except ProtectedError:
            users = SyncTask.objects.filter(source=cluster) | SyncTask.objects.filter(
                destination=cluster
            )
            body = {
                "detail": f"cluster {cluster} is used by tasks; delete them first",
                "tasks": [{"id": t.pk, "name": str(t)} for t in users.distinct()],
            }
            return Response(body, status=status.HTTP_409_CONFLICT)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SyncTaskViewSet(RoleViewSetMixin, viewsets.ModelViewSet):
    queryset = SyncTask.objects.select_related("source", "destination")
    serializer_class = SyncTaskSerializer
    action_permissions = {"pause": [OPERATE], "resume": [OPERATE], "resync": [OPERATE]}

    def _set_paused(self, paused: bool) -> Response:
        task = self.get_object()
        SyncTask.objects.filter(pk=task.pk).update(paused=paused)
        jobs.scan_soon([task.pk])  # a resumed task catches up at once (a paused one: nothing)
        task.refresh_from_db()
        return Response(self.get_serializer(task).data)

    def perform_create(self, serializer):
        super().perform_create(serializer)
        jobs.scan_soon([serializer.instance.pk])

    def perform_update(self, serializer):
        super().perform_update(serializer)
        jobs.scan_soon([serializer.instance.pk])

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

    @extend_schema(parameters=[PhaseFilter], responses={200: dict})
    @action(detail=True, methods=["get"])
    def phases(self, request, pk=None):
        """The migration cockpit: services per phase, and each service's evidence."""
        wanted = checked(PhaseFilter, request.query_params).get("phase")
        task = self.get_object()
        if task.sync_type != SyncTask.SERVICE:
            return Response({"detail": "a Config task has no services"}, status=404)
        return Response(task_phases(task, wanted))


@extend_schema_view(list=extend_schema(parameters=[ServiceFilter]))
class ServiceSyncViewSet(RoleViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Per-service state. POST adds a service by hand (tasks with autoscan off)."""

    queryset = ServiceSync.objects.all()
    serializer_class = ServiceSyncSerializer

    def filter_queryset(self, queryset):
        """?task=ID&search=TEXT, checked first: `task=abc` is a 400, not a database error."""
        params = checked(ServiceFilter, self.request.query_params)
        if "task" in params:
            queryset = queryset.filter(task_id=params["task"])
        if params.get("search"):
            queryset = queryset.filter(service__icontains=params["search"])
        return queryset
