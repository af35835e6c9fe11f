"""Console access: which role permissions (syncapp/roles.py) each page needs."""

from functools import wraps

from django.core.exceptions import PermissionDenied

READ_METHODS = ("GET", "HEAD")
VIEW_TASKS = ("syncapp.view_synctask", "syncapp.view_servicesync")
VIEW_CLUSTERS = ("syncapp.view_cluster",)


def role_required(view, read: tuple[str, ...], write: tuple[str, ...] | None = None):
    """The view, refused (403) to a logged-in user whose role lacks the permissions: `read`
    for GET and HEAD, `write` (default: `read`) for anything else."""

    @wraps(view)
    def checked(request, *args, **kwargs):
        needed = read if request.method in READ_METHODS else (write or read)
        if not request.user.has_perms(needed):
            raise PermissionDenied("your role does not allow this")
        return view(request, *args, **kwargs)

    return checked
