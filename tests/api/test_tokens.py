"""API tokens on the dashboard: an owner creates one (its secret shown once,
only its SHA-256 kept) and revokes it; other members only see the list."""
from __future__ import annotations

import hashlib
import re

import pytest
from django.test import Client
from django.urls import reverse

from lineage.api.models import ApiToken
from tests.api.conftest import bearer
from tests.factories import make_user

pytestmark = pytest.mark.django_db

PAGE = reverse("api:tokens")
SECRET = re.compile(r"<pre class=\"secret\" data-token>(lin_[\w-]+)</pre>")


@pytest.fixture
def owner(org):
    return make_user("olga", org, role="owner")


def create(client, name: str = "Grafana"):
    return client.post(reverse("api:token-create"), {"name": name})


def test_an_owner_creates_a_token_shown_once_and_stored_hashed(client, owner):
    client.force_login(owner)

    created = create(client)
    secret = SECRET.search(created.text).group(1)

    token = ApiToken.objects.get()
    assert created.status_code == 201 and "it is not shown again" in created.text
    assert (token.name, token.organization, token.created_by) == ("Grafana", owner.memberships.get().organization, owner)
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert token.prefix == secret[:12] and len(secret) > 40
    assert secret not in str(ApiToken.objects.values().get())
    listed = client.get(PAGE).text
    assert secret not in listed and f"{token.prefix}…" in listed
    assert client.get("/api/v1/traces", **bearer(secret)).status_code == 200


def test_a_revoked_token_opens_nothing(client, owner):
    client.force_login(owner)
    secret = SECRET.search(create(client).text).group(1)
    token = ApiToken.objects.get()
    assert client.get("/api/v1/failures", **bearer(secret)).status_code == 200

    response = client.post(reverse("api:token-revoke", args=[token.pk]), follow=True)

    assert "is revoked" in response.text
    assert client.get("/api/v1/failures", **bearer(secret)).status_code == 401
    token.refresh_from_db()
    assert token.revoked_at is not None and token.last_used_at is not None


def test_other_members_see_the_tokens_but_cannot_create_or_revoke(client, org, viewer, member):
    token, _ = ApiToken.issue(org, "Grafana")
    for person in (viewer, member):
        client.force_login(person)
        page = client.get(PAGE)
        assert page.status_code == 200 and "Grafana" in page.text
        assert "Create token" not in page.text and "Revoke" not in page.text
        assert create(client).status_code == 403
        assert client.post(reverse("api:token-revoke", args=[token.pk])).status_code == 403
    assert ApiToken.objects.active().count() == 1


def test_an_owner_of_another_organization_cannot_revoke_ours(client, org, other_org):
    token, _ = ApiToken.issue(org, "Grafana")
    client.force_login(make_user("boss", other_org, role="owner"))

    assert "Grafana" not in client.get(PAGE).text
    assert client.post(reverse("api:token-revoke", args=[token.pk])).status_code == 404
    assert ApiToken.objects.active().count() == 1


def test_creating_needs_a_name_and_the_csrf_token(owner):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)

    assert create(browser).status_code == 403
    page = browser.get(PAGE)
    csrf = browser.cookies["csrftoken"].value
    nameless = browser.post(reverse("api:token-create"), {"name": "  ", "csrfmiddlewaretoken": csrf})

    assert nameless.status_code == 400 and "Give the token a name" in nameless.text
    assert page.status_code == 200 and not ApiToken.objects.exists()


def test_signed_out_visitors_are_sent_to_sign_in(client):
    assert client.get(PAGE)["Location"].startswith(reverse("login"))
