"""Block Kit for CSAT: the rating prompt a requester gets by DM (its comment form is in modals). Pure."""

from __future__ import annotations

from bot.core.text import escape_mrkdwn, truncate
from bot.slack import kit
from bot.slack.kit import Message
from store.models import Ticket

__all__ = ["COMMENT", "RATE", "prompt"]

RATE, COMMENT = "csat_rate", "csat_comment"
_LABELS = {1: "1 · poor", 2: "2", 3: "3", 4: "4", 5: "5 · great"}


def prompt(ticket: Ticket) -> Message:
    text = f"Your request *{ticket.ref}* ({escape_mrkdwn(truncate(ticket.title, 120))}) is solved. How did we do?"
    buttons = [kit.button(f"{RATE}:{n}", label, f"{ticket.id}:{n}") for n, label in _LABELS.items()]
    comment = kit.button(COMMENT, "Add a comment", str(ticket.id))
    return {
        "text": f"How did we do on {ticket.ref}? Rate it 1 to 5.",
        "blocks": [kit.section(text), {"type": "actions", "block_id": "csat", "elements": [*buttons, comment]}],
    }
