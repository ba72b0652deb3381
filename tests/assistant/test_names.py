"""Which definition a question is about — by cause: spelled out, typos,
several names in one question, names that fit equally, the verb's kind,
common words, and what is suggested when nothing fits."""
from __future__ import annotations

import pytest

from lineage.alerts.models import AlertRule
from lineage.assistant.planner import plan
from lineage.metrics.models import Metric
from lineage.workflows.models import Workflow


def target_of(context, question: str) -> tuple[str, str] | None:
    result = plan(question, context)
    return (result.target.kind, result.target.name) if result.target else None


def asked_back(context, question: str) -> str:
    result = plan(question, context)
    assert result.target is None, result.target
    return result.clarification


@pytest.mark.parametrize(
    ("question", "found"),
    [
        ("why did notfy on call run", ("workflow", "Notify on-call")),
        ("why did page-ops fail", ("workflow", "Page ops")),
        ("why did revnue spike fire", ("alert", "Revenue spike")),
        ("what did open ordrs trigger", ("metric", "Open orders")),
        ("WHY DID PAGE OPS RUN", ("workflow", "Page ops")),
    ],
)
def test_a_typo_or_a_spelling_finds_the_name(planning, question, found):
    assert target_of(planning, question) == found


@pytest.mark.parametrize(
    ("question", "found"),
    [
        ("why didn't Notify on-call run when Revenue spike fired?", ("workflow", "Notify on-call")),
        ("did revenue spike start notify on-call today?", ("alert", "Revenue spike")),
        ("how many times did page ops fail after open orders ran", ("workflow", "Page ops")),
    ],
)
def test_of_two_names_the_question_is_about_the_first(planning, question, found):
    assert target_of(planning, question) == found


def test_a_name_inside_a_longer_one_is_not_a_second_mention(planning, named):
    Metric.objects.create(organization=named, name="Revenue", sql="SELECT 1")
    assert target_of(planning, "why did daily revenue run") == ("metric", "Daily revenue")
    assert target_of(planning, "why did revenue run") == ("metric", "Revenue")


def test_names_that_fit_equally_are_asked_back_with_the_candidates(planning):
    assert asked_back(planning, "why did daily run") == "Did you mean “Daily refunds” or “Daily revenue”?"
    # Two alerts say "revenue": one of them disabled, which the question back says.
    assert asked_back(planning, "why did the revenue alert fire?") == (
        "Did you mean “Revenue drop” (disabled) or “Revenue spike”?"
    )


def test_the_verb_says_which_kind_is_meant(planning):
    # "fire": alerts only, not the metric "Daily revenue" that also says "revenue".
    assert asked_back(planning, "why did revenue fire") == (
        "Did you mean “Revenue drop” (disabled) or “Revenue spike”?"
    )
    assert asked_back(planning, "why was revenue computed") == "Did you mean “Daily revenue”?"


def test_a_kind_word_settles_a_name_shared_by_two_kinds(planning, named):
    Workflow.objects.create(organization=named, name="Open orders")
    assert asked_back(planning, "explain open orders") == (
        "Did you mean metric “Open orders” or workflow “Open orders”?"
    )
    assert target_of(planning, "explain the open orders workflow") == ("workflow", "Open orders")
    assert target_of(planning, "why was open orders computed") == ("metric", "Open orders")


@pytest.mark.parametrize("question", ["why did the orders drop", "why did spike happen", "why did ops run"])
def test_one_common_word_never_picks_a_name(planning, question):
    assert asked_back(planning, question).startswith("Did you mean ")


def test_two_words_of_a_name_pick_it(planning):
    assert target_of(planning, "why did the piling orders fire") == ("alert", "Orders piling up")


def test_an_unknown_name_gets_no_far_fetched_suggestion(planning):
    assert asked_back(planning, "why did xyzzy frobnicate run") == "I don't know “xyzzy frobnicate” here."
    assert asked_back(planning, "why did pge opz run") == "Did you mean “Page ops”?"


def test_a_number_in_a_name_is_never_guessed(planning, named):
    Metric.objects.create(organization=named, name="Backlog 510", sql="SELECT 1")
    assert target_of(planning, "run backlog 17 now") is None
    assert target_of(planning, "run backlog 510 now") == ("metric", "Backlog 510")
    assert target_of(planning, "run backlgo 510 now") == ("metric", "Backlog 510")  # a typo is fine


def test_a_long_list_of_candidates_is_cut_short(planning, named):
    for name in ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta"):
        Metric.objects.create(organization=named, name=f"Queue {name}", sql="SELECT 1")
    assert asked_back(planning, "why did queue run") == (
        "Did you mean “Queue alpha”, “Queue beta”, “Queue delta”, “Queue epsilon” or one of 3 "
        "others? Name it in full."
    )


def test_running_something_only_finds_what_can_run(planning):
    assert target_of(planning, "run page ops") == ("workflow", "Page ops")
    assert target_of(planning, "run revenue spike") is None  # an alert does not run on its own


def test_a_disabled_definition_is_still_found_by_its_name(planning):
    assert target_of(planning, "why didn't revenue drop fire") == ("alert", "Revenue drop")
    AlertRule.objects.filter(name="Revenue drop").delete()
    assert target_of(planning, "why didn't revenue drop fire") is None
