"""The Ask page and the trace page's question box, over HTTP."""
from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from lineage.assistant.views import KEEP_EXCHANGES
from lineage.observability.models import ExecutionTrace
from tests.factories import make_user, traced_db

pytestmark = traced_db

ASK = reverse("assistant:ask")


@pytest.fixture
def page_ops(demo):
    call_command("run_scheduler", stdout=StringIO())
    return ExecutionTrace.objects.get(name="Page ops")


@pytest.fixture
def demo_client(demo_user):
    client = Client()
    client.force_login(demo_user)
    return client


def test_signed_out_people_are_sent_to_sign_in(db, client):
    response = client.get(ASK)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_asking_keeps_the_conversation_in_the_session(demo_client, page_ops):
    response = demo_client.post(ASK, {"question": "what failed today?"}, follow=True)
    page = response.content.decode()
    assert "what failed today?" in page
    assert "Workflow “Page ops” failed at step 1" in page
    assert reverse("web:trace-detail", args=[page_ops.id]) in page
    assert "Try:" in page and "Run Daily revenue now" in page

    demo_client.post(ASK, {"question": "help"})
    assert demo_client.get(ASK).content.decode().count('class="exchange"') == 2
    demo_client.post(ASK, {"clear": "1"})
    assert 'class="exchange"' not in demo_client.get(ASK).content.decode()


def test_htmx_gets_only_the_new_exchange(demo_client, page_ops):
    response = demo_client.post(ASK, {"question": "what failed today"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<article class="exchange">')
    assert "<html" not in body and "Page ops" in body


def test_the_conversation_is_capped(demo_client, demo):
    for _ in range(KEEP_EXCHANGES + 3):
        demo_client.post(ASK, {"question": "help"}, HTTP_HX_REQUEST="true")
    assert len(demo_client.session["assistant_conversation"]) == KEEP_EXCHANGES


@pytest.mark.parametrize("question", ["", "    ", "x" * 600])
def test_bad_questions_get_a_clear_message(demo_client, demo, question):
    response = demo_client.post(ASK, {"question": question}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Ask a question" in response.content.decode() or "keep it under 500" in response.content.decode()


def test_why_did_this_run_on_a_trace_page(demo_client, page_ops):
    detail = demo_client.get(reverse("web:trace-detail", args=[page_ops.id])).content.decode()
    url = reverse("assistant:trace-question", args=[page_ops.id])
    assert url in detail and "Why did this run?" in detail

    response = demo_client.post(url, {"question": "Why did this run?"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "Workflow “Page ops” ran because alert “Orders piling up” fired" in body
    assert "failed at step 1 “Page the ops channel”" in body


def test_another_organizations_trace_is_a_404(page_ops, db):
    outsider = make_user("outsider")
    from lineage.tenancy.models import Membership
    from tests.factories import make_org

    Membership.objects.create(user=outsider, organization=make_org("globex"), role="editor")
    client = Client()
    client.force_login(outsider)
    url = reverse("assistant:trace-question", args=[page_ops.id])
    assert client.post(url, {"question": "why"}).status_code == 404
    answer = client.post(ASK, {"question": f"why did trace {page_ops.id} run"}, HTTP_HX_REQUEST="true")
    assert "Page ops" not in answer.content.decode()


def test_posts_need_the_csrf_token(demo_user, page_ops):
    client = Client(enforce_csrf_checks=True)
    client.force_login(demo_user)
    before = ExecutionTrace.objects.count()
    assert client.post(ASK, {"question": "run daily revenue now"}).status_code == 403
    assert ExecutionTrace.objects.count() == before


def test_a_viewer_cannot_run_a_metric_from_chat(demo, page_ops):
    from lineage.tenancy.models import Membership

    viewer = make_user("viewer")
    Membership.objects.create(user=viewer, organization=demo, role="viewer")
    client = Client()
    client.force_login(viewer)
    before = ExecutionTrace.objects.count()
    body = client.post(ASK, {"question": "run daily revenue now"}, HTTP_HX_REQUEST="true").content.decode()
    assert "needs the editor role" in body
    assert ExecutionTrace.objects.count() == before
