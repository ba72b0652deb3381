"""Every command's bad input: a one-line error a person can act on, and a
non-zero exit — never a traceback."""
from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.factories import traced_db

pytestmark = traced_db


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run_metric", "Daily revnue", "--org", "acme"], "No metric named “Daily revnue”. Did you mean “Daily revenue”?"),
        (["run_workflow", "page opps", "--org", "acme"], "Did you mean “Page ops”?"),
        (["run_metric", "Daily revenue", "--org", "acme-corp"], "No organization “acme-corp”. Did you mean “acme”?"),
        (["explain", "not-a-uuid"], "“not-a-uuid” is not a trace id: give the whole id, or at least its first or last 6 hex digits."),
        (["explain", "abc12"], "“abc12” is not a trace id"),
        (["explain", "fedcba987"], "No trace id matches “fedcba987”."),
        (["explain", "01a2b3c4-0000-7000-8000-000000000000"], "No trace with id"),
        (["lineage", "01a2b3c4-0000-7000-8000-000000000000"], "No trace with id"),
        (["lineage", "01a2b3c4-0000-7000-8000-000000000000", "--depth", "0"], "--depth must be between 1 and 100"),
        (["traces", "--since", "yesterday"], "--since must look like 30m, 24h, 7d or 2w"),
        (["traces", "--since", "99999999999w"], "--since must be at most 100 years"),
        (["traces", "--since", "5300w"], "--since must be at most 100 years"),
        (["prune_traces", "--older-than", "abc"], "--older-than must look like 30m, 24h, 7d or 2w"),
        (["prune_traces", "--stale-after", "9999999999d"], "--stale-after must be at most 100 years"),
        (["traces", "--limit", "0"], "--limit must be between 1 and 10000"),
        (["run_scheduler", "--now", "tuesday"], "--now must be an ISO-8601 time"),
        (["run_scheduler", "--org", "acme-corp"], "No organization “acme-corp”. Did you mean “acme”?"),
        (["export_traces"], "Nothing to send to: set LINEAGE_OTLP_ENDPOINT"),
    ],
)
def test_bad_input_is_a_one_line_command_error(seeded, args, message):
    with pytest.raises(CommandError) as error:
        call_command(*args, stdout=StringIO())
    assert message in str(error.value)
    assert "\n" not in str(error.value)
