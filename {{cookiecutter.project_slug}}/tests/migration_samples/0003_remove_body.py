"""A column dropped at once: the release still running selects it, and fails until it stops."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("{{ cookiecutter.project_slug }}", "0002_add_summary")]
    operations = [
        migrations.RemoveField("note", "body"),
    ]
