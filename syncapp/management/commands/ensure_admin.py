"""`manage.py ensure_admin`: create the roles (viewer, operator, admin groups) and the first
admin user once, so a fresh install can log in.

Password: $MSESYNC_ADMIN_PASSWORD, else a generated one written to <data dir>/admin-password
(mode 600) and printed once. An existing user is never changed.
"""

import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from syncapp.roles import ADMIN, ensure_roles


class Command(BaseCommand):
    help = "Create the role groups, and the first admin user if no superuser exists."

    def handle(self, *args, **options):
        ensure_roles()  # after every migrate: new permissions join their roles
        users = get_user_model().objects
        if users.filter(is_superuser=True).exists():
            return
        name = os.environ.get("MSESYNC_ADMIN_USER", "admin")
        password = os.environ.get("MSESYNC_ADMIN_PASSWORD") or self._generated()
        admin = users.create_superuser(name, email="", password=password)
        admin.groups.add(Group.objects.get(name=ADMIN))
        self.stdout.write(f"created admin user {name!r}")

    def _generated(self) -> str:
        path = settings.DATA_DIR / "admin-password"
        password = secrets.token_urlsafe(12)
        path.write_text(password + "\n")
        path.chmod(0o600)
        self.stdout.write(f"admin password (also in {path}): {password}")
        return password
