"""The Ask page and the trace page's question box, over HTTP."""
from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from lineage.metrics.models import Metric
from lineage.observability.models import ExecutionTrace
from lineage.tenancy.models import Membership
from lineage.web.ask_views import KEEP_EXCHANGES
from lineage.workflows.models import Workflow
from tests.factories import make_metric, make_org, make_user, traced_db

pytestmark = traced_db

ASK = reverse("web:ask")
RUN = reverse("web:ask-run")


@pytest.fixture
def page_ops(demo):
    call_command("run_scheduler", stdout=StringIO())
    return ExecutionTrace.objects.get(name="Page ops")


def signed_in(user, **options) -> Client:
    client = Client(**options)
    client.force_login(user)
    return client


@pytest.fixture
def demo_client(demo_user):
    return signed_in(demo_user)


def ask(client: Client, question: str, url: str = ASK) -> str:
    return client.post(url, {"question": question}, HTTP_HX_REQUEST="true").content.decode()


def test_signed_out_people_are_sent_to_sign_in(db, client, page_ops):
    for url in (ASK, reverse("web:trace-question", args=[page_ops.id])):
        response = client.post(url, {"question": "what failed today?"})
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.get(ASK).status_code == 302


def test_the_ask_page_shows_examples_to_click(demo_client, demo):
    page = demo_client.get(ASK).content.decode()
    assert "<h1>Ask</h1>" in page
    assert 'value="Why didn&#x27;t Notify on-call run this morning?"' in page
    assert 'value="What would fire now?"' in page
    assert 'maxlength="500"' in page


def test_asking_keeps_the_conversation_in_the_session(demo_client, page_ops):
    response = demo_client.post(ASK, {"question": "what failed today?"}, follow=True)
    assert response.redirect_chain == [(ASK + "?q=what+failed+today%3F", 302)]
    page = response.content.decode()
    assert "what failed today?" in page
    assert "Workflow “Page ops” failed at step 1" in page
    assert reverse("web:trace-detail", args=[page_ops.id]) in page

    demo_client.post(ASK, {"question": "help"}, follow=True)  # the page after asking
    assert demo_client.get(ASK).content.decode().count('class="exchange"') == 2
    demo_client.post(ASK, {"clear": "1"})
    assert 'class="exchange"' not in demo_client.get(ASK).content.decode()


def test_htmx_gets_only_the_new_exchange(demo_client, page_ops):
    response = demo_client.post(ASK, {"question": "what failed today"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<article class="exchange">')
    assert "<html" not in body and "Page ops" in body
    assert "HX-Request" in response["Vary"]
    assert response["HX-Push-Url"] == ASK + "?q=what+failed+today"  # shareable


def test_a_question_in_the_address_is_answered(client, demo_user, page_ops):
    """A link pasted in a chat (a new session) lands on the answer."""
    client.force_login(demo_user)
    page = client.get(ASK, {"q": "why did page ops fail"}).content.decode()

    assert "why did page ops fail" in page
    assert "Workflow “Page ops” failed at step 1" in page
    # Reloading the link does not ask twice.
    assert client.get(ASK, {"q": "why did page ops fail"}).content.decode().count(
        'class="exchange"'
    ) == 1


def test_a_question_in_the_address_never_runs_anything(demo_client, demo):
    before = ExecutionTrace.objects.count()

    page = demo_client.get(ASK, {"q": "run daily revenue now"}).content.decode()

    assert ExecutionTrace.objects.count() == before
    assert "Run metric “Daily revenue” now?" in page
    assert 'action="/ask/run/"' in page and ">Run Daily revenue now</button>" in page


def test_the_conversation_is_capped(demo_client, demo):
    for _ in range(KEEP_EXCHANGES + 3):
        demo_client.post(ASK, {"question": "help"}, HTTP_HX_REQUEST="true")
    assert len(demo_client.session["assistant_conversation"]) == KEEP_EXCHANGES


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("", "Ask a question"),
        ("    ", "Ask a question"),
        ("x" * 600, "That question is 600 characters long; keep it under 500."),
    ],
)
def test_bad_questions_get_a_clear_message(demo_client, demo, question, message):
    response = demo_client.post(ASK, {"question": question}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert message in response.content.decode()


def test_a_nul_character_in_a_question_is_answered_not_echoed(demo_client, demo):
    body = ask(demo_client, "why did \x00 page ops run")
    assert "\x00" not in body and "why did \ufffd page ops run" in body
    assert "Workflow “Page ops” did not run." in body  # the question is still understood


def test_questions_and_names_are_escaped(demo_client, demo):
    make_metric(demo, name="<b>Bold</b> revenue", sql="SELECT 1")
    body = ask(demo_client, "why did <script>alert(1)</script> bold revenue run")
    assert "<script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<b>Bold</b>" not in body and "&lt;b&gt;Bold&lt;/b&gt; revenue" in body


def test_why_did_this_run_on_a_trace_page(demo_client, page_ops):
    detail = demo_client.get(reverse("web:trace-detail", args=[page_ops.id])).content.decode()
    url = reverse("web:trace-question", args=[page_ops.id])
    assert url in detail and "Why did this run?" in detail

    body = ask(demo_client, "Why did this run?", url)

    assert "Workflow “Page ops” failed at step 1 “Page the ops channel”" in body
    assert "It ran because alert “Orders piling up” fired" in body
    cited = set(re.findall(r'href="/traces/([0-9a-f-]{36})/"', body))
    assert str(page_ops.id) in cited and len(cited) == 2  # the workflow and the alert


def test_without_javascript_the_answer_is_on_the_ask_page(demo_client, page_ops):
    url = reverse("web:trace-question", args=[page_ops.id])
    response = demo_client.post(url, {"question": "Why did this run?"}, follow=True)
    assert response.redirect_chain == [(ASK, 302)]
    assert "It ran because alert “Orders piling up” fired" in response.content.decode()


def test_another_organizations_trace_is_a_404(page_ops, outsider):
    client = signed_in(outsider)
    url = reverse("web:trace-question", args=[page_ops.id])
    assert client.post(url, {"question": "why"}).status_code == 404
    assert client.post("/ask/trace/not-a-uuid/", {"question": "why"}).status_code == 404
    assert "Page ops" not in ask(client, f"why did trace {page_ops.id} run")
    assert "Page ops" not in ask(client, "why did page ops run")


def test_posts_need_the_csrf_token(demo_user, page_ops):
    client = signed_in(demo_user, enforce_csrf_checks=True)
    before = ExecutionTrace.objects.count()
    assert client.post(ASK, {"question": "run daily revenue now"}).status_code == 403
    url = reverse("web:trace-question", args=[page_ops.id])
    assert client.post(url, {"question": "Why did this run?"}).status_code == 403
    assert ExecutionTrace.objects.count() == before

    subject = Metric.objects.get(name="Daily revenue").subject
    assert client.post(RUN, {"subject": subject}).status_code == 403
    assert ExecutionTrace.objects.count() == before

    client.get(ASK)  # the page sets the token, as a browser gets it
    token = client.cookies["csrftoken"].value
    response = client.post(RUN, {"subject": subject, "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert ExecutionTrace.objects.filter(source="chat", name="Daily revenue").count() == 1


def test_a_viewer_cannot_run_a_metric_from_chat(demo, page_ops):
    viewer = make_user("viewer", demo, role="viewer")
    before = ExecutionTrace.objects.count()
    assert "needs the editor role" in ask(signed_in(viewer), "run daily revenue now")
    assert ExecutionTrace.objects.count() == before


def confirm(client: Client, asked: str) -> str:
    """Press the button the answer offered."""
    subject = re.search(r'name="subject" value="([^"]+)"', asked)[1]
    return client.post(RUN, {"subject": subject}, HTTP_HX_REQUEST="true").content.decode()


def test_an_editor_runs_a_metric_from_chat_after_confirming(demo_client, demo):
    asked = ask(demo_client, "run daily revenue now")
    assert not ExecutionTrace.objects.filter(source="chat").exists()
    assert "Run metric “Daily revenue” now?" in asked

    body = confirm(demo_client, asked)

    trace = ExecutionTrace.objects.get(name="Daily revenue", source="chat")
    assert "I ran metric “Daily revenue”: it computed 12,840." in body
    assert trace.inputs["started_by"] == "demo"
    assert reverse("web:trace-detail", args=[trace.id]) in body


def test_on_a_trace_page_the_traces_organization_is_asked_about(demo, page_ops):
    """Viewer in acme, editor in globex: names and the right to run follow
    the trace being viewed, not the organization picked in the switcher."""
    globex = make_org("globex", "Globex")
    make_metric(globex, name="Secret sales", sql="SELECT 5")
    user = make_user("both", demo, role="viewer")
    Membership.objects.create(user=user, organization=globex, role="editor")
    client = signed_in(user)
    call_command("run_metric", "Secret sales", "--org", "globex", stdout=StringIO())
    globex_trace = ExecutionTrace.objects.get(name="Secret sales")

    in_globex = reverse("web:trace-question", args=[globex_trace.id])
    assert "I ran metric “Secret sales”: it computed 5." in confirm(client, ask(client, "run this again", in_globex))
    in_acme = reverse("web:trace-question", args=[page_ops.id])
    assert "needs the editor role" in ask(client, "run daily revenue now", in_acme)
    assert ExecutionTrace.objects.filter(source="chat").count() == 1


def test_a_confirmed_run_of_another_organizations_metric_runs_nothing(page_ops, outsider, demo):
    client = signed_in(outsider)
    subject = Metric.objects.get(organization=demo, name="Daily revenue").subject

    body = client.post(RUN, {"subject": subject}, HTTP_HX_REQUEST="true").content.decode()

    assert "There is no such metric or workflow in your organizations." in body
    assert not ExecutionTrace.objects.filter(source="chat").exists()
    for junk in ("", "metric:abc", "workflow:1", "metric:99999"):
        assert client.post(RUN, {"subject": junk}).status_code == 302
    assert not ExecutionTrace.objects.filter(source="chat").exists()


def test_an_editor_reruns_a_failed_workflow_from_chat_after_confirming(demo_client, page_ops):
    asked = ask(demo_client, "rerun page ops")
    assert f'name="rerun_of" value="{page_ops.id}"' in asked
    assert ">Re-run the " in asked

    proposal = dict(re.findall(r'name="(subject|rerun_of|label)" value="([^"]+)"', asked))
    body = demo_client.post(RUN, proposal, HTTP_HX_REQUEST="true").content.decode()

    rerun = ExecutionTrace.objects.filter(name="Page ops", trace_type="workflow").exclude(pk=page_ops.pk).get()
    assert (rerun.source, rerun.dependencies, rerun.inputs["started_by"]) == ("chat", [page_ops.id], "demo")
    assert reverse("web:trace-detail", args=[rerun.id]) in body


def test_a_forged_rerun_of_another_organizations_trace_runs_nothing(demo, page_ops, outsider, other_org):
    theirs = Workflow.objects.create(organization=other_org, name="Theirs")
    client = signed_in(outsider)
    before = ExecutionTrace.objects.count()
    body = client.post(RUN, {"subject": theirs.subject, "rerun_of": str(page_ops.id)}, HTTP_HX_REQUEST="true")
    assert "That failed run is not one of this organization&#x27;s any more." in body.content.decode()
    assert ExecutionTrace.objects.count() == before
