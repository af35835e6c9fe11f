"""Clusters: list, add, edit, test the connection, and start a task from what one holds."""

from django.contrib import messages
from django.db.models import ProtectedError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from syncapp import jobs
from syncapp.models import Cluster, SyncTask
from syncapp.ui.discovery import pattern_for, probe
from syncapp.ui.forms import ClusterForm, NewTaskForm

PATTERN_MAX = SyncTask._meta.get_field("service_match_pattern").max_length


def cluster_list(request):
    return render(request, "ui/clusters.html", {"clusters": Cluster.objects.all()})


def cluster_add(request):
    return _edit(request, Cluster())


def cluster_edit(request, pk: int):
    return _edit(request, get_object_or_404(Cluster, pk=pk))


def _edit(request, cluster: Cluster):
    form = ClusterForm(request.POST or None, instance=cluster)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        messages.success(request, f"Cluster {saved} saved.")
        return redirect("ui:clusters")
    return render(request, "ui/cluster_form.html", {"form": form, "cluster": cluster})


@require_POST
def cluster_delete(request, pk: int):
    """As the API's DELETE: refused, changing nothing, while a task uses the cluster."""
    cluster = get_object_or_404(Cluster, pk=pk)
    try:
        cluster.delete()
    except ProtectedError as refused:
        tasks = sorted(str(t) for t in refused.protected_objects)
        shown = "; ".join(tasks[:3]) + (" …" if len(tasks) > 3 else "")
        used = f"{cluster} is used by {len(tasks)} task(s): {shown}."
        messages.error(request, f"{used} Delete those first; nothing was changed.")
    else:
        messages.success(request, f"Cluster {cluster}: deleted.")
    return redirect("ui:clusters")


@require_POST
def cluster_test(request, pk: int):
    cluster = get_object_or_404(Cluster, pk=pk)
    result = probe(cluster)
    if result.ok:
        messages.success(
            request,
            f"{cluster}: connected{f' over {result.protocol}' if result.protocol else ''}; "
            f"{len(result.namespaces)} namespace(s), {len(result.services)} service(s).",
        )
    else:
        messages.error(request, f"{cluster}: {result.error}")
    return redirect("ui:clusters")


def cluster_services(request, pk: int):
    """The cluster's services with checkboxes; a task takes all of them or the ones ticked."""
    cluster = get_object_or_404(Cluster, pk=pk)
    result = probe(cluster)
    form = NewTaskForm(cluster, result.names, request.POST or None)
    if request.method == "POST" and form.is_valid():
        task = _create_task(request, cluster, form.cleaned_data)
        if task:
            return redirect("ui:task", pk=task.pk)
    context = {"cluster": cluster, "probe": result, "form": form}
    return render(request, "ui/cluster_services.html", context)


def _create_task(request, source: Cluster, data: dict) -> SyncTask | None:
    chosen = data["services"] if data["scope"] == "selected" else None
    pattern = pattern_for(chosen)
    if len(pattern) > PATTERN_MAX:
        messages.error(
            request,
            f"{len(chosen)} names make a pattern of {len(pattern)} characters (at most "
            f"{PATTERN_MAX}): choose fewer, or write a pattern in Import Config.",
        )
        return None
    task = SyncTask.objects.create(
        source=source,
        destination=data["destination"],
        sync_type=SyncTask.SERVICE,
        mode=data["mode"],
        service_match_pattern=pattern,
        auto_scan=True,  # the scan adds the rows of the matching services
    )
    jobs.scan_soon([task.pk])
    messages.success(request, f"Task {task} created with serviceMatchPattern {pattern}.")
    return task
