"""The App Home tab: an agent's own queue and the team's at-risk and unassigned tickets; for anyone
else, the tickets they asked for.

Opening the tab queues a views.publish through the outbox; the view is rendered when the worker
sends it, so it shows the queue as it is then, and no Slack call happens before the event's ack.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from bot.services.tickets import AT_RISK_WITHIN
from bot.slack import blocks
from bot.slack.delivery import Prepare
from store import outbox, tickets
from store.db import session_scope
from store.models import OutboxMessage
from store.tickets import TicketQuery

__all__ = ["HOME", "PREPARE", "SECTION_SIZE", "refresh_home"]

HOME = "app_home"
SECTION_SIZE = 15


def refresh_home(engine: Engine, *, user: str, team: bool, event_id: str, now: datetime) -> None:
    """Queue the tab's view; `team`: the viewer is on the support team (their queue and the team's),
    else they see only their own requests."""
    with session_scope(engine) as session:
        outbox.enqueue(
            session,
            key=f"home:{user}:{event_id}"[:255],
            method="views.publish",
            args={"user_id": user, "team": team},
            purpose=HOME,
            now=now,
        )


def _prepare_home(session: Session, message: OutboxMessage) -> dict[str, Any]:
    user, now = message.args["user_id"], message.created_at
    if not message.args.get("team", False):  # rows queued before `team` existed: the narrower view
        requests, _ = tickets.search(session, TicketQuery(requested_by=user), limit=SECTION_SIZE)
        return {"user_id": user, "view": blocks.requester_home_view(requests)}
    mine, _ = tickets.search(session, TicketQuery(owner=user), limit=SECTION_SIZE)
    at_risk, _ = tickets.search(session, TicketQuery(due_before=now + AT_RISK_WITHIN), limit=SECTION_SIZE)
    unassigned, _ = tickets.search(session, TicketQuery(unowned=True), limit=SECTION_SIZE)
    return {"user_id": user, "view": blocks.home_view(mine=mine, at_risk=at_risk, unassigned=unassigned)}


PREPARE: dict[str, Prepare] = {HOME: _prepare_home}
