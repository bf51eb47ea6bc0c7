import uuid

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("api", "0002_jwtkey")]

    operations = [
        migrations.AddField(
            model_name="note",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
