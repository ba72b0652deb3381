"""Step kinds: a registry of kind → function(step, context) → outputs.

A step function raises StepError (or any exception) to fail its step.
"""
from __future__ import annotations

import json
import logging
import string
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.mail import send_mail

from lineage.observability.explain import format_number
from lineage.observability.jsonsafe import to_jsonable

logger = logging.getLogger("lineage.workflows")

StepFunction = Callable[[Any, dict[str, Any]], dict[str, Any]]
STEP_KINDS: dict[str, StepFunction] = {}


class StepError(Exception):
    """A step could not do its work; the message says why, for people."""


def register_step(kind: str) -> Callable[[StepFunction], StepFunction]:
    def register(function: StepFunction) -> StepFunction:
        STEP_KINDS[kind] = function
        return function

    return register


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


@register_step("log")
def log_step(step, context: dict[str, Any]) -> dict[str, Any]:
    message = render(step.config.get("message", "$workflow ran"), context)
    logger.info("%s: %s", step.name, message)
    return {"message": message}


@register_step("webhook")
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


@register_step("email")
def email_step(step, context: dict[str, Any]) -> dict[str, Any]:
    recipients = required_config(step.config, "to")
    if isinstance(recipients, str):
        recipients = [recipients]
    subject = render(step.config.get("subject", "$workflow"), context)
    body = render(step.config.get("body", ""), context)
    sent = send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    return {"to": recipients, "subject": subject, "sent": sent}
