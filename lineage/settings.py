"""Lineage settings, read from the environment.

Every setting has a safe development default; a malformed value raises
ImproperlyConfigured instead of being guessed.
"""
from __future__ import annotations

import os
import re
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from None


def env_url(name: str, default: str = "") -> str:
    """An http(s) URL, or empty (the default) for “not configured”."""
    raw = os.environ.get(name, default).strip()
    if raw and not raw.lower().startswith(("http://", "https://")):
        raise ImproperlyConfigured(f"{name} must be an http:// or https:// URL, not {raw!r}")
    return raw


def env_headers(name: str) -> dict[str, str]:
    """HTTP headers written `key=value,key2=value2` (as OTEL_EXPORTER_OTLP_HEADERS)."""
    headers = {}
    for item in os.environ.get(name, "").split(","):
        if not item.strip():
            continue
        key, equals, value = item.partition("=")
        if not equals or not key.strip():
            raise ImproperlyConfigured(f"{name} must be key=value pairs separated by commas")
        headers[key.strip()] = value.strip()
    return headers


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)


def _secret_key() -> str:
    """SECRET_KEY from the environment; with DEBUG on and none set, a random
    development key kept in .data/secret_key (never one from the repository)."""
    key = os.environ.get("SECRET_KEY", "").strip()
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. In production set it to a long random value "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))'); "
            "for development set DEBUG=1, as make run does."
        )
    path = BASE_DIR / ".data" / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as file:
        file.write(key := secrets.token_urlsafe(50))
    return key


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "axes",
    "django_htmx",
    "template_partials",
    "ninja",
    "lineage.tenancy",
    "lineage.observability",
    "lineage.metrics",
    "lineage.alerts",
    "lineage.workflows",
    "lineage.execution",
    "lineage.assistant",
    "lineage.web",
    "lineage.api",
    "lineage.export",
    "lineage.bench",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "lineage.web.middleware.current_organization",
    # Last, as django-axes asks: turns a locked-out sign-in into its page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "lineage.urls"
WSGI_APPLICATION = "lineage.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "lineage.web.context_processors.organizations",
            ],
        },
    }
]


def _database_settings() -> dict:
    url = os.environ.get("DATABASE_URL")
    if url:
        try:
            config = dj_database_url.parse(url)
        except ValueError as exc:
            raise ImproperlyConfigured(f"DATABASE_URL is not a valid URL: {exc}") from None
        if config.get("ENGINE") != "django.db.backends.postgresql":
            raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://…).")
        return config
    from lineage.embedded_db import embedded_database_settings

    return {"ENGINE": "django.db.backends.postgresql", **embedded_database_settings()}


def _with_session_settings(config: dict, *settings: str) -> dict:
    """`config` with PostgreSQL settings for each session it opens."""
    options = dict(config.get("OPTIONS", {}))
    extra = " ".join(f"-c {setting}" for setting in settings)
    options["options"] = f"{options.get('options', '')} {extra}".strip()
    return {**config, "OPTIONS": options}


_database = _database_settings()
# The app's own queries are short index lookups, but the planner's estimate
# for a recursive lineage walk is always large, so PostgreSQL's JIT (when the
# server has it) spent 13 ms compiling a 0.3 ms query. Metric SQL, on its own
# connection, keeps the server's JIT setting.
_default = _with_session_settings(_database, "jit=off")
DATABASES = {
    "default": _default,
    # Trace rows are written on their own autocommit connection so they outlive
    # a rolled-back transaction and are visible while the traced work runs.
    # Their commits do not wait for the WAL flush: waiting for the disk twice
    # per trace was most of the tracer's cost. WAL is written in order, so the
    # next synchronous commit (the work's own, on the default connection) makes
    # every earlier trace durable too; a server crash can lose only the last
    # fraction of a second of traces, never leave one half-written.
    "traces": _with_session_settings(_default, "synchronous_commit=off"),
}
# Metric SQL reads METRICS_DATABASE_URL (a warehouse) when it is set, else the
# app's database; either way as each organization's own role (metrics/sandbox.py).
if os.environ.get("METRICS_DATABASE_URL"):
    DATABASES["metrics"] = dj_database_url.parse(os.environ["METRICS_DATABASE_URL"])
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# HTTPS in production (see the README's Security section): all off by default,
# so development over http works; `check --deploy` names any left off.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])


def _proxy_ssl_header() -> tuple[str, str] | None:
    """SECURE_PROXY_SSL_HEADER=X-Forwarded-Proto: the header a proxy in front
    sets to https. Only behind a proxy that always sets (or strips) it."""
    name = os.environ.get("SECURE_PROXY_SSL_HEADER", "").strip()
    if not name:
        return None
    if not re.fullmatch(r"[A-Za-z0-9-]+", name):
        raise ImproperlyConfigured(
            f"SECURE_PROXY_SSL_HEADER must be a header name such as X-Forwarded-Proto, not {name!r}"
        )
    return "HTTP_" + name.upper().replace("-", "_"), "https"


SECURE_PROXY_SSL_HEADER = _proxy_ssl_header()

# No inline script, no eval, nothing from elsewhere; style="" attributes stay
# allowed (bars and swatches), <style> elements do not.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Sign-in throttling (django-axes): after LINEAGE_LOGIN_FAILURE_LIMIT failures
# for one username, or from one address, sign-in is refused for that username
# or address for LINEAGE_LOGIN_LOCKOUT_MINUTES.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LINEAGE_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_float("LINEAGE_LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "lineage.web.access.client_address"
# Proxies in front of Lineage that append to X-Forwarded-For (0: none, the
# client is REMOTE_ADDR). Sign-in throttling counts by the address they saw.
LINEAGE_TRUSTED_PROXY_COUNT = env_int("LINEAGE_TRUSTED_PROXY_COUNT", 0)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:trace-list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

# By default e-mail is written to files in .data/mail (one file per message),
# so the demo's e-mail step really sends through Django's mail framework and
# nothing pollutes a command's output. Set EMAIL_HOST to send over SMTP.
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(BASE_DIR / ".data" / "mail"))
EMAIL_PORT = int(env_float("EMAIL_PORT", 25))
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "lineage@localhost")

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Engines
LINEAGE_METRIC_TIMEOUT_SECONDS = env_float("LINEAGE_METRIC_TIMEOUT_SECONDS", 30.0)
LINEAGE_WEBHOOK_TIMEOUT_SECONDS = env_float("LINEAGE_WEBHOOK_TIMEOUT_SECONDS", 10.0)
if not 0 < LINEAGE_WEBHOOK_TIMEOUT_SECONDS <= 30:
    raise ImproperlyConfigured("LINEAGE_WEBHOOK_TIMEOUT_SECONDS must be more than 0 and at most 30")
# Hosts webhooks may reach although they are not public (names, addresses,
# optionally :port). With DEBUG on, the demo's closed port 127.0.0.1:9.
LINEAGE_WEBHOOK_ALLOWED_HOSTS = env_list(
    "LINEAGE_WEBHOOK_ALLOWED_HOSTS", ["127.0.0.1:9"] if DEBUG else []
)
# Modules whose @register_metric callables Python metrics may name.
LINEAGE_PYTHON_METRIC_MODULES = env_list("LINEAGE_PYTHON_METRIC_MODULES", [])
# Lineage graphs: beyond this many nodes the graph collapses the rest.
LINEAGE_GRAPH_NODE_CAP = int(env_float("LINEAGE_GRAPH_NODE_CAP", 150))
LINEAGE_GRAPH_TIMEOUT_SECONDS = env_float("LINEAGE_GRAPH_TIMEOUT_SECONDS", 5.0)

# Optional language-model planner for the assistant (OpenAI-compatible).
LINEAGE_LLM_URL = env_str("LINEAGE_LLM_URL", "")
LINEAGE_LLM_MODEL = env_str("LINEAGE_LLM_MODEL", "")
LINEAGE_LLM_API_KEY = env_str("LINEAGE_LLM_API_KEY", "")
LINEAGE_LLM_TIMEOUT_SECONDS = env_float("LINEAGE_LLM_TIMEOUT_SECONDS", 10.0)

# Interop: traces as OpenTelemetry spans over OTLP/HTTP (an OpenTelemetry
# collector, Jaeger or Tempo: http://collector:4318), and metric, alert and
# workflow runs as OpenLineage events (Marquez: http://marquez:5000, or a file
# of one JSON event per line). Empty: nothing is exported.
LINEAGE_OTLP_ENDPOINT = env_url("LINEAGE_OTLP_ENDPOINT")
LINEAGE_OTLP_HEADERS = env_headers("LINEAGE_OTLP_HEADERS")
LINEAGE_OTLP_TIMEOUT_SECONDS = env_float("LINEAGE_OTLP_TIMEOUT_SECONDS", 10.0)
LINEAGE_OPENLINEAGE_URL = env_url("LINEAGE_OPENLINEAGE_URL")
LINEAGE_OPENLINEAGE_API_KEY = env_str("LINEAGE_OPENLINEAGE_API_KEY", "")
LINEAGE_OPENLINEAGE_FILE = env_str("LINEAGE_OPENLINEAGE_FILE", "")
LINEAGE_OPENLINEAGE_TIMEOUT_SECONDS = env_float("LINEAGE_OPENLINEAGE_TIMEOUT_SECONDS", 10.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "lineage.observability.logs.RedactingFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact"]}},
    "loggers": {"lineage": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")}},
}
