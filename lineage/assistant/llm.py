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

from lineage.assistant.intents import SPECS, Intent
from lineage.assistant.names import NAMED_KINDS, find_name
from lineage.assistant.planner import (
    RUNNABLE_KINDS,
    AskContext,
    Plan,
    complete_plan,
    find_trace,
    normalize,
    plan,
)
from lineage.assistant.timephrases import parse_window
from lineage.observability.models import TraceType

logger = logging.getLogger("lineage.assistant")
MAX_REPLY_BYTES = 1_000_000
OUTCOMES = ("failed", "succeeded", "fired", "quiet", "ran")

_ARGUMENTS = {
    "name": {"type": "string", "description": "workflow, alert or metric name, as the user wrote it"},
    "trace_id": {"type": "string", "description": "a trace id, or its first or last digits"},
    "time": {"type": "string", "description": "time phrase, e.g. 'this morning', 'at 10:05'"},
    "other_time": {"type": "string", "description": "a second time phrase, to compare with"},
    "trace_type": {"type": "string", "enum": list(TraceType.values)},
    "outcome": {"type": "string", "enum": list(OUTCOMES)},
}
def _tool(intent: Intent) -> dict[str, Any]:
    spec = SPECS[intent]
    parameters = {
        "type": "object",
        "properties": {name: _ARGUMENTS[name] for name in spec.accepts},
        "required": list(spec.requires),
        "additionalProperties": False,
    }
    return {
        "type": "function",
        "function": {"name": str(intent), "description": spec.description, "parameters": parameters},
    }


TOOLS = [_tool(intent) for intent in SPECS]
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


def _ask_model(text: str) -> tuple[Intent, dict[str, str]]:
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


def _validated(name: object, args: object) -> tuple[Intent, dict[str, str]]:
    """The model's call, checked against the tool it claims to call: a known
    intent, only its arguments, short strings, its required ones present."""
    if name not in set(SPECS) or not isinstance(args, dict):
        raise LlmReplyError(f"unexpected tool call {name!r}")
    intent = Intent(name)
    accepted, required = SPECS[intent].accepts, SPECS[intent].requires
    unknown = set(args) - set(accepted)
    if unknown:
        raise LlmReplyError(f"{intent} does not take {sorted(unknown)}")
    clean = {k: v.strip() for k, v in args.items() if isinstance(v, str) and 0 < len(v.strip()) <= 200}
    if set(clean) != set(args) or any(name not in clean for name in required):
        raise LlmReplyError(f"bad arguments for {intent}: {args!r}")
    if clean.get("trace_type", TraceType.METRIC) not in TraceType.values:
        raise LlmReplyError(f"unknown trace type {clean['trace_type']!r}")
    if clean.get("outcome", "ran") not in OUTCOMES:
        raise LlmReplyError(f"unknown outcome {clean['outcome']!r}")
    return intent, clean


def _plan_from(intent: Intent, args: dict[str, str], text: str, context: AskContext) -> Plan:
    """The model's call resolved like the rules resolve a question: names and
    ids only inside the user's organizations. What does not resolve is an
    error, so the rules get their turn."""
    result = Plan(intent, window=parse_window(args.get("time", ""), context.now))
    result.other_window = parse_window(args.get("other_time", ""), context.now)
    result.trace_type = args.get("trace_type")
    result.outcome = args.get("outcome", "")
    if "trace_id" in args:
        result.trace, result.clarification = find_trace(args["trace_id"].lower(), context)
        if result.trace is None and not result.clarification:
            raise LlmReplyError(f"the model's trace id {args['trace_id']!r} is not an id")
    elif "name" in args:
        kinds = RUNNABLE_KINDS if intent in (Intent.RUN, Intent.RERUN) else NAMED_KINDS
        result.target = find_name(args["name"].lower(), context.organization, kinds).target
        if result.target is None:
            raise LlmReplyError(f"the model named {args['name']!r}, which is not here")
        result.latest = result.window is None
    elif intent in {Intent.EXPLAIN, Intent.IMPACT, Intent.COMPARE}:
        return plan(text, context)  # nothing named: let the rules read the question
    return complete_plan(result, context)
