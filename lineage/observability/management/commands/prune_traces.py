from __future__ import annotations

from datetime import timedelta

from django.core.management.base import CommandError
from django.utils import timezone

from lineage.observability.management.commands.traces import parse_since
from lineage.observability.models import ExecutionTrace
from lineage.observability.output import TerminalCommand

BATCH = 10_000
ABANDONED_REASON = "Abandoned: still running when prune_traces ran; its process is gone."


class Command(TerminalCommand):
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
        stuck = ExecutionTrace.objects.running_since(now - stale)
        old = ExecutionTrace.objects.filter(started_at__lt=now - keep)
        if dry_run:
            abandoned, deleted = stuck.count(), old.count()
        else:
            abandoned = stuck.mark_abandoned(ABANDONED_REASON)
            deleted = old.delete_in_batches(BATCH, self._progress)
        verb = "would be" if dry_run else "were"
        self.stdout.write(
            f"{abandoned} stale running trace(s) {verb} marked abandoned; "
            f"{deleted} trace(s) older than {older_than} {verb} deleted."
        )

    def _progress(self, deleted: int) -> None:
        self.stderr.write(f"deleted {deleted} so far …")
