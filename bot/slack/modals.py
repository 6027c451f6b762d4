"""Modal views (pure renderers) and reading their submitted values."""

from __future__ import annotations

import json
from typing import Any

from bot.slack.blocks import PRIORITY_NAMES

__all__ = ["CATEGORIES", "CREATE_TICKET", "REPLY", "create_ticket_modal", "reply_modal", "submitted_values"]

REPLY = "ticket_reply"

CREATE_TICKET = "ticket_create"
# Seed 001's taxonomy, top level.
CATEGORIES = ("account", "product", "onboarding", "technical", "feedback")

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


def _select(block_id: str, label: str, options: list[tuple[str, str]]) -> Block:
    return {
        "type": "input", "block_id": block_id, "optional": True,
        "label": {"type": "plain_text", "text": label},
        "element": {
            "type": "static_select", "action_id": "value",
            "placeholder": {"type": "plain_text", "text": "Choose"},
            "options": [{"text": {"type": "plain_text", "text": text}, "value": value} for value, text in options],
        },
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
            _text_input("title", "Title", max_length=200),
            _text_input("description", "What is happening?", multiline=True, optional=True, max_length=3000),
            _text_input("customer", "Customer", optional=True, max_length=128),
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


def submitted_values(view: dict[str, Any]) -> dict[str, str]:
    """{block_id: value} for every filled input of a submitted view (text or selected option)."""
    values: dict[str, str] = {}
    for block_id, actions in ((view.get("state") or {}).get("values") or {}).items():
        state = (actions or {}).get("value") or {}
        value = state.get("value") or (state.get("selected_option") or {}).get("value")
        if isinstance(value, str) and value.strip():
            values[block_id] = value
    return values
