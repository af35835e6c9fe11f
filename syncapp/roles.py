"""Roles as Django groups: viewer reads, operator also runs tasks, admin changes everything.

The API (syncapp/api/permissions.py), the console (syncapp/ui/urls.py) and the admin check
the same Django permissions, so a role means the same thing everywhere. `ensure_roles`
creates the groups (manage.py ensure_admin calls it after every migrate); a superuser has
every permission without a group.
"""

from django.contrib.auth.models import Group, Permission

VIEWER, OPERATOR, ADMIN = "viewer", "operator", "admin"

VIEW = ("syncapp.view_cluster", "syncapp.view_synctask", "syncapp.view_servicesync")
OPERATE = "syncapp.operate_synctask"
# Import Config creates and updates clusters and tasks.
IMPORT = (
    "syncapp.add_cluster",
    "syncapp.change_cluster",
    "syncapp.add_synctask",
    "syncapp.change_synctask",
)
EDIT = (
    *IMPORT,
    "syncapp.delete_cluster",
    "syncapp.delete_synctask",
    "syncapp.add_servicesync",
    "syncapp.change_servicesync",
    "syncapp.delete_servicesync",
)
TOKENS = (
    "authtoken.add_token",
    "authtoken.change_token",
    "authtoken.delete_token",
    "authtoken.view_token",
    "authtoken.add_tokenproxy",
    "authtoken.change_tokenproxy",
    "authtoken.delete_tokenproxy",
    "authtoken.view_tokenproxy",
)
ROLES = {
    VIEWER: VIEW,
    OPERATOR: (*VIEW, OPERATE),
    ADMIN: (*VIEW, OPERATE, *EDIT, *TOKENS),
}


def ensure_roles() -> None:
    """Create the three groups, each with exactly its permissions (idempotent)."""
    for name, codes in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(_permissions(codes))


def _permissions(codes) -> list[Permission]:
    found = []
    for code in codes:
        app_label, codename = code.split(".")
        found += Permission.objects.filter(content_type__app_label=app_label, codename=codename)
    return found
