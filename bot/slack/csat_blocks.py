"""Block Kit for CSAT: the rating prompt a requester gets by DM, and the comment form. Pure."""

from __future__ import annotations

import json
from typing import Any

from bot.core.text import escape_mrkdwn, truncate
from bot.slack import kit
from bot.slack.kit import Message
from store.models import Ticket

__all__ = ["COMMENT", "COMMENT_FORM", "RATE", "comment_form", "prompt"]

RATE, COMMENT, COMMENT_FORM = "csat_rate", "csat_comment", "csat_comment_form"
_LABELS = {1: "1 · poor", 2: "2", 3: "3", 4: "4", 5: "5 · great"}


def prompt(ticket: Ticket) -> Message:
    text = f"Your request *{ticket.ref}* ({escape_mrkdwn(truncate(ticket.title, 120))}) is solved. How did we do?"
    buttons = [kit.button(f"{RATE}:{n}", label, f"{ticket.id}:{n}") for n, label in _LABELS.items()]
    comment = kit.button(COMMENT, "Add a comment", str(ticket.id))
    return {
        "text": f"How did we do on {ticket.ref}? Rate it 1 to 5.",
        "blocks": [kit.section(text), {"type": "actions", "block_id": "csat", "elements": [*buttons, comment]}],
    }


def comment_form(ticket_id: int) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": COMMENT_FORM,
        "private_metadata": json.dumps({"ticket_id": ticket_id}),
        "title": {"type": "plain_text", "text": "Your comment"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input", "block_id": "comment",
                "label": {"type": "plain_text", "text": "What could we do better?"},
                "element": {"type": "plain_text_input", "action_id": "value", "multiline": True, "max_length": 3000},
            }
        ],
    }  # fmt: skip
