"""Sign in, sign out, the navigation and the organization switcher."""
from __future__ import annotations

from django.test import Client
from django.urls import reverse

from tests.factories import make_trace, make_user, traced_db

pytestmark = traced_db


def test_sign_in_page_shows_a_form(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert 'name="username"' in response.text
    assert 'name="password"' in response.text
    assert "csrfmiddlewaretoken" in response.text


def test_signing_in_lands_on_the_trace_list(client, member):
    response = client.post(reverse("login"), {"username": "member", "password": "pw"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("web:trace-list")
    assert "Sign out" in response.text
    assert ">member<" in response.text


def test_wrong_password_says_so(client, member):
    response = client.post(reverse("login"), {"username": "member", "password": "nope"})
    assert response.status_code == 200
    assert "didn’t match" in response.text


def test_signing_in_returns_to_the_page_asked_for(client, member):
    response = client.post(
        reverse("login"), {"username": "member", "password": "pw", "next": "/failures/"}
    )
    assert response["Location"] == "/failures/"


def test_sign_out_is_a_post_and_ends_the_session(member_client):
    page = member_client.get(reverse("web:trace-list"))
    assert f'action="{reverse("logout")}"' in page.text
    assert member_client.post(reverse("logout")).status_code == 302
    assert member_client.get(reverse("web:trace-list")).status_code == 302


def test_navigation_links_every_section(member_client):
    response = member_client.get(reverse("web:trace-list"))
    for name in (
        "web:trace-list",
        "web:failures",
        "web:metric-list",
        "web:alert-list",
        "web:workflow-list",
        "web:ask",
    ):
        assert f'href="{reverse(name)}"' in response.text


def test_admin_link_only_for_staff(client, member, staff):
    client.force_login(member)
    assert 'href="/admin/"' not in client.get(reverse("web:trace-list")).text
    client.force_login(staff)
    assert 'href="/admin/"' in client.get(reverse("web:trace-list")).text


def test_pages_load_htmx_from_static_and_send_csrf_in_headers(member_client):
    response = member_client.get(reverse("web:trace-list"))
    assert "/static/django_htmx/htmx" in response.text
    assert "hx-headers='{\"X-CSRFToken\"" in response.text
    assert "cdn" not in response.text.lower()


def test_switcher_only_for_members_of_several_organizations(client, member, org, other_org):
    client.force_login(member)
    assert reverse("web:switch-organization") not in client.get("/").text
    other_org.memberships.create(user=member, role="viewer")
    assert reverse("web:switch-organization") in client.get("/").text


def test_switching_organization_changes_what_lists_show(client, member, org, other_org):
    other_org.memberships.create(user=member, role="viewer")
    make_trace(org, "Acme revenue")
    make_trace(other_org, "Globex revenue")
    client.force_login(member)
    before = client.get("/").text
    assert "Acme revenue" in before and "Globex revenue" not in before

    response = client.post(
        reverse("web:switch-organization"), {"organization": "globex", "next": "/failures/"}
    )
    assert response["Location"] == "/failures/"
    after = client.get("/").text
    assert "Globex revenue" in after and "Acme revenue" not in after


def test_switching_to_an_organization_one_is_not_in_is_refused(client, member, other_org):
    make_user("someone", other_org)
    make_trace(other_org, "Globex revenue")
    client.force_login(member)
    response = client.post(
        reverse("web:switch-organization"), {"organization": "globex"}, follow=True
    )
    assert "You are not a member of that organization." in response.text
    assert "Globex revenue" not in response.text


def test_switch_ignores_a_next_url_on_another_site(client, member, other_org):
    other_org.memberships.create(user=member, role="viewer")
    client.force_login(member)
    response = client.post(
        reverse("web:switch-organization"),
        {"organization": "globex", "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("web:trace-list")


def test_switch_needs_csrf(member):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(member)
    response = strict.post(reverse("web:switch-organization"), {"organization": "acme"})
    assert response.status_code == 403


def test_an_unknown_page_is_a_styled_404_with_navigation_and_search(member_client, settings):
    settings.DEBUG = False
    response = member_client.get("/no-such-page/")
    assert response.status_code == 404
    text = response.content.decode()
    assert "Nothing here" in text and 'role="search"' in text
    assert 'aria-label="Main"' in text and "Skip to the content" in text
