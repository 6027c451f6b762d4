"""Modal views (pure renderers) and reading their submitted values."""

from __future__ import annotations

import json
from typing import Any

from bot.core.bugs import FIELD_MAX, SEVERITY_PRIORITY
from bot.core.escalation import ATTEMPT_ROWS
from bot.core.text import displayable, truncate
from bot.core.ticket_command import TITLE_MAX
from bot.slack.blocks import PRIORITY_NAMES

__all__ = [
    "BUG_FORM",
    "CATEGORIES",
    "CREATE_TICKET",
    "CUSTOMER_MAX",
    "DESCRIPTION_MAX",
    "HANDOFF",
    "REPLY",
    "bug_modal",
    "create_ticket_modal",
    "handoff_modal",
    "reply_modal",
    "submitted_values",
]

REPLY = "ticket_reply"
BUG_FORM = "ticket_bug_form"

CREATE_TICKET = "ticket_create"
# Seed 001's taxonomy, top level.
CATEGORIES = ("account", "product", "onboarding", "technical", "feedback")
# The new-ticket form's limits: Slack enforces them in the form, the server again (a forged submit).
DESCRIPTION_MAX, CUSTOMER_MAX = 3000, 128

Block = dict[str, Any]


def _text_input(
    block_id: str, label: str, *, multiline: bool = False, optional: bool = False, max_length: int
) -> Block:
    element: Block = {"type": "plain_text_input", "action_id": "value", "max_length": max_length}
    if multiline:
        element["multiline"] = True
    return {
        "type": "input", "block_id": block_id, "optional": optional,
        "label": {"type": "plain_text", "text": label}, "element": element,
    }  # fmt: skip


def _select(
    block_id: str, label: str, options: list[tuple[str, str]], *, optional: bool = True, initial: str | None = None
) -> Block:
    choices = [{"text": {"type": "plain_text", "text": text}, "value": value} for value, text in options]
    element: Block = {
        "type": "static_select", "action_id": "value",
        "placeholder": {"type": "plain_text", "text": "Choose"}, "options": choices,
    }  # fmt: skip
    chosen = next((choice for choice in choices if choice["value"] == initial), None)
    if chosen is not None:
        element["initial_option"] = chosen
    return {
        "type": "input", "block_id": block_id, "optional": optional,
        "label": {"type": "plain_text", "text": label}, "element": element,
    }  # fmt: skip


def create_ticket_modal(channel_id: str) -> dict[str, Any]:
    """`/ticket` alone: the form. Every field is an input block, so errors can sit under their field."""
    return {
        "type": "modal",
        "callback_id": CREATE_TICKET,
        "private_metadata": json.dumps({"channel": channel_id}),
        "title": {"type": "plain_text", "text": "New ticket"},
        "submit": {"type": "plain_text", "text": "Create"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            _text_input("title", "Title", max_length=TITLE_MAX),
            _text_input("description", "What is happening?", multiline=True, optional=True, max_length=DESCRIPTION_MAX),
            _text_input("customer", "Customer", optional=True, max_length=CUSTOMER_MAX),
            _select("priority", "Priority (leave empty to decide automatically)", list(PRIORITY_NAMES.items())),
            _select("category", "Category", [(category, category.capitalize()) for category in CATEGORIES]),
        ],
    }


def reply_modal(*, ticket_ref: str, number: int, template: str, text: str) -> dict[str, Any]:
    """The template in an editable box: the agent writes the bracketed parts before it can go."""
    message = _text_input("message", f"Reply to the requester of {ticket_ref}", multiline=True, max_length=3000)
    message["element"]["initial_value"] = text
    message["hint"] = {"type": "plain_text", "text": "Replace every [bracketed] part; it posts as the bot."}
    return {
        "type": "modal",
        "callback_id": REPLY,
        "private_metadata": json.dumps({"number": number, "template": template}),
        "title": {"type": "plain_text", "text": f"Reply on {ticket_ref}"[:24]},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [message],
    }


HANDOFF = "escalation_handoff"
SENTIMENTS = ("angry", "frustrated", "neutral", "positive")  # seed 001's handoff template, plus positive
# The taxonomy's reading of the ticket, as the handoff template names feelings.
_SENTIMENT_OF = {"negative": "frustrated", "urgent": "frustrated", "neutral": "neutral", "positive": "positive"}


def handoff_modal(
    *,
    ticket_ref: str,
    number: int,
    level: int,
    tier: str | None,
    facts: list[tuple[str, str]],
    summary: str,
    sentiment: str | None,
) -> dict[str, Any]:
    """Seed 001's "Escalation Handoff Template" as a form: the ticket's facts shown, the rest asked.
    Every field that can be wrong is an input block, so its error shows under it (field case F7)."""
    tiers = [("L2", "L2 · specialists"), ("L3", "L3 · engineering"), ("management", "Management")]
    summary_input = _text_input("summary", "Summary", multiline=True, optional=True, max_length=2000)
    summary_input["element"]["initial_value"] = summary[:2000]
    attempts: list[Block] = []
    for row in range(1, ATTEMPT_ROWS + 1):
        label = "What was tried" if row == 1 else f"What else was tried ({row})"
        attempts.append(_text_input(f"tried_{row}", label, multiline=True, optional=row > 1, max_length=2000))
        attempts.append(_text_input(f"result_{row}", "… and what happened", optional=True, max_length=2000))
    fact_lines = "\n".join(f"*{name}:* {value}" for name, value in facts)
    return {
        "type": "modal",
        "callback_id": HANDOFF,
        "private_metadata": json.dumps({"number": number, "level": level}),
        "title": {"type": "plain_text", "text": f"Escalate {ticket_ref}"[:24]},
        "submit": {"type": "plain_text", "text": "Escalate"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": fact_lines[:3000] or "—"}},
            _select("tier", "Escalate to", tiers, optional=False, initial=tier),
            summary_input,
            _select(
                "sentiment", "Customer sentiment", [(name, name.capitalize()) for name in SENTIMENTS],
                initial=_SENTIMENT_OF.get(sentiment or ""),
            ),
            *attempts,
            _text_input("needed", "What is needed from them", multiline=True, max_length=2000),
            _text_input("expectation", "What the customer expects", multiline=True, optional=True, max_length=2000),
            {
                "type": "input", "block_id": "needed_by", "optional": True,
                "label": {"type": "plain_text", "text": "Customer needs it by"},
                "element": {"type": "datepicker", "action_id": "value"},
            },
            _text_input("urgency", "Why it is urgent", multiline=True, optional=True, max_length=2000),
        ],
    }  # fmt: skip


def bug_modal(*, ticket_ref: str, number: int, title: str) -> dict[str, Any]:
    """The bug form (seed 004: severity, impact, area, steps …), for a bug linked to `ticket_ref`;
    the title starts as the ticket's. Every field is an input block, so errors sit under their field."""
    title_input = _text_input("title", "Title", max_length=FIELD_MAX["title"])
    if title.strip():
        title_input["element"]["initial_value"] = truncate(displayable(title).strip(), FIELD_MAX["title"])
    severities = [
        (severity, f"{severity.capitalize()} (starts at {priority})")
        for severity, priority in SEVERITY_PRIORITY.items()
    ]
    return {
        "type": "modal",
        "callback_id": BUG_FORM,
        "private_metadata": json.dumps({"number": number}),
        "title": {"type": "plain_text", "text": f"Bug from {ticket_ref}"[:24]},
        "submit": {"type": "plain_text", "text": "File bug"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            title_input,
            _select("severity", "Severity", severities, optional=False),
            _text_input(
                "impact", "Impact (who is affected, how badly)", multiline=True, max_length=FIELD_MAX["impact"]
            ),
            _text_input("area", "Product area", max_length=FIELD_MAX["area"]),
            _text_input("steps", "Steps to reproduce", multiline=True, max_length=FIELD_MAX["steps"]),
            _text_input("expected", "Expected", multiline=True, max_length=FIELD_MAX["expected"]),
            _text_input("actual", "Actual", multiline=True, max_length=FIELD_MAX["actual"]),
            _text_input(
                "environment",
                "Environment (browser, OS, version, account)",
                multiline=True,
                optional=True,
                max_length=FIELD_MAX["environment"],
            ),
        ],
    }


def submitted_values(view: dict[str, Any]) -> dict[str, str]:
    """{block_id: value} for every filled input of a submitted view (text, option or date)."""
    values: dict[str, str] = {}
    for block_id, actions in ((view.get("state") or {}).get("values") or {}).items():
        state = (actions or {}).get("value") or {}
        value = state.get("value") or (state.get("selected_option") or {}).get("value") or state.get("selected_date")
        if isinstance(value, str) and value.strip():
            values[block_id] = value
    return values


INCIDENT_START = "incident_start"


def incident_start_modal(*, default_severity: str) -> dict[str, Any]:
    """`/incident start` alone: title, severity (the configured default preselected) and the tickets
    that report it."""
    levels = [(level, level) for level in ("P0", "P1", "P2", "P3")]
    severity = _select("severity", "Severity", levels, optional=False, initial=default_severity)
    return {
        "type": "modal",
        "callback_id": INCIDENT_START,
        "title": {"type": "plain_text", "text": "Start an incident"},
        "submit": {"type": "plain_text", "text": "Start"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            _text_input("title", "What is broken?", max_length=150),
            severity,
            _text_input("tickets", "Tickets that report it (T-12 T-14)", optional=True, max_length=500),
        ],
    }


CSAT_COMMENT = "csat_comment_form"


def csat_comment_modal(ticket_id: int) -> dict[str, Any]:
    """The optional comment after a CSAT rating."""
    return {
        "type": "modal",
        "callback_id": CSAT_COMMENT,
        "private_metadata": json.dumps({"ticket_id": ticket_id}),
        "title": {"type": "plain_text", "text": "Your comment"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [_text_input("comment", "What could we do better?", multiline=True, max_length=3000)],
    }
