"""The Ask page and the "Why did this run?" box on trace pages: questions
go to the assistant, answers come back as a conversation.

A question is a link: `/ask/?q=why+did+page+ops+fail` lands on its answer.
Asking never runs anything by itself; an answer that would run a metric
offers a button, and only that button's POST starts the run.
"""
from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import push_url

from lineage.assistant.answers import EXAMPLES, Answer, answer_confirmed_run, answer_question
from lineage.assistant.intents import Intent
from lineage.assistant.planner import MAX_QUESTION_LENGTH, AskContext, QuestionError
from lineage.observability.jsonsafe import clean_text
from lineage.observability.models import ExecutionTrace
from lineage.observability.subjects import Subject
from lineage.web.access import get_trace_or_404, member_org_ids, membership_for

SESSION_KEY = "assistant_conversation"
KEEP_EXCHANGES = 20


def context_for(
    request: HttpRequest, trace: ExecutionTrace | None = None, org_id: int | None = None
) -> AskContext:
    """Who asks about what. On a trace page the trace's organization is the
    one asked about (names, and the role that may run a metric); a confirmed
    run is asked about its metric's organization."""
    membership = request.membership
    if trace is not None or org_id is not None:
        membership = membership_for(request, trace.org_id if trace else org_id)
    return AskContext(
        organization=membership.organization if membership else None,
        org_ids=member_org_ids(request),
        user=request.user,
        can_run=bool(membership and membership.can_run),
        trace_id=trace.id if trace else None,
    )


def _as_exchange(question: str, answer: Answer) -> dict:
    """A question and its answer as a dict that can live in the session."""
    exchange = {
        "question": clean_text(question[:MAX_QUESTION_LENGTH]),
        "intent": answer.intent,
        "lines": [
            {"text": line.text, "trace_id": str(line.trace_id) if line.trace_id else "", "label": line.label}
            for line in answer.lines
        ],
    }
    if answer.proposal is not None:
        exchange["proposal"] = answer.proposal.as_dict()
    return exchange


def _exchange(question: str, request: HttpRequest, trace: ExecutionTrace | None = None) -> dict:
    context = context_for(request, trace)
    if context.organization is None:
        answer = Answer(Intent.INVALID).say("You do not belong to an organization yet.")
    else:
        try:
            answer = answer_question(question, context)
        except QuestionError as error:
            answer = Answer(Intent.INVALID).say(str(error))
    return _as_exchange(question, answer)


def _remember(request: HttpRequest, exchange: dict) -> None:
    conversation = request.session.get(SESSION_KEY, [])
    request.session[SESSION_KEY] = [*conversation, exchange][-KEEP_EXCHANGES:]


def _question_url(question: str) -> str:
    return f"{reverse('web:ask')}?{urlencode({'q': question})}"


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def ask(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _ask_posted(request)
    question = request.GET.get("q", "").strip()
    conversation = request.session.get(SESSION_KEY, [])
    already_answered = conversation and conversation[-1]["question"] == clean_text(question)
    if question and not already_answered:  # a shared link, a bookmark, a typed URL
        _remember(request, _exchange(question, request))
    context = {
        "conversation": request.session.get(SESSION_KEY, []),
        "examples": EXAMPLES,
        "max_length": MAX_QUESTION_LENGTH,
    }
    return render(request, "web/ask.html", context)


def _ask_posted(request: HttpRequest) -> HttpResponse:
    if "clear" in request.POST:
        request.session[SESSION_KEY] = []
        return redirect("web:ask")
    question = request.POST.get("question", "")
    exchange = _exchange(question, request)
    _remember(request, exchange)
    # The address holds the question, so the answer can be shared.
    address = _question_url(exchange["question"]) if exchange["intent"] != Intent.INVALID else ""
    if request.htmx:
        response = render(request, "web/ask.html#exchange", {"exchange": exchange})
        return push_url(response, address) if address else response
    return redirect(address or reverse("web:ask"))


@require_POST
@vary_on_headers("HX-Request")
def confirm_run(request: HttpRequest) -> HttpResponse:
    """The button under an answer that offered a run: start exactly that run
    (or re-run exactly that failed trace), in the organization of the
    metric or workflow it names (if the user is a member)."""
    subject = request.POST.get("subject", "")
    parsed = Subject.parse(subject)
    definition = parsed.definition() if parsed is not None else None
    context = context_for(request, org_id=definition.organization_id) if definition else None
    if context is None or context.organization is None:
        answer = Answer(Intent.RUN).say("There is no such metric or workflow in your organizations.")
    else:
        answer = answer_confirmed_run(subject, context, request.POST.get("rerun_of", ""))
    exchange = _as_exchange(request.POST.get("label", "Run it now"), answer)
    _remember(request, exchange)
    if request.htmx:
        return render(request, "web/ask.html#exchange", {"exchange": exchange})
    return redirect("web:ask")


@require_POST
@vary_on_headers("HX-Request")
def trace_question(request: HttpRequest, trace_id) -> HttpResponse:
    trace = get_trace_or_404(request, trace_id)
    question = request.POST.get("question") or "Why did this run?"
    exchange = _exchange(question, request, trace)
    if request.htmx:
        return render(request, "web/ask.html#exchange", {"exchange": exchange})
    _remember(request, exchange)
    return redirect("web:ask")
