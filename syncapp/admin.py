"""Django admin for raw edits; secrets are entered but never shown back."""

from django import forms
from django.contrib import admin

from syncapp.models import Cluster, ServiceSync, SyncTask

SECRET_FIELDS = ("password", "ak", "sk")


def _secret_field():
    return forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Write-only. Leave empty to keep the current value.",
    )


class ClusterForm(forms.ModelForm):
    password = _secret_field()
    ak = _secret_field()
    sk = _secret_field()

    class Meta:
        model = Cluster
        fields = "__all__"

    def clean(self):
        data = super().clean()
        for secret in SECRET_FIELDS:
            if not data.get(secret) and self.instance.pk:
                data[secret] = getattr(self.instance, secret)
        return data


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

    @admin.action(description="Pause selected tasks")
    def pause(self, request, queryset):
        queryset.update(paused=True)

    @admin.action(description="Resume selected tasks")
    def resume(self, request, queryset):
        queryset.update(paused=False)


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
    readonly_fields = ("leases", "source_digest")
