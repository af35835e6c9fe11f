"""`manage.py rotate_secrets`: re-encrypt every cluster secret with the first key.

Key rotation: put the new key first in MSESYNC_ENCRYPTION_KEY, keep the old one after it
(`NEW,OLD`), restart, run this, then drop OLD from the list.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from syncapp.models import Cluster


class Command(BaseCommand):
    help = "Re-encrypt the clusters' password/ak/sk with the first MSESYNC_ENCRYPTION_KEY."

    @transaction.atomic
    def handle(self, *args, **options):
        clusters = list(Cluster.objects.only("pk", *Cluster.SECRET_FIELDS))
        for cluster in clusters:
            # Reading decrypts with whichever key opens the value; writing uses the first.
            # update() leaves updated_at alone: the secrets themselves did not change.
            Cluster.objects.filter(pk=cluster.pk).update(
                **{f: getattr(cluster, f) for f in Cluster.SECRET_FIELDS}
            )
        self.stdout.write(f"re-encrypted the secrets of {len(clusters)} cluster(s)")
