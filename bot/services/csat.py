"""CSAT (issue 11 §3): when a ticket is solved, its requester — a Slack user outside the support
team — gets a 1–5 prompt by DM; the first rating counts (one per ticket), an optional comment can
follow, and the ratings feed `/support stats`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.services.policy import Policy
from bot.slack import csat_blocks
from store import audit, outbox, tickets
from store.db import insert_if_absent, session_scope
from store.models import CsatRating, Ticket

__all__ = ["CsatError", "add_comment", "prompt", "rate"]


class CsatError(ValueError):
    pass


def prompt(session: Session, policy: Policy, ticket: Ticket, *, now: datetime) -> None:
    """Ask the requester for a rating (once per ticket, however often it is solved)."""
    requester = ticket.requester_id
    if not requester or requester[:1] not in "UW" or policy.is_agent(requester):
        return  # no Slack user to ask, or one of the team (not a customer)
    outbox.enqueue(
        session, key=f"csat:{ticket.id}:prompt", method="chat.postMessage",
        args={"channel": requester, **csat_blocks.prompt(ticket)}, purpose="csat_prompt", ticket_id=ticket.id, now=now,
    )  # fmt: skip


def rate(engine: Engine, *, ticket_id: int, rating: int, user: str, now: datetime) -> str:
    """A click on the prompt; returns what to tell the requester."""
    if not 1 <= rating <= 5:
        raise CsatError("A rating is 1 to 5.")
    with session_scope(engine) as session:
        ticket = tickets.by_id(session, ticket_id)
        if ticket is None:
            raise CsatError("That ticket no longer exists.")
        if ticket.requester_id != user:
            raise CsatError(f"Only the person who asked for help rates {ticket.ref}.")
        values = {"ticket_id": ticket_id, "rating": rating, "rated_by": user, "rated_at": now}
        if insert_if_absent(session, CsatRating, values, unique="ticket_id") is None:
            given = session.exec(select(CsatRating.rating).where(CsatRating.ticket_id == ticket_id)).one()
            return f"You already rated {ticket.ref} {given}/5 — thank you."
        audit.record(
            session, at=now, actor=user, entity_type="ticket", entity_id=ticket_id, action="rated",
            field="csat", after=str(rating),
        )  # fmt: skip
        return f"Thank you: {ticket.ref} rated {rating}/5. Add a comment if you like."


def add_comment(engine: Engine, *, ticket_id: int, comment: str, user: str) -> None:
    with session_scope(engine) as session:
        rating = session.exec(select(CsatRating).where(CsatRating.ticket_id == ticket_id)).first()
        if rating is None or rating.rated_by != user:
            raise CsatError("Rate the ticket first; then the comment goes with the rating.")
        rating.comment = comment[:3000]
        session.add(rating)
