from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("syncapp", "0004_validation_and_roles"),
    ]

    operations = [
        migrations.AddField(
            model_name="servicesync",
            name="leases_changed_at",
            field=models.DateTimeField(blank=True, db_index=True, null=True),
        ),
    ]
