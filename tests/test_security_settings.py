"""Production settings: a SECRET_KEY is required with DEBUG off, the documented
production environment passes `check --deploy`, pages carry a CSP, sign-in
is throttled, the demo user is no superuser, and the terminal never gets a
raw control character."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from lineage.observability.models import ExecutionTrace
from tests.factories import make_metric, make_user, run_command, traced_db

MANAGE = Path(__file__).resolve().parent.parent / "manage.py"
# The README's production environment (Security section), with made-up values.
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k3y-" + "x9Qz7" * 12,
    "ALLOWED_HOSTS": "lineage.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://lineage.example.com",
    "SECURE_SSL_REDIRECT": "true",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    unset = {"DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}  # the browser tests set the last
    environment = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(
        [sys.executable, str(MANAGE), *args],
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_documented_production_environment_passes_check_deploy():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stderr + result.stdout


def test_with_debug_off_a_missing_secret_key_stops_start_up_in_one_line():
    result = manage("check", **{**PRODUCTION, "SECRET_KEY": ""})
    assert result.returncode == 1
    assert result.stderr.startswith("Configuration error: SECRET_KEY is not set.")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


@pytest.mark.django_db
def test_every_page_has_a_content_security_policy(client, member):
    client.force_login(member)
    for url in [reverse("web:trace-list"), reverse("login"), reverse("admin:login")]:
        policy = client.get(url)["Content-Security-Policy"]
        for directive in [
            "script-src 'self'",
            "frame-ancestors 'none'",
            "form-action 'self'",
            "object-src 'none'",
            "default-src 'self'",
        ]:
            assert directive in policy


@pytest.mark.django_db
def test_sign_in_is_locked_after_five_failures_even_with_the_right_password(client, org):
    make_user("ada", org)
    login = reverse("login")
    for _ in range(5):
        failed = client.post(login, {"username": "ada", "password": "wrong"})
        assert failed.status_code in {200, 429}
    locked = client.post(login, {"username": "ada", "password": "pw"})
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_sign_in_is_locked_per_address_across_usernames(client, org):
    for name in ["a", "b", "c", "d", "e"]:
        client.post(reverse("login"), {"username": name, "password": "wrong"})
    make_user("grace", org)
    locked = client.post(reverse("login"), {"username": "grace", "password": "pw"})
    assert locked.status_code == 429
    other_address = client.post(
        reverse("login"), {"username": "grace", "password": "pw"}, REMOTE_ADDR="10.9.9.9"
    )
    assert other_address.status_code == 302


@pytest.mark.django_db
def test_the_demo_user_owns_acme_and_is_not_staff(seeded):
    demo = get_user_model().objects.get(username="demo")
    assert not demo.is_superuser and not demo.is_staff
    assert demo.memberships.get().role == "owner"


@traced_db
def test_the_terminal_gets_control_characters_escaped(org):
    evil = "Revenue\x1b[2J\x1b]0;pwned\x07"
    make_metric(org, name=evil, sql="SELECT 1/0")
    printed = run_command("run_metric", evil, "--org", org.slug)
    trace = ExecutionTrace.objects.get(org=org)
    printed += run_command("traces", "--org", org.slug)
    printed += run_command("explain", str(trace.id))
    printed += run_command("lineage", str(trace.id))
    printed += run_command("ask", "what failed today?", "--org", org.slug)
    printed += run_command("run_scheduler", "--now", "2999-01-01T00:00")
    assert "\x1b" not in printed and "\x07" not in printed
    assert printed.count("Revenue\\u001b[2J\\u001b]0;pwned\\u0007") >= 5
    assert "Revenue\\u001b[2J" in run_command("traces", "--org", org.slug, "--json")
