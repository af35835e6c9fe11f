"""`manage.py api_token USER [--rotate]`: print the user's API token, creating it once.

Scripts and Prometheus send it as `Authorization: Token <key>`. The token acts as the user:
create a dedicated user for automation rather than sharing the admin's.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Print USER's API token (created on first use; --rotate replaces it)."

    def add_arguments(self, parser):
        parser.add_argument("user", help="an existing user name")
        parser.add_argument(
            "--rotate", action="store_true", help="revoke the current token and issue a new one"
        )

    def handle(self, *args, user, rotate, **options):
        account = get_user_model().objects.filter(username=user).first()
        if account is None:
            raise CommandError(f"no user {user!r}: create it first (admin, or createsuperuser)")
        if not account.is_active:
            raise CommandError(f"user {user!r} is inactive: its token would be refused")
        if rotate:
            Token.objects.filter(user=account).delete()
        token, _ = Token.objects.get_or_create(user=account)
        self.stdout.write(token.key)
