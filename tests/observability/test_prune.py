from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from lineage.observability.models import ExecutionTrace
from lineage.observability.store import create_trace, update_trace
from tests.factories import traced_db

pytestmark = traced_db


def trace_started(org, ago: timedelta, status="succeeded"):
    trace_id = create_trace(
        org_id=org.pk, trace_type="metric", name="m", source="manual",
        started_at=timezone.now() - ago,
    )
    update_trace(trace_id, status=status)
    return trace_id


def test_old_traces_are_deleted_and_stale_running_ones_abandoned(org):
    old = trace_started(org, timedelta(days=100))
    recent = trace_started(org, timedelta(days=3))
    stale = trace_started(org, timedelta(hours=7), status="running")
    live = trace_started(org, timedelta(minutes=5), status="running")

    out = StringIO()
    call_command("prune_traces", stdout=out)

    assert "1 stale running trace(s) were marked abandoned; 1 trace(s) older than 90d were deleted." in out.getvalue()
    assert set(ExecutionTrace.objects.values_list("id", flat=True)) == {recent, stale, live}
    assert ExecutionTrace.objects.get(pk=stale).status == "abandoned"
    assert ExecutionTrace.objects.get(pk=live).status == "running"
    assert old not in set(ExecutionTrace.objects.values_list("id", flat=True))


def test_dry_run_changes_nothing(org):
    trace_started(org, timedelta(days=100))
    out = StringIO()
    call_command("prune_traces", "--dry-run", stdout=out)
    assert "1 trace(s) older than 90d would be deleted" in out.getvalue()
    assert ExecutionTrace.objects.count() == 1


@pytest.mark.parametrize("args", [["--older-than", "2h"], ["--stale-after", "soon"]])
def test_bad_options_are_refused(db, args):
    with pytest.raises(CommandError):
        call_command("prune_traces", *args, stdout=StringIO())
