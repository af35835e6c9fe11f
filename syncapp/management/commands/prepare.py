"""`manage.py prepare`: what every start and apply does first, in one process: migrate the
database, collect the static files, create the roles and the first admin (ensure_admin).

One process instead of three: each Django start-up costs ~0.5-1 s here, and `bin/msesync
apply` is on the path a user times from "apply" to "synced"."""

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Migrate, collect static files and ensure the roles and the first admin."
    requires_system_checks = []  # migrate runs its own; the others need none

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        call_command("ensure_admin", stdout=self.stdout)
