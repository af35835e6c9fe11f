"""Service Synchronization: the task list, one task's services, and the task actions."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from syncapp import jobs
from syncapp.cockpit.phases import PHASES
from syncapp.cockpit.report import phase_counts, phase_rows, service_phase
from syncapp.config_sync import config_stats
from syncapp.models import ConfigSync, ServiceSync, SyncTask
from syncapp.ui.formatting import failing_for, lag
from syncapp.ui.forms import ImportForm
from syncapp.ui.states import (
    TaskCounts,
    counts_by_task,
    service_state,
    task_failing_since,
    task_state,
)
from syncapp.ways import Way, where_copies_go

PAGE_SIZE = 50
# Only what the services table shows: `leases` is a JSON list per row, costly to fetch.
SERVICE_COLUMNS = (
    "id",
    "task",
    "reverse",
    "namespace",
    "group",
    "service",
    "source_count",
    "dest_count",
    "retired",
    "last_success_at",
    "last_error",
    "failing_since",
    "failures",
)


def task_list(request):
    tasks = SyncTask.objects.select_related("source", "destination")
    page = Paginator(tasks, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = counts_by_task(t.pk for t in page)
    configs = config_stats([t.pk for t in page if t.sync_type == SyncTask.CONFIG])
    now = timezone.now()
    for task in page:
        describe(task, counts.get(task.pk, TaskCounts()), now)
        task.config_counts = configs.get(task.pk, {})
    return render(request, "ui/tasks.html", {"page": page, "import_form": ImportForm()})


def task_detail(request, pk: int):
    task = get_object_or_404(SyncTask.objects.select_related("source", "destination"), pk=pk)
    now = timezone.now()
    describe(task, counts_by_task([task.pk]).get(task.pk, TaskCounts()), now)
    task.copies_go = where_copies_go(task)  # the task page's summary says where copies land
    search = request.GET.get("q", "").strip()
    if task.sync_type == SyncTask.CONFIG:
        return config_detail(request, task, search)
    page = Paginator(services_of(task, search), PAGE_SIZE).get_page(request.GET.get("page"))
    for row in page:
        row.state = service_state(row)
        row.lag = lag(row.last_success_at, now)
        row.failing_for = failing_for(row.failing_since, now)
        row.way_ends = Way(task, row.reverse).ends
    return render(request, "ui/task.html", {"task": task, "page": page, "search": search})


def migration(request, pk: int):
    """The migration cockpit of a Service task: services per phase (a filter), and each
    service's phase with its evidence on both sides and any warning."""
    task = get_object_or_404(
        SyncTask.objects.select_related("source", "destination"), pk=pk, sync_type=SyncTask.SERVICE
    )
    wanted = request.GET.get("phase", "")
    wanted = wanted if wanted in PHASES else ""
    counts, warnings = phase_counts(task)
    rows = phase_rows(task, wanted or None)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    services = [service_phase(row, task) for row in page]
    context = {
        "task": task,
        "page": page,
        "services": services,
        "counts": counts.items(),
        "warnings": warnings,
        "wanted": wanted,
    }
    return render(request, "ui/migration.html", context)


def describe(task: SyncTask, counts: TaskCounts, now) -> None:
    """What the task's pages show of it, from its state readers."""
    task.counts = counts
    task.state = task_state(task, counts)
    task.failing_since_shown = task_failing_since(task, counts)
    task.failing_for = failing_for(task.failing_since_shown, now)


def config_detail(request, task: SyncTask, search: str):
    """A Config task's configs (Nacos: one ConfigSync row each), conflicts and errors first."""
    task.config_counts = config_stats([task.pk]).get(task.pk, {})
    rows = ConfigSync.objects.filter(task=task).order_by(
        "-conflict", "-last_error", "namespace", "group", "data_id"
    )
    if search:
        rows = rows.filter(data_id__icontains=search)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "ui/task.html", {"task": task, "page": page, "search": search})


def services_of(task: SyncTask, search: str):
    """The task's rows in index order (the unique constraint's), so LIMIT/OFFSET stay cheap."""
    rows = ServiceSync.objects.filter(task=task).only(*SERVICE_COLUMNS)
    return rows.filter(service__icontains=search) if search else rows


def _back(request, task: SyncTask):
    """Back where the button was pressed (the list or the task page), never off-site."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return redirect(target)
    return redirect("ui:task", pk=task.pk)


def _set_paused(request, pk: int, paused: bool):
    task = get_object_or_404(SyncTask, pk=pk)
    # An update, not save(): a worker may be writing last_scan_at on the same row.
    SyncTask.objects.filter(pk=task.pk).update(paused=paused)
    jobs.scan_soon([task.pk])  # a resumed task catches up at once (a paused one: nothing)
    messages.success(request, f"{task}: {'paused' if paused else 'resumed'}.")
    return _back(request, task)


@require_POST
def pause(request, pk: int):
    return _set_paused(request, pk, True)


@require_POST
def resume(request, pk: int):
    return _set_paused(request, pk, False)


@require_POST
def resync(request, pk: int):
    task = get_object_or_404(SyncTask, pk=pk)
    jobs.request_resync(task.pk)
    messages.success(request, f"{task}: full resync queued.")
    return _back(request, task)


@require_POST
def delete(request, pk: int):
    """As the API's DELETE: the task and (by cascade) its service rows go."""
    task = get_object_or_404(SyncTask, pk=pk)
    name = str(task)
    task.delete()
    messages.success(request, f"{name}: deleted.")
    return redirect("ui:tasks")
