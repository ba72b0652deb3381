"""Who may read what: an organization's token reads only that organization
(another's trace or definition is a 404, as on the pages), a browser reads
through its session (POST needs the CSRF token), and nobody else gets in."""
from __future__ import annotations

import json
import uuid

import pytest
from django.test import Client

from lineage.observability.models import ExecutionTrace
from tests.api.conftest import bearer
from tests.factories import make_chain, make_trace, traced_db

pytestmark = traced_db


def endpoints(trace: ExecutionTrace) -> list[str]:
    kind, pk = trace.subject.split(":")
    return [
        f"/api/v1/traces/{trace.id}",
        f"/api/v1/traces/{trace.id}/lineage",
        f"/api/v1/traces/{trace.id}/explanation",
        f"/api/v1/definitions/{kind}/{pk}/runs",
    ]


def test_a_token_reads_its_organization(client, traces, token):
    workflow = traces["workflow:Notify on-call"]

    for url in endpoints(workflow):
        response = client.get(url, **bearer(token))
        assert response.status_code == 200, url
    listed = client.get("/api/v1/traces?limit=100", **bearer(token)).json()
    assert {item["name"] for item in listed["items"]} == {t.name for t in traces.values()}
    failures = client.get("/api/v1/failures", **bearer(token)).json()
    assert [(g["name"], g["failed_step"], g["failures"]) for g in failures] == [
        ("Notify on-call", "Page ops", 1)
    ]


def test_another_organizations_token_gets_a_404_for_every_trace_and_definition(
    client, traces, outsider_token, other_org
):
    make_trace(other_org, "Globex revenue")
    workflow = traces["workflow:Notify on-call"]

    for url in endpoints(workflow):
        response = client.get(url, **bearer(outsider_token))
        assert (response.status_code, response["Content-Type"]) == (404, "application/json; charset=utf-8"), url
        assert "message" in response.json()
    asked = client.post(
        "/api/v1/ask",
        {"question": "why did this run?", "trace_id": str(workflow.id)},
        content_type="application/json",
        **bearer(outsider_token),
    )
    assert asked.status_code == 404
    # Its lists hold only its own organization's traces.
    listed = client.get("/api/v1/traces", **bearer(outsider_token)).json()["items"]
    assert [item["name"] for item in listed] == ["Globex revenue"]
    assert client.get("/api/v1/failures", **bearer(outsider_token)).json() == []
    assert "Notify on-call" not in json.dumps(
        client.post("/api/v1/ask", {"question": "what failed today?"},
                    content_type="application/json", **bearer(outsider_token)).json()
    )


@pytest.mark.django_db
def test_no_token_or_a_wrong_one_is_a_401_in_json(client, org):
    trace = ExecutionTrace(id=uuid.uuid4(), subject="metric:1")
    for authorization in (None, "Bearer lin_not-a-token", "Basic ZGVtbzpkZW1v"):
        headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
        for url in [*endpoints(trace), "/api/v1/traces", "/api/v1/failures"]:
            response = client.get(url, **headers)
            assert response.status_code == 401, (authorization, url)
            assert response.json() == {
                "message": "Give an API token (Authorization: Bearer lin_…) or sign in."
            }


def test_a_signed_in_member_reads_through_the_session_and_an_outsider_gets_404(
    client, traces, member, outsider
):
    workflow = traces["workflow:Notify on-call"]
    client.force_login(member)
    assert all(client.get(url).status_code == 200 for url in endpoints(workflow))

    client.force_login(outsider)
    assert [client.get(url).status_code for url in endpoints(workflow)] == [404] * 4
    assert client.get("/api/v1/traces").json()["items"] == []


def test_asking_through_the_session_needs_the_csrf_token(traces, member):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(member)
    question = {"question": "what failed today?"}

    refused = browser.post("/api/v1/ask", question, content_type="application/json")
    browser.get("/")  # the dashboard sets the CSRF cookie
    csrf = browser.cookies["csrftoken"].value
    answered = browser.post(
        "/api/v1/ask", question, content_type="application/json", HTTP_X_CSRFTOKEN=csrf
    )

    assert refused.status_code == 403 and "CSRF" in refused.json()["message"]
    assert answered.status_code == 200
    assert answered.json()["lines"][1]["trace_id"] == str(traces["workflow:Notify on-call"].id)


def test_asking_to_run_a_metric_never_runs_it(client, org, member):
    metric, _, _ = make_chain(org)
    client.force_login(member)  # an editor: the page would offer the run

    answer = client.post(
        "/api/v1/ask", {"question": "run Daily revenue now"}, content_type="application/json"
    ).json()

    assert answer["proposal"] == {"label": "Run Daily revenue now", "subject": metric.subject}
    assert not ExecutionTrace.objects.exists()


BAD_INPUT = [
    ("/api/v1/traces/not-an-id", 404, "No such trace."),
    ("/api/v1/traces/01a2279f-90df-76cb-9e64-36677b319702", 404, "No such trace."),
    ("/api/v1/traces?type=sideways", 422, "type: Input should be 'metric', 'alert', 'workflow' or 'step'"),
    ("/api/v1/traces?window=3y", 422, "window: Input should be '1h', '24h' or '7d'"),
    ("/api/v1/traces?cursor=12_zz", 422, "cursor: String should match pattern"),
    ("/api/v1/traces?limit=100000", 422, "limit: Input should be less than or equal to 100"),
    ("/api/v1/traces/01a2279f-90df-76cb-9e64-36677b319702/lineage?depth=0", 422, "depth: Input should be greater than or equal to 1"),
    ("/api/v1/definitions/metric/abc/runs", 422, "definition_id: Input should be a valid integer"),
    ("/api/v1/definitions/metric/999999/runs", 404, "No such metric."),
    ("/api/v1/nowhere", 404, "There is no API at /api/v1/nowhere."),
]


@pytest.mark.django_db
def test_bad_input_is_a_json_error_with_a_message(client, token):
    for url, status, message in BAD_INPUT:
        response = client.get(url, **bearer(token))

        assert response.status_code == status, url
        assert response["Content-Type"] == "application/json; charset=utf-8", url
        assert response.json()["message"].startswith(message), url


def test_pages_follow_the_cursor_without_repeating_a_trace(client, org, token):
    for number in range(5):
        make_trace(org, f"Run {number}")

    seen, url = [], "/api/v1/traces?limit=2"
    while url:
        page = client.get(url, **bearer(token)).json()
        seen += [item["name"] for item in page["items"]]
        url = f"/api/v1/traces?limit=2&cursor={page['next_cursor']}" if page["next_cursor"] else None

    assert seen == [f"Run {number}" for number in reversed(range(5))]


def test_the_list_costs_the_same_queries_for_one_trace_or_many(client, org, token, django_assert_max_num_queries):
    for number in range(30):
        make_trace(org, f"Run {number}")
    with django_assert_max_num_queries(4):  # the token, its last use, the page
        assert len(client.get("/api/v1/traces?limit=30", **bearer(token)).json()["items"]) == 30
