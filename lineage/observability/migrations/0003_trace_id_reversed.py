from django.contrib.postgres.indexes import OpClass
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models
from django.db.models.functions import Cast, Reverse


class Migration(migrations.Migration):
    # Built concurrently: engines keep writing traces while a table of
    # millions is indexed (CREATE INDEX CONCURRENTLY cannot run in a transaction).
    atomic = False

    dependencies = [
        ("observability", "0002_trace_dependencies_no_fastupdate"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="executiontrace",
            index=models.Index(
                OpClass(Reverse(Cast("id", models.TextField())), name="text_pattern_ops"),
                name="trace_id_reversed",
            ),
        ),
    ]
