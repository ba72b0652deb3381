"""An optional language-model planner (OpenAI-compatible chat completions
with tool calling), used only when LINEAGE_LLM_URL and LINEAGE_LLM_MODEL are
set. The model only picks an intent and names its arguments; names, ids and
times are then resolved exactly as the rule planner does, within the user's
organizations. Any error, timeout or malformed reply falls back to the rules.
"""
from __future__ import annotations

import json
import logging
import time
import urllib.request
from http.client import HTTPException
from typing import Any

from django.conf import settings

from lineage.assistant.planner import (
    INTENTS,
    AskContext,
    Plan,
    find_name,
    find_trace,
    normalize,
    plan,
    settle,
)
from lineage.assistant.timephrases import parse_window

logger = logging.getLogger("lineage.assistant")
MAX_REPLY_BYTES = 1_000_000

_DESCRIPTIONS = {
    "explain_trace": "Explain why a run happened (a trace id, or a workflow/alert/metric name).",
    "why_not_run": "Explain why a workflow, alert or metric did NOT run or fire in a time window.",
    "list_failures": "List failed runs in a time window, optionally of one trace type.",
    "impact": "List what a run triggered downstream.",
    "run_metric": "Run a metric now, by name.",
    "help": "Say what can be asked.",
}
_ARGUMENTS = {
    "name": {"type": "string", "description": "workflow, alert or metric name, as the user wrote it"},
    "trace_id": {"type": "string", "description": "a trace id, or its first or last digits"},
    "time": {"type": "string", "description": "time phrase, e.g. 'this morning', 'at 10:05'"},
    "trace_type": {"type": "string", "enum": ["metric", "alert", "workflow", "step"]},
}
# Which arguments each intent takes, and which of them it cannot do without.
_SIGNATURES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "explain_trace": (("name", "trace_id", "time"), ()),
    "why_not_run": (("name", "time"), ("name",)),
    "list_failures": (("time", "trace_type"), ()),
    "impact": (("name", "trace_id", "time"), ()),
    "run_metric": (("name",), ("name",)),
    "help": ((), ()),
}


def _tool(intent: str) -> dict[str, Any]:
    accepted, required = _SIGNATURES[intent]
    parameters = {
        "type": "object",
        "properties": {name: _ARGUMENTS[name] for name in accepted},
        "required": list(required),
        "additionalProperties": False,
    }
    return {
        "type": "function",
        "function": {"name": intent, "description": _DESCRIPTIONS[intent], "parameters": parameters},
    }


TOOLS = [_tool(intent) for intent in INTENTS]
SYSTEM_PROMPT = (
    "You route questions about automated runs (metrics, alerts, workflows) to exactly one "
    "tool. Always call one tool; copy names, ids and time phrases from the question."
)


class LlmReplyError(ValueError):
    pass


def plan_with_llm(message: str, context: AskContext) -> Plan:
    text = normalize(message)  # empty/over-long questions never reach the model
    try:
        intent, args = _ask_model(text)
        return _plan_from(intent, args, text, context)
    except (OSError, HTTPException, ValueError, LookupError, TypeError, AttributeError) as exc:
        logger.warning("language-model planner failed (%s); using the rules", exc)
        return plan(message, context)


def _endpoint() -> str:
    url = settings.LINEAGE_LLM_URL.rstrip("/")
    return url if url.endswith("/chat/completions") else f"{url}/chat/completions"


def _ask_model(text: str) -> tuple[str, dict[str, str]]:
    body = {
        "model": settings.LINEAGE_LLM_MODEL,
        "messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": text}],
        "tools": TOOLS,
        "tool_choice": "required",
        "temperature": 0,
    }
    headers = {"Content-Type": "application/json"}
    if settings.LINEAGE_LLM_API_KEY:
        headers["Authorization"] = f"Bearer {settings.LINEAGE_LLM_API_KEY}"
    request = urllib.request.Request(
        _endpoint(), data=json.dumps(body).encode(), headers=headers, method="POST"
    )
    reply = json.loads(_post(request))
    call = reply["choices"][0]["message"]["tool_calls"][0]["function"]
    return _validated(call["name"], json.loads(call.get("arguments") or "{}"))


def _post(request: urllib.request.Request) -> bytes:
    """The reply's body, within LINEAGE_LLM_TIMEOUT_SECONDS in all: urlopen's
    timeout bounds each socket read, so a server that trickles bytes is cut
    off here."""
    timeout = settings.LINEAGE_LLM_TIMEOUT_SECONDS
    deadline = time.monotonic() + timeout
    body = b""
    with urllib.request.urlopen(request, timeout=timeout) as response:
        while chunk := response.read1(65536):
            body += chunk
            if len(body) > MAX_REPLY_BYTES:
                raise LlmReplyError("the reply is too long")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no complete reply within {timeout} s")
    return body


def _validated(intent: object, args: object) -> tuple[str, dict[str, str]]:
    """The model's call, checked against the tool it claims to call: a known
    intent, only its arguments, short strings, its required ones present."""
    if intent not in _SIGNATURES or not isinstance(args, dict):
        raise LlmReplyError(f"unexpected tool call {intent!r}")
    accepted, required = _SIGNATURES[intent]
    unknown = set(args) - set(accepted)
    if unknown:
        raise LlmReplyError(f"{intent} does not take {sorted(unknown)}")
    clean = {k: v.strip() for k, v in args.items() if isinstance(v, str) and 0 < len(v.strip()) <= 200}
    if set(clean) != set(args) or any(name not in clean for name in required):
        raise LlmReplyError(f"bad arguments for {intent}: {args!r}")
    if clean.get("trace_type", "metric") not in _ARGUMENTS["trace_type"]["enum"]:
        raise LlmReplyError(f"unknown trace type {clean['trace_type']!r}")
    return intent, clean


def _plan_from(intent: str, args: dict[str, str], text: str, context: AskContext) -> Plan:
    """The model's call resolved like the rules resolve a question: names and
    ids only inside the user's organizations. What does not resolve is an
    error, so the rules get their turn."""
    result = Plan(intent, window=parse_window(args.get("time", ""), context.now))
    result.trace_type = args.get("trace_type")
    if "trace_id" in args:
        result.trace, result.clarification = find_trace(args["trace_id"].lower(), context)
        if result.trace is None and not result.clarification:
            raise LlmReplyError(f"the model's trace id {args['trace_id']!r} is not an id")
    elif "name" in args:
        kinds = ("metric",) if intent == "run_metric" else ("workflow", "alert", "metric")
        result.target = find_name(args["name"].lower(), context.organization, kinds).target
        if result.target is None:
            raise LlmReplyError(f"the model named {args['name']!r}, which is not here")
        result.latest = result.window is None
    elif intent in {"explain_trace", "impact"}:
        return plan(text, context)  # nothing named: let the rules read the question
    return settle(result, context)
