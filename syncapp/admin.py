"""Django admin for raw edits; secrets are entered but never shown back. Access follows the
roles (syncapp/roles.py): Django's model permissions, plus `operate` for the task actions."""

from django.contrib import admin

from syncapp import jobs
from syncapp.models import Cluster, ServiceSync, SyncTask
from syncapp.roles import OPERATE
from syncapp.secret_inputs import SecretsKeptWhenEmpty


class ClusterForm(SecretsKeptWhenEmpty):
    class Meta:
        model = Cluster
        fields = "__all__"


@admin.register(Cluster)
class ClusterAdmin(admin.ModelAdmin):
    form = ClusterForm
    list_display = ("cluster_name", "cluster_type", "connect_keys", "namespaces")
    list_filter = ("cluster_type",)
    search_fields = ("cluster_name",)


@admin.register(SyncTask)
class SyncTaskAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "sync_type",
        "mode",
        "service_match_pattern",
        "paused",
        "last_scan_at",
    )
    list_filter = ("sync_type", "mode", "paused")
    list_select_related = ("source", "destination")
    actions = ("pause", "resume")
    # Written by the sync, read by people: editing them would only make the state lie.
    readonly_fields = ("last_scan_at", "last_error", "error_kind", "failing_since", "failures")

    def has_operate_permission(self, request) -> bool:
        """The operator role (syncapp/roles.py): a viewer sees the actions' results only."""
        return request.user.has_perm(OPERATE)

    @admin.action(description="Pause selected tasks", permissions=["operate"])
    def pause(self, request, queryset):
        queryset.update(paused=True)

    @admin.action(description="Resume selected tasks", permissions=["operate"])
    def resume(self, request, queryset):
        queryset.update(paused=False)
        jobs.scan_soon(list(queryset.values_list("pk", flat=True)))

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        jobs.scan_soon([obj.pk])  # a task added or edited here starts at once, as elsewhere


@admin.register(ServiceSync)
class ServiceSyncAdmin(admin.ModelAdmin):
    list_display = (
        "service",
        "namespace",
        "group",
        "task",
        "reverse",
        "source_count",
        "dest_count",
        "last_success_at",
        "last_error",
    )
    list_filter = ("task", "reverse", "retired")
    search_fields = ("service", "namespace", "group")
    list_select_related = ("task__source", "task__destination")

    def has_add_permission(self, request) -> bool:
        return False  # rows are the sync's record of what it found: scans create them

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # shown read-only; deleting one is allowed (the next scan re-reads it)
