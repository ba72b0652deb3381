import django.contrib.postgres.indexes
from django.db import migrations

# ALTER INDEX rather than Django's drop-and-recreate: the index is not rebuilt
# on a table that may hold millions of traces. The pending list that fast
# update had gathered is merged into the index straight away.
FORWARD = [
    "ALTER INDEX trace_dependencies SET (fastupdate = off)",
    "SELECT gin_clean_pending_list('trace_dependencies')",
]
BACKWARD = ["ALTER INDEX trace_dependencies RESET (fastupdate)"]


class Migration(migrations.Migration):

    dependencies = [
        ("observability", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(FORWARD, BACKWARD)],
            state_operations=[
                migrations.RemoveIndex(model_name="executiontrace", name="trace_dependencies"),
                migrations.AddIndex(
                    model_name="executiontrace",
                    index=django.contrib.postgres.indexes.GinIndex(
                        fastupdate=False, fields=["dependencies"], name="trace_dependencies"
                    ),
                ),
            ],
        ),
    ]
