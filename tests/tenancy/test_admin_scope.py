"""A staff user who is not a superuser sees and changes in admin only the
organizations they belong to; list filters never answer 500."""
from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import reverse

from lineage.metrics.models import Metric, MetricValue
from lineage.observability.models import ExecutionTrace
from lineage.tenancy.admin import OrganizationScopedAdmin
from lineage.tenancy.models import Membership
from lineage.workflows.models import Workflow
from tests.factories import make_chain, make_org, make_trace, make_user, traced_db

pytestmark = traced_db


@pytest.fixture
def acme_staff(org):
    """Staff of acme with every permission, but not a superuser."""
    user = make_user("acme-staff", org, role="owner", is_staff=True)
    user.user_permissions.set(Permission.objects.all())
    return user


@pytest.fixture
def two_orgs(org, other_org):
    for organization, name in ((org, "Acme run"), (other_org, "Globex run")):
        make_chain(organization)
        make_trace(organization, name, status="failed", error="ValueError: boom")
    MetricValue.objects.create(metric=Metric.objects.get(organization=org), value=1)
    MetricValue.objects.create(metric=Metric.objects.get(organization=other_org), value=2)
    make_user("globex-member", other_org)
    return org, other_org


CHANGELISTS = [
    "tenancy_organization",
    "metrics_metric",
    "metrics_metricvalue",
    "alerts_alertrule",
    "workflows_workflow",
    "observability_executiontrace",
    "auth_user",
]


def test_each_changelist_shows_only_the_staff_users_organizations(client, acme_staff, two_orgs):
    client.force_login(acme_staff)
    for changelist in CHANGELISTS:
        response = client.get(reverse(f"admin:{changelist}_changelist"))
        assert response.status_code == 200, changelist
        html = response.content.decode()
        assert "Globex" not in html and "globex-member" not in html, changelist
        assert len(response.context["cl"].result_list) >= 1, changelist


def test_a_superuser_sees_every_organization(admin_client, two_orgs):
    response = admin_client.get(reverse("admin:observability_executiontrace_changelist"))
    assert {t.org.slug for t in response.context["cl"].result_list} == {"acme", "globex"}


def test_another_organizations_object_cannot_be_opened_or_changed(client, acme_staff, two_orgs):
    _, globex = two_orgs
    client.force_login(acme_staff)
    theirs = [
        ("metrics_metric", Metric.objects.get(organization=globex).pk),
        ("workflows_workflow", Workflow.objects.get(organization=globex).pk),
        ("tenancy_organization", globex.pk),
        ("observability_executiontrace", ExecutionTrace.objects.filter(org=globex).first().pk),
    ]
    for model, pk in theirs:
        response = client.get(reverse(f"admin:{model}_change", args=[pk]))
        assert response.status_code == 302 and response["Location"] == reverse("admin:index")
    client.post(
        reverse("admin:metrics_metric_change", args=[theirs[0][1]]),
        {"organization": globex.pk, "name": "Hijacked", "kind": "sql", "sql": "SELECT 1"},
    )
    assert not Metric.objects.filter(name="Hijacked").exists()


def test_choices_search_actions_and_autocomplete_stay_in_scope(client, acme_staff, two_orgs):
    acme, globex = two_orgs
    client.force_login(acme_staff)

    form = client.get(reverse("admin:alerts_alertrule_add")).context["adminform"].form
    assert list(form.fields["organization"].queryset) == [acme]
    assert {m.organization for m in form.fields["metric"].queryset} == {acme}
    assert {w.organization for w in form.fields["workflows"].queryset} == {acme}

    traces = reverse("admin:observability_executiontrace_changelist")
    found = client.get(traces, {"q": "run"}).context["cl"].result_list
    assert [t.name for t in found] == ["Acme run"]
    Membership.objects.create(user=acme_staff, organization=make_org("initech"), role="owner")
    filters = client.get(traces).context["cl"].filter_specs
    org_filter = next(f for f in filters if getattr(f, "field_path", "") == "org")
    assert [name for _, name in org_filter.lookup_choices] == ["Acme", "Initech"]

    failed = ExecutionTrace.objects.get(name="Globex run")
    client.post(traces, {"action": "rerun_failed", "_selected_action": [str(failed.pk)]})
    assert not ExecutionTrace.objects.filter(source="manual").exists()

    autocomplete = client.get(
        reverse("admin:autocomplete"),
        {"term": "", "app_label": "tenancy", "model_name": "membership", "field_name": "user"},
    )
    assert [r["text"] for r in autocomplete.json()["results"]] == ["acme-staff"]


def test_staff_cannot_raise_their_own_privileges(client, acme_staff):
    client.force_login(acme_staff)
    page = client.get(reverse("admin:auth_user_change", args=[acme_staff.pk]))
    assert 'name="is_superuser"' not in page.content.decode()
    assert client.get(reverse("admin:auth_group_changelist")).status_code == 403
    assert client.get(reverse("admin:axes_accessattempt_changelist")).status_code == 403
    assert client.get(reverse("admin:tenancy_organization_add")).status_code == 403


def test_every_admin_is_scoped_or_for_superusers_only(rf, acme_staff):
    request = rf.get("/admin/")
    request.user = acme_staff
    for model, model_admin in admin.site._registry.items():
        scoped = isinstance(model_admin, OrganizationScopedAdmin) or model._meta.model_name == "user"
        assert scoped or not model_admin.has_module_permission(request), model
