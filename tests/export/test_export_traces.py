"""`manage.py export_traces`: back-filling what a collector or Marquez
missed. It sends the same spans and runs as the live export (so sending
twice is harmless), goes on after the last trace it sent, and says what to
do when a destination refuses."""
from __future__ import annotations

import os

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from lineage.observability.models import ExecutionTrace
from tests.export.conftest import Receiver
from tests.factories import run_command, traced_db

pytestmark = traced_db


def shape(spans) -> set[tuple]:
    return {(s.trace_id, s.span_id, s.parent_span_id, s.name, s.start_time_unix_nano) for s in spans}


@pytest.fixture
def other_receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


def sending_to(receiver: Receiver):
    return override_settings(LINEAGE_OTLP_ENDPOINT=receiver.url, LINEAGE_OPENLINEAGE_URL=receiver.url)


def test_the_back_fill_sends_the_same_spans_and_runs_as_the_live_export(demo_chains, receiver, other_receiver):
    with sending_to(other_receiver):
        out = run_command("export_traces", "--since", "1h")

    assert out == "Sent 9 finished traces to OpenTelemetry and OpenLineage.\n"
    assert shape(other_receiver.spans) == shape(receiver.spans)
    key = lambda e: (e["run"]["runId"], e["eventType"])  # noqa: E731
    assert sorted(map(key, other_receiver.events)) == sorted(map(key, receiver.events))
    sent_parents = {e["run"]["runId"]: e["run"]["facets"].get("parent", {}).get("run") for e in other_receiver.events}
    live_parents = {e["run"]["runId"]: e["run"]["facets"].get("parent", {}).get("run") for e in receiver.events}
    assert sent_parents == live_parents


def test_a_refused_batch_stops_with_where_to_go_on(seeded, receiver, django_assert_max_num_queries):
    call_command("run_scheduler", stdout=open(os.devnull, "w"))
    oldest = ExecutionTrace.objects.order_by("started_at", "id").first()
    receiver.status = 503

    with sending_to(receiver):
        with override_settings(LINEAGE_OTLP_TIMEOUT_SECONDS=1):  # it retries until then
            with pytest.raises(CommandError, match=r"Stopped after 0 traces: .*; run it again"):
                call_command("export_traces", "--to", "otlp", stderr=open(os.devnull, "w"))
        receiver.status = 200
        with django_assert_max_num_queries(8):  # a batch, its chains, organizations: not per trace
            out = run_command("export_traces", "--to", "otlp", "--after", str(oldest.id))

    assert out == "Sent 8 finished traces to OpenTelemetry.\n"
    assert oldest.id.bytes[8:] not in {s.span_id for s in receiver.spans}
    assert len(receiver.spans) == 8 and not receiver.events


def test_without_a_destination_or_with_a_bad_option_it_says_what_to_do(db):
    with pytest.raises(CommandError, match="Nothing to send to: set LINEAGE_OTLP_ENDPOINT"):
        call_command("export_traces")
    with override_settings(LINEAGE_OTLP_ENDPOINT="http://127.0.0.1:9"):
        with pytest.raises(CommandError, match="--since must look like 30m"):
            call_command("export_traces", "--since", "yesterday")
        with pytest.raises(CommandError, match="--after: “nope” is not a trace id"):
            call_command("export_traces", "--after", "nope")
        with pytest.raises(CommandError, match="No organization “nowhere”"):
            call_command("export_traces", "--org", "nowhere")
