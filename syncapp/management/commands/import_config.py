"""`manage.py import_config -f FILE [--dry-run]`: import the MSE Sync YAML."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from syncapp.importer import ConfigError, apply_config, diff_config, parse_config


class Command(BaseCommand):
    help = "Import clusters and tasks from an MSE Sync YAML file (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("-f", "--file", required=True, help="YAML file")
        parser.add_argument("--dry-run", action="store_true", help="print changes only")

    def handle(self, *args, file, dry_run, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        try:
            spec = parse_config(path.read_text())
            changes = diff_config(spec) if dry_run else apply_config(spec)
        except ConfigError as exc:
            raise CommandError(f"{file}: nothing imported:\n{exc}") from None
        for change in changes:
            self.stdout.write(("would " if dry_run else "") + str(change))
        changed = sum(c.action != "unchanged" for c in changes)
        self.stdout.write(f"{changed} change(s){' (dry run)' if dry_run else ''}")
