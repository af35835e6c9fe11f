"""Every URL the URL conf resolves, with its path parameters filled in.

Walks get_resolver().url_patterns, so pages added later (the console, new API routes) are
covered by the tests that use it without anyone listing them.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.urls import URLResolver, get_resolver, reverse

# A named group or a path converter in a route, e.g. (?P<pk>[^/.]+) or <int:object_id>.
REGEX_GROUP = re.compile(r"\(\?P<(\w+)>((?:[^()]|\([^()]*\))*)\)")
CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")
LITERAL_CHOICES = re.compile(r"[\w-]+(\|[\w-]+)*")
FORMAT_SUFFIX = re.compile(r"\(\?P<format>|<(\w+:)?format>")


@dataclass(frozen=True)
class Endpoint:
    path: str  # concrete, e.g. /api/tasks/3/pause/
    route: str  # as written, e.g. api/^tasks/(?P<pk>[^/.]+)/pause/$
    callback: Callable


def model_of(callback, param: str):
    """The model whose pk a view's path parameter names, when the view says so."""
    if admin := getattr(callback, "model_admin", None):
        return admin.model
    cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if cls is not None:
        if model := getattr(cls, "model", None):
            return model
        if (queryset := getattr(cls, "queryset", None)) is not None:
            return queryset.model
        if serializer := getattr(cls, "serializer_class", None):
            return getattr(getattr(serializer, "Meta", None), "model", None)
    return _model_named(param)


def _model_named(param: str):
    """`task_id` -> SyncTask and so on, for views that do not name their model."""
    from syncapp.models import Cluster, ServiceSync, SyncTask

    stem = re.sub(r"_?(id|pk)$", "", param)
    return {"task": SyncTask, "cluster": Cluster, "service": ServiceSync, "row": ServiceSync}.get(
        stem
    )


def _fill(route: str, value_for: Callable[[str, str], str]) -> str:
    def group(match):
        name, body = match.group(1), match.group(2)
        if LITERAL_CHOICES.fullmatch(body):  # (?P<app_label>auth|syncapp): a real choice
            return body.split("|")[0]
        return value_for(name, body)

    route = REGEX_GROUP.sub(group, route)
    route = CONVERTER.sub(lambda m: value_for(m.group(1), ""), route)
    return "/" + route.replace("^", "").replace("$", "").replace("\\", "")


def endpoints(pk_for: Callable[[object, str], str], patterns=None, prefix="") -> Iterator[Endpoint]:
    """Each route of the URL conf once; `pk_for(model_or_None, param)` fills parameters.

    Format-suffix variants (`.json`) are left out: they are the same views.
    """
    patterns = get_resolver().url_patterns if patterns is None else patterns
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from endpoints(pk_for, p.url_patterns, route)
        elif not FORMAT_SUFFIX.search(route):
            path = _fill(route, lambda name, _body, cb=p.callback: pk_for(model_of(cb, name), name))
            yield Endpoint(path, route, p.callback)


def login_paths() -> set[str]:
    return {reverse("admin:login"), _path(settings.LOGIN_URL)}


def _path(url: str) -> str:
    return url if url.startswith("/") else reverse(url)


def is_public(path: str) -> bool:
    """Pages anyone may see: the health probe, static files, the login pages."""
    static = "/" + settings.STATIC_URL.lstrip("/")
    return path in {"/healthz"} | login_paths() or path.startswith(static)
