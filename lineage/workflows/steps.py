"""Step kinds: a registry of kind → what running it does, and how its
config is checked when it is saved.

StepKind (models.py) names the kinds; each registers here once, with its
function `(step, context) → outputs` and its config check. A step function
raises StepError (or any exception) to fail its step; a config check raises
ValidationError, which the admin shows on the step's config.
"""
from __future__ import annotations

import json
import logging
import string
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import EmailValidator

from lineage.observability.formatting import format_number
from lineage.observability.jsonsafe import to_jsonable
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


def _check_webhook(config: dict[str, Any], workflow: Workflow | None) -> None:
    url = config.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ValidationError('A webhook step needs "url": an http:// or https:// address.')
    timeout = config.get("timeout")
    if timeout is not None and not (isinstance(timeout, int | float) and timeout > 0):
        raise ValidationError('"timeout" must be a positive number of seconds.')


@register_step(StepKind.WEBHOOK, check=_check_webhook)
def webhook_step(step, context: dict[str, Any]) -> dict[str, Any]:
    url = required_config(step.config, "url")
    if not str(url).startswith(("http://", "https://")):
        raise StepError(f"webhook URL must start with http:// or https://, not “{url}”")
    timeout = float(step.config.get("timeout", settings.LINEAGE_WEBHOOK_TIMEOUT_SECONDS))
    body = json.dumps(to_jsonable({"step": step.name, **context}), allow_nan=False).encode()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "Lineage-Webhook/1"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            reply = response.read(2_000).decode("utf-8", "replace")
            status = response.status
    except urllib.error.HTTPError as exc:
        raise StepError(f"POST {url} answered HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise StepError(f"POST {url} failed: {exc.reason}") from None
    except TimeoutError:
        raise StepError(f"POST {url} timed out after {timeout:g} s") from None
    except OSError as exc:
        raise StepError(f"POST {url} failed: {exc}") from None
    return {"url": url, "status_code": status, "response": reply}


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
