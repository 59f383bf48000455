"""Step one of two: a nullable column, which the release still running simply ignores."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("{{ cookiecutter.project_slug }}", "0001_initial")]
    operations = [
        migrations.AddField("note", "summary", models.TextField(null=True)),
    ]
