"""The organization admin, and who may use the admin at all."""
from __future__ import annotations

from django.urls import reverse

from tests.factories import traced_db

pytestmark = traced_db


def test_organization_admin_edits_memberships_inline(admin_client, org, member):
    page = admin_client.get(reverse("admin:tenancy_organization_change", args=[org.pk]))
    assert page.status_code == 200
    assert 'name="memberships-0-role"' in page.content.decode()
    listing = admin_client.get(reverse("admin:tenancy_organization_changelist"))
    assert listing.status_code == 200
    assert [o.member_total for o in listing.context["cl"].result_list] == [2]


def test_admin_is_for_staff_only(client, member):
    client.force_login(member)
    response = client.get(reverse("admin:observability_executiontrace_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
