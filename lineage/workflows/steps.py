"""Step kinds: a registry of kind → what running it does, and how its
config is checked when it is saved.

StepKind (models.py) names the kinds; each registers here once, with its
function `(step, context) → outputs` and its config check. A step function
raises StepError (or any exception) to fail its step; a config check raises
ValidationError, which the admin shows on the step's config.
"""
from __future__ import annotations

import http.client
import json
import logging
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import EmailValidator

from lineage.observability.formatting import format_number
from lineage.observability.jsonsafe import to_jsonable
from lineage.observability.redaction import without
from lineage.workflows import egress
from lineage.workflows.models import StepKind, Workflow

logger = logging.getLogger("lineage.workflows")

StepFunction = Callable[[Any, dict[str, Any]], dict[str, Any]]
ConfigCheck = Callable[[dict[str, Any], Workflow | None], None]


@dataclass(frozen=True)
class StepType:
    run: StepFunction
    check_config: ConfigCheck


STEP_TYPES: dict[str, StepType] = {}


class StepError(Exception):
    """A step could not do its work; the message says why, for people."""


def register_step(kind: StepKind, *, check: ConfigCheck) -> Callable[[StepFunction], StepFunction]:
    def register(function: StepFunction) -> StepFunction:
        STEP_TYPES[kind] = StepType(function, check)
        return function

    return register


def check_step_config(kind: str, config: Any, workflow: Workflow | None) -> None:
    """ValidationError, saying what to write, when `config` will not run as
    a `kind` step."""
    if not isinstance(config, dict):
        raise ValidationError('The config must be a JSON object, e.g. {"url": "https://…"}.')
    if _has_nul(config):
        raise ValidationError("The config cannot contain a NUL character (\\u0000).")
    if kind not in STEP_TYPES:
        raise ValidationError(f"Unknown step kind “{kind}”.")
    STEP_TYPES[kind].check_config(config, workflow)


def _has_nul(value: Any) -> bool:
    """A NUL character anywhere in a JSON value, keys included: PostgreSQL's
    jsonb cannot store one."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def render(template: str, context: dict[str, Any]) -> str:
    """Fill `$name` placeholders from the context. Only substitution: a
    template is data, never code."""
    flat = {
        key: format_number(value) if isinstance(value, int | float) else value
        for key, value in context.items()
        if isinstance(value, str | int | float)
    }
    return string.Template(str(template)).safe_substitute(flat)


def required_config(config: dict[str, Any], key: str) -> Any:
    value = config.get(key)
    if value in (None, "", []):
        raise StepError(f"the step's config has no “{key}”")
    return value


def _check_log(config: dict[str, Any], workflow: Workflow | None) -> None:
    if not isinstance(config.get("message", ""), str):
        raise ValidationError('"message" must be text.')


@register_step(StepKind.LOG, check=_check_log)
def log_step(step, context: dict[str, Any]) -> dict[str, Any]:
    message = render(step.config.get("message", "$workflow ran"), context)
    logger.info("%s: %s", step.name, message)
    return {"message": message}


# Header names that carry credentials: they belong in a step's secret
# headers (never shown), not in its config (shown on every page).
_SECRET_HEADER_WORDS = ("authorization", "cookie", "token", "secret", "key", "signature", "password")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def is_secret_header(name: str) -> bool:
    return any(word in name.lower() for word in _SECRET_HEADER_WORDS)


def check_headers(headers: Any, *, secret: bool) -> None:
    """ValidationError unless `headers` is an object of header names to text."""
    where = "secret headers" if secret else '"headers"'
    if not isinstance(headers, dict):
        raise ValidationError(f"{where} must be an object of header names to values.")
    for name, value in headers.items():
        if not _HEADER_NAME.fullmatch(name):
            raise ValidationError(f"{where}: “{name}” is not a valid header name.")
        if not isinstance(value, str) or "\r" in value or "\n" in value:
            raise ValidationError(f"{where}: “{name}” must be one line of text.")
        if not secret and is_secret_header(name):
            raise ValidationError(
                f"“{name}” carries a credential: put it in the step's secret headers, "
                "which are never shown, not in its config, which every page shows."
            )


def webhook_timeout(config: dict[str, Any]) -> float:
    """The step's timeout in seconds; ValidationError when it is not more
    than 0 and at most 30."""
    timeout = config.get("timeout", settings.LINEAGE_WEBHOOK_TIMEOUT_SECONDS)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise ValidationError('"timeout" must be a positive number of seconds.')
    if not 0 < timeout <= egress.MAX_TIMEOUT_SECONDS:
        raise ValidationError(
            f'"timeout" must be a positive number of seconds, at most {egress.MAX_TIMEOUT_SECONDS:g}.'
        )
    return float(timeout)


def checked_webhook_target(
    config: dict[str, Any], *, unresolvable_ok: bool = False
) -> egress.Target | None:
    """The webhook's URL resolved and checked (see egress.py); None when the
    host does not resolve and `unresolvable_ok` (saving: it may later)."""
    url = config.get("url")
    if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
        raise ValidationError('A webhook step needs "url": an http:// or https:// address.')
    try:
        return egress.resolve(egress.check_url(url))
    except egress.UnresolvableHost as refused:
        if unresolvable_ok:
            return None
        raise ValidationError(f"This webhook was not called: {refused}.") from None
    except egress.EgressRefused as refused:
        raise ValidationError(f"This webhook would not be called: {refused}.") from None


def _check_webhook(config: dict[str, Any], workflow: Workflow | None) -> None:
    checked_webhook_target(config, unresolvable_ok=True)
    webhook_timeout(config)
    check_headers(config.get("headers", {}), secret=False)


@register_step(StepKind.WEBHOOK, check=_check_webhook)
def webhook_step(step, context: dict[str, Any]) -> dict[str, Any]:
    url = required_config(step.config, "url")
    secrets = dict(step.secret_headers or {})
    try:
        timeout = webhook_timeout(step.config)
        check_headers(step.config.get("headers", {}), secret=False)
        target = checked_webhook_target(step.config)
    except ValidationError as error:
        raise StepError(" ".join(error.messages)) from None
    body = json.dumps(to_jsonable({"step": step.name, **context}), allow_nan=False).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Lineage-Webhook/1",
        **step.config.get("headers", {}),
        **secrets,
    }
    try:
        reply = egress.post_json(target, body, headers, timeout)
    except TimeoutError:
        raise StepError(f"POST {url} timed out after {timeout:g} s") from None
    except (OSError, http.client.HTTPException) as exc:
        reason = without(str(exc), list(secrets.values()))
        raise StepError(f"POST {url} failed: {reason}") from None
    if not 200 <= reply.status < 300:
        moved = " (redirects are not followed)" if 300 <= reply.status < 400 else ""
        raise StepError(f"POST {url} answered HTTP {reply.status} {reply.reason}{moved}")
    outputs: dict[str, Any] = {"url": url, "status_code": reply.status}
    if target.allowed:
        outputs["response"] = without(reply.body, list(secrets.values()))
    return outputs


def _check_email(config: dict[str, Any], workflow: Workflow | None) -> None:
    recipients = config.get("to")
    if isinstance(recipients, str):
        recipients = [recipients]
    if not recipients or not isinstance(recipients, list):
        raise ValidationError('An e-mail step needs "to": an address or a list of addresses.')
    validate = EmailValidator()
    for address in recipients:
        try:
            validate(address)
        except ValidationError:
            raise ValidationError(f'"to" has an invalid address: {address!r}.') from None


@register_step(StepKind.EMAIL, check=_check_email)
def email_step(step, context: dict[str, Any]) -> dict[str, Any]:
    recipients = required_config(step.config, "to")
    if isinstance(recipients, str):
        recipients = [recipients]
    subject = render(step.config.get("subject", "$workflow"), context)
    body = render(step.config.get("body", ""), context)
    sent = send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    return {"to": recipients, "subject": subject, "sent": sent}
