"""The Ask page and the "Why did this run?" box on trace pages: questions
go to the assistant, answers come back as a conversation."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from lineage.assistant.answers import EXAMPLES, Answer, answer_question
from lineage.assistant.intents import Intent
from lineage.assistant.planner import MAX_QUESTION_LENGTH, AskContext, QuestionError
from lineage.observability.jsonsafe import clean_text
from lineage.observability.models import ExecutionTrace
from lineage.web.access import get_trace_or_404, member_org_ids, membership_for

SESSION_KEY = "assistant_conversation"
KEEP_EXCHANGES = 20


def context_for(request: HttpRequest, trace: ExecutionTrace | None = None) -> AskContext:
    """Who asks about what. On a trace page the trace's organization is the
    one asked about (names, and the role that may run a metric)."""
    membership = request.membership
    if trace is not None:
        membership = membership_for(request, trace.org_id)
    return AskContext(
        organization=membership.organization if membership else None,
        org_ids=member_org_ids(request),
        user=request.user,
        can_run=bool(membership and membership.can_run),
        trace_id=trace.id if trace else None,
    )


def _exchange(question: str, request: HttpRequest, trace: ExecutionTrace | None = None) -> dict:
    """Answer one question as a dict that can live in the session."""
    context = context_for(request, trace)
    if context.organization is None:
        answer = Answer(Intent.INVALID).say("You do not belong to an organization yet.")
    else:
        answer = _answer(question, context)
    return {
        "question": clean_text(question[:MAX_QUESTION_LENGTH]),
        "intent": answer.intent,
        "lines": [
            {"text": line.text, "trace_id": str(line.trace_id) if line.trace_id else "", "label": line.label}
            for line in answer.lines
        ],
    }


def _answer(question: str, context: AskContext) -> Answer:
    try:
        return answer_question(question, context)
    except QuestionError as error:
        return Answer(Intent.INVALID).say(str(error))


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def ask(request: HttpRequest) -> HttpResponse:
    conversation = request.session.get(SESSION_KEY, [])
    if request.method == "POST":
        if "clear" in request.POST:
            request.session[SESSION_KEY] = []
            return redirect("web:ask")
        exchange = _exchange(request.POST.get("question", ""), request)
        request.session[SESSION_KEY] = [*conversation, exchange][-KEEP_EXCHANGES:]
        if request.htmx:
            return render(request, "web/ask.html#exchange", {"exchange": exchange})
        return redirect("web:ask")
    context = {"conversation": conversation, "examples": EXAMPLES, "max_length": MAX_QUESTION_LENGTH}
    return render(request, "web/ask.html", context)


@require_POST
@vary_on_headers("HX-Request")
def trace_question(request: HttpRequest, trace_id) -> HttpResponse:
    trace = get_trace_or_404(request, trace_id)
    question = request.POST.get("question") or "Why did this run?"
    exchange = _exchange(question, request, trace)
    if request.htmx:
        return render(request, "web/ask.html#exchange", {"exchange": exchange})
    conversation = request.session.get(SESSION_KEY, [])
    request.session[SESSION_KEY] = [*conversation, exchange][-KEEP_EXCHANGES:]
    return redirect("web:ask")
