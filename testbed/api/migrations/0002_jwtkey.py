from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("api", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="JwtKey",
            fields=[
                ("kid", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("key", models.CharField(max_length=128)),
            ],
            options={"db_table": "jwt_keys"},
        ),
    ]
