from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.utils import timezone

from lineage.observability.management.commands.traces import parse_since
from lineage.observability.models import TraceStatus
from lineage.observability.store import TRACE_DB

BATCH = 10_000


class Command(BaseCommand):
    help = (
        "Delete traces older than --older-than (default 90d), in batches, and mark traces "
        "stuck in `running` for longer than --stale-after (default 6h) as abandoned — their "
        "process died without finishing them. One pass, then exit: meant for a daily cron."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--older-than", default="90d", help="e.g. 90d, 2w")
        parser.add_argument("--stale-after", default="6h", help="e.g. 6h, 30m")
        parser.add_argument("--dry-run", action="store_true", help="Only count.")

    def handle(self, *args, older_than: str, stale_after: str, dry_run: bool, **options):
        keep = parse_since(older_than, "--older-than")
        stale = parse_since(stale_after, "--stale-after")
        if keep < timedelta(days=1):
            raise CommandError("--older-than must be at least 1d, to not delete live traces")
        now = timezone.now()
        abandoned = self._abandon_stale(now - stale, dry_run)
        deleted = self._delete_old(now - keep, dry_run)
        verb = "would be" if dry_run else "were"
        self.stdout.write(
            f"{abandoned} stale running trace(s) {verb} marked abandoned; "
            f"{deleted} trace(s) older than {older_than} {verb} deleted."
        )

    def _abandon_stale(self, before, dry_run: bool) -> int:
        with connections[TRACE_DB].cursor() as cursor:
            if dry_run:
                cursor.execute(
                    "SELECT count(*) FROM execution_traces WHERE status = %s AND started_at < %s",
                    [TraceStatus.RUNNING, before],
                )
                return cursor.fetchone()[0]
            cursor.execute(
                "UPDATE execution_traces SET status = %s, completed_at = now(),"
                " error = 'Abandoned: still running when prune_traces ran; its process is gone.'"
                " WHERE status = %s AND started_at < %s",
                [TraceStatus.ABANDONED, TraceStatus.RUNNING, before],
            )
            return cursor.rowcount

    def _delete_old(self, before, dry_run: bool) -> int:
        total = 0
        with connections[TRACE_DB].cursor() as cursor:
            if dry_run:
                cursor.execute("SELECT count(*) FROM execution_traces WHERE started_at < %s", [before])
                return cursor.fetchone()[0]
            # Batches keep each transaction (and its locks and WAL) small.
            while True:
                cursor.execute(
                    "DELETE FROM execution_traces WHERE id IN ("
                    " SELECT id FROM execution_traces WHERE started_at < %s LIMIT %s)",
                    [before, BATCH],
                )
                total += cursor.rowcount
                if cursor.rowcount < BATCH:
                    return total
                self.stderr.write(f"deleted {total} so far …")
