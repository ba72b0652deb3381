"""Every page: a member sees it, another organization's member gets a 404
(or does not see the row), and a signed-out visitor is sent to sign in."""
from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import make_trace, make_user, traced_db

pytestmark = traced_db

LIST_PAGES = ["web:trace-list", "web:failures", "web:metric-list", "web:alert-list", "web:workflow-list"]
# Pages every signed-in person reaches from the navigation, member or not yet.
NAVIGATION = [*LIST_PAGES, "web:ask", "api:tokens"]


def detail_urls(chain) -> list[str]:
    return [
        reverse("web:trace-detail", args=[chain.traces["workflow"].id]),
        reverse("web:metric-detail", args=[chain.metric.pk]),
        reverse("web:alert-detail", args=[chain.alert.pk]),
        reverse("web:workflow-detail", args=[chain.workflow.pk]),
    ]


@pytest.mark.parametrize("name", LIST_PAGES)
def test_member_sees_list_page_with_their_organization(member_client, failing_chain, name):
    response = member_client.get(reverse(name))
    assert response.status_code == 200
    assert "Acme" in response.text
    # Every list names something of the chain: a trace, a failure or a definition.
    assert any(
        text in response.text for text in ("Open orders", "Orders piling up", "Page ops")
    )


def test_member_sees_every_detail_page(member_client, failing_chain):
    for url in detail_urls(failing_chain):
        response = member_client.get(url)
        assert response.status_code == 200, url


def test_trace_list_is_also_at_traces(member_client, failing_chain):
    response = member_client.get("/traces/")
    assert response.status_code == 200
    assert "Page ops" in response.text


def test_outsider_gets_404_for_every_detail_page(client, outsider, failing_chain):
    client.force_login(outsider)
    for url in detail_urls(failing_chain):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("name", LIST_PAGES)
def test_outsider_does_not_see_other_organizations_rows(client, outsider, failing_chain, name):
    client.force_login(outsider)
    response = client.get(reverse(name))
    assert response.status_code == 200
    for text in ("Open orders", "Orders piling up", "Page ops"):
        assert text not in response.text


@pytest.mark.parametrize("name", NAVIGATION)
def test_someone_in_no_organization_gets_every_list_page_and_a_note(client, failing_chain, name):
    client.force_login(make_user("newcomer"))
    response = client.get(reverse(name))
    assert response.status_code == 200
    page = response.content.decode()
    assert "You do not belong to any organization yet" in page
    if name in LIST_PAGES:
        assert "Open orders" not in page and "Page ops" not in page


@pytest.mark.parametrize("name", LIST_PAGES)
def test_signed_out_visitor_is_sent_to_sign_in(client, failing_chain, name):
    url = reverse(name)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_signed_out_visitor_is_sent_to_sign_in_from_detail_pages(client, failing_chain):
    for url in detail_urls(failing_chain):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_malformed_trace_id_is_a_404(member_client):
    assert member_client.get("/traces/not-a-uuid/").status_code == 404
    assert member_client.get("/metrics/abc/").status_code == 404


def test_unknown_trace_id_is_a_404(member_client):
    assert member_client.get("/traces/01a223ad-0000-7000-8000-000000000000/").status_code == 404


def test_member_of_two_organizations_sees_a_trace_of_either(client, org, other_org):
    both = make_user("both", org)
    other_org.memberships.create(user=both, role="viewer")
    theirs = make_trace(other_org, "Globex revenue")
    client.force_login(both)
    assert client.get(reverse("web:trace-detail", args=[theirs.id])).status_code == 200
