"""Import Config: a YAML pasted or uploaded, dry-run first (diff or problems), then applied.

Everything goes through syncapp.importer, as `bin/msesync apply` does: one parser, one
diff, one all-or-nothing apply. A bad YAML is reported with line and field and changes nothing.
"""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from syncapp.importer import ConfigError, apply_config, diff_config, parse_config
from syncapp.importer.apply import Change, cluster_values, shown, task_values
from syncapp.ui.forms import ImportForm

TEMPLATE = "ui/import.html"
PANEL = "ui/_import_panel.html"  # what the dialog's fetch gets back


def render_import(request, context: dict, status: int = 200):
    """The page, or only its panel when the Import Config dialog asked (console.js)."""
    dialog = request.headers.get("X-Requested-With") == "fetch"
    return render(request, PANEL if dialog else TEMPLATE, context, status=status)


def import_config(request):
    if request.method != "POST":
        return render_import(request, {"form": ImportForm()})
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():  # too large, not UTF-8, empty: said above the form
        return render_import(request, {"form": form}, status=400)
    text = form.cleaned_data["yaml"]
    if request.POST.get("action") == "apply":
        return _apply(request, text)
    return _dry_run(request, text)


def _dry_run(request, text: str):
    try:
        spec = parse_config(text)
        changes = diff_config(spec)
    except ConfigError as error:
        return _problems(request, text, error)
    # diff_config lists the clusters, then the tasks, in the file's order (apply relies on it).
    values = [cluster_values(c) for c in spec.clusters] + [task_values(t) for t in spec.tasks]
    context = {
        "form": _filled(text),
        "yaml_text": text,
        "changes": [_row(c, v) for c, v in zip(changes, values, strict=True)],
        "changed": sum(c.action != "unchanged" for c in changes),
    }
    return render_import(request, context)


def _apply(request, text: str):
    try:
        changes = apply_config(parse_config(text))
    except ConfigError as error:  # e.g. the database changed since the dry run
        return _problems(request, text, error)
    changed = sum(c.action != "unchanged" for c in changes)
    messages.success(request, f"Config applied: {changed} change(s).")
    if request.headers.get("X-Requested-With") == "fetch":  # the dialog navigates itself
        return HttpResponse(status=204, headers={"X-Location": reverse("ui:tasks")})
    return redirect("ui:tasks")


def _filled(text: str) -> ImportForm:
    """The form again with the text in the box (an uploaded file's too), to fix or apply."""
    return ImportForm(initial={"yaml": text})


def _problems(request, text: str, error: ConfigError):
    context = {"form": _filled(text), "problems": error.problems}
    return render_import(request, context, status=400)


def _row(change: Change, values: dict) -> dict:
    """A change as the diff table shows it, in the YAML's field names and values: (field,
    old, new), old None for a creation; secrets appear as *** only."""
    if change.action == "create":
        created = [shown(change.kind, k, v) for k, v in values.items() if v not in ("", [])]
        fields = [(name, None, value) for name, value in created]
    else:
        fields = change.shown_fields()
    return {
        "action": change.action,
        "kind": change.kind,
        "name": change.name,
        "fields": fields,
        "note": change.note,
    }
