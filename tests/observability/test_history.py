"""What the pages say at a glance: results, runs in words, causes, streaks,
and one spelling for times and durations."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from lineage.observability.formatting import (
    cut_middle,
    format_ago,
    format_day_time,
    format_timestamp,
)
from lineage.observability.history import History, Run, root_cause, trace_result
from lineage.observability.models import ExecutionTrace


def trace(trace_type="metric", status="succeeded", outputs=None, error="", name="t"):
    return ExecutionTrace(
        trace_type=trace_type, status=status, outputs=outputs or {}, error=error, name=name,
        started_at=timezone.now(),
    )


@pytest.mark.parametrize(
    ("trace_type", "status", "outputs", "result"),
    [
        ("metric", "succeeded", {"value": 6}, "computed 6"),
        ("alert", "succeeded", {"fired": True, "margin": 1}, "fired by 1"),
        ("alert", "succeeded", {"fired": False, "margin": -4}, "did not fire, short by 4"),
        ("workflow", "failed", {"failed_step": {"position": 1}}, "step 1 failed"),
        ("workflow", "succeeded", {"steps_run": 2}, "2 steps run"),
        ("step", "failed", {}, "failed"),
        ("step", "succeeded", {}, ""),
    ],
)
def test_each_trace_says_what_it_produced(trace_type, status, outputs, result):
    assert trace_result(trace(trace_type, status, outputs)) == result


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (
            "StepFailed: step 1 “Page” (webhook) failed: POST http://127.0.0.1:9/page-ops failed:"
            " [Errno 111] Connection refused\n\nTraceback (most recent call last):\n ...",
            "Connection refused at 127.0.0.1:9",
        ),
        ("ZeroDivisionError: division by zero", "ZeroDivisionError: division by zero"),
        ("MetricError: the query failed: relation x does not exist", "relation x does not exist"),
        ("", ""),
    ],
)
def test_the_root_cause_is_the_innermost_error_and_where(error, cause):
    assert root_cause(error) == cause


def test_a_run_reads_as_its_chain_in_words():
    run = Run(trace(name="Open orders", outputs={"value": 6}))
    run.traces = [
        run.root,
        trace("alert", outputs={"fired": True, "margin": 1}, name="Orders piling up"),
        trace("alert", outputs={"fired": False, "margin": -3}, name="Quiet one"),
        trace("workflow", "failed", {"failed_step": {"position": 1}}, name="Page ops",
              error="StepFailed: step 1 failed: POST http://127.0.0.1:9/x failed: [Errno 111] Connection refused"),
        trace("step", "failed", name="Page the ops channel", error="boom"),
    ]
    assert run.summary == (
        "Open orders = 6 → Orders piling up fired → Page ops ✗ step 1 (Connection refused at 127.0.0.1:9)"
        " · 1 alert did not fire"
    )
    assert run.status == "failed"


def test_a_failing_streak_counts_back_to_the_last_success():
    at = timezone.now()
    outcomes = [
        ("running", at, None),
        *[("failed", at - timedelta(minutes=n), None) for n in range(1, 96)],
        ("succeeded", at - timedelta(minutes=200), None),
        ("failed", at - timedelta(minutes=300), None),
    ]
    history = History(outcomes)
    assert history.is_failing
    assert len(history.failing_streak) == 95
    assert history.failing_since == at - timedelta(minutes=95)
    assert history.last_success == at - timedelta(minutes=200)
    assert not history.streak_is_longer
    assert history.success_rate == pytest.approx(1 / 97)
    assert len(history.strip) == 20 and history.strip[-1][0] == "running"


def test_a_streak_longer_than_what_was_read_says_so():
    at = timezone.now()
    history = History([("failed", at, None)] * 5, looked_back=5)
    assert history.streak_is_longer and history.last_success is None


@override_settings(TIME_ZONE="Europe/Paris")
def test_one_spelling_for_times_with_their_zone():
    with timezone.override("Europe/Paris"):
        now = timezone.now()
        assert format_timestamp(datetime(2026, 11, 27, 9, 5, 3, tzinfo=timezone.get_fixed_timezone(0))) == (
            "Nov 27, 2026 10:05:03 CET"
        )
        assert format_day_time(now - timedelta(days=1)).endswith(" yesterday")
    assert format_ago(now - timedelta(seconds=2), now) == "just now"
    assert format_ago(now - timedelta(minutes=12, seconds=5), now) == "12 min ago"
    assert format_ago(now - timedelta(hours=5), now) == "5 h ago"


def test_long_text_is_cut_in_the_middle_keeping_both_ends():
    text = "StepFailed: step 1 " + "x" * 200 + " Connection refused"
    cut = cut_middle(text, 80)
    assert len(cut) <= 82
    assert cut.startswith("StepFailed: step 1") and cut.endswith("Connection refused")
    assert cut_middle("short", 80) == "short"
