# Cluster secrets encrypted at rest (syncapp/fields.py) and each row's last job duration.

import syncapp.fields
from django.db import migrations, models

SECRET_COLUMNS = ("password", "ak", "sk")


def _rewrite(schema_editor, convert):
    """Apply `convert` to every secret column through raw SQL: the field itself would
    decrypt on read and encrypt on write, which is exactly what must not happen here."""
    connection = schema_editor.connection
    qn = connection.ops.quote_name
    columns = ", ".join(qn(c) for c in SECRET_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {columns} FROM {qn('syncapp_cluster')}")
        rows = cursor.fetchall()
        for pk, *values in rows:
            new = [convert(v or "") for v in values]
            if new != [v or "" for v in values]:
                sets = ", ".join(f"{qn(c)} = %s" for c in SECRET_COLUMNS)
                cursor.execute(
                    f"UPDATE {qn('syncapp_cluster')} SET {sets} WHERE id = %s", [*new, pk]
                )


def encrypt_plaintext(apps, schema_editor):
    def convert(value):
        # Idempotent: a value that already opens with our key is left alone.
        return value if not value or syncapp.fields.is_token(value) else syncapp.fields.encrypt(value)

    _rewrite(schema_editor, convert)


def decrypt_to_plaintext(apps, schema_editor):
    _rewrite(schema_editor, syncapp.fields.decrypt)


class Migration(migrations.Migration):

    dependencies = [
        ('syncapp', '0002_task_keep_case'),
    ]

    operations = [
        migrations.AddField(
            model_name='servicesync',
            name='last_duration',
            field=models.FloatField(blank=True, null=True, verbose_name='last job seconds'),
        ),
        migrations.AlterField(
            model_name='cluster',
            name='ak',
            field=syncapp.fields.EncryptedCharField(blank=True, max_length=256),
        ),
        migrations.AlterField(
            model_name='cluster',
            name='password',
            field=syncapp.fields.EncryptedCharField(blank=True, max_length=256),
        ),
        migrations.AlterField(
            model_name='cluster',
            name='sk',
            field=syncapp.fields.EncryptedCharField(blank=True, max_length=256),
        ),
        migrations.RunPython(encrypt_plaintext, decrypt_to_plaintext),
    ]
