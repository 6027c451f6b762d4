"""Escalation listeners: the card's Escalate button (opens the handoff form), the form's
submission, a suggestion's one-click escalation, and the handoff card's Acknowledge · Take ·
Return to L1. Refusals and no-ops are told to the clicker alone; success shows on the cards."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.context import Deps
from bot.core.escalation import handoff_errors, read_handoff
from bot.core.lifecycle import IllegalTransitionError
from bot.core.permissions import PermissionDeniedError
from bot.core.refs import parse_id
from bot.core.text import decode_slack_text, escape_mrkdwn
from bot.core.tiers import Tier, parse_tier
from bot.services import escalations
from bot.services.ticket_changes import TicketNotFoundError
from bot.slack import escalation_blocks, kit
from bot.slack.modals import HANDOFF, handoff_modal, submitted_values
from handlers.clicks import clicker, show_form, tell_clicker
from handlers.views import view_metadata

__all__ = ["handoff_form", "register"]

REFUSALS = (
    escalations.EscalationNotFoundError,
    TicketNotFoundError,
    PermissionDeniedError,
    IllegalTransitionError,
)
STALE_FORM = "This form is out of date: close it and run `/ticket escalate` again."


def handoff_form(deps: Deps, *, number: int, actor: str, tier: Tier | None) -> dict[str, Any]:
    """The handoff form for T-`number`, pre-filled; raises one of REFUSALS when it may not happen."""
    draft = escalations.draft(deps.engine, deps.policy, number=number, actor=actor, tier=tier)
    context = draft.context
    arr = context.get("arr")
    customer = f"{context.get('customer') or '—'}" + (f" ({context['tier']})" if context.get("tier") else "")
    facts = [
        ("Customer", escape_mrkdwn(customer)),
        ("ARR", f"${arr:,.0f}" if isinstance(arr, int | float) else "—"),
        ("Priority", escape_mrkdwn(str(context.get("priority")))),
        ("Category", escape_mrkdwn(str(context.get("category") or "—"))),
        ("Previous escalations", str(draft.level)),
        ("Started", kit.slack_date(draft.ticket.created_at)),
    ]
    return handoff_modal(
        ticket_ref=draft.ticket.ref,
        number=number,
        level=draft.level,
        tier=tier,
        facts=facts,
        summary=draft.ticket.title,
        sentiment=draft.ticket.sentiment,
    )


def _local_today(deps: Deps) -> datetime:
    return deps.clock().astimezone(deps.config.tzinfo)


def register(app: App, deps: Deps) -> None:
    _register_form(app, deps)
    _register_buttons(app, deps)
    _register_submission(app, deps)


def _register_form(app: App, deps: Deps) -> None:
    def ack_now(ack: Ack) -> None:
        ack()

    def open_form(body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        """After the ack (a lazy listener): the form, or why it cannot open."""
        number, user = parse_id(str(action.get("value", ""))), clicker(body)
        if number is None or not user:
            return
        try:
            view = handoff_form(deps, number=number, actor=user, tier=None)
        except REFUSALS as error:
            tell_clicker(deps, body, action, f":warning: {error}")
            return
        show_form(deps, client, body, action, view)

    app.action("ticket_escalate")(ack=ack_now, lazy=[open_form])


_HANDOFF_BUTTONS = {
    escalation_blocks.ACKNOWLEDGE: escalations.acknowledge,
    escalation_blocks.TAKE: escalations.take,
    escalation_blocks.RETURN: escalations.return_to_l1,
}


def _register_buttons(app: App, deps: Deps) -> None:
    @app.action(escalation_blocks.ESCALATE_SUGGESTED)
    def on_suggestion(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        number, tier_name, trigger = [*str(action.get("value", "")).split(":", 2), "", ""][:3]
        ticket, tier, user = parse_id(number), parse_tier(tier_name), clicker(body)
        if ticket is None or tier is None or tier is Tier.L1 or not user:
            return
        try:
            escalations.escalate_suggested(
                deps.engine, deps.policy, number=ticket, actor=user, tier=tier, trigger=trigger,
                request_key=f"click:{action.get('action_ts', '')}:{user}", now=deps.clock(),
            )  # fmt: skip
        except REFUSALS as error:
            tell_clicker(deps, body, action, f":warning: {error}")

    @app.action(re.compile(r"^escalation_(ack|take|return)$"))
    def on_handoff_button(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        escalation_id, user = parse_id(str(action.get("value", ""))), clicker(body)
        if escalation_id is None or not user:
            return
        now = deps.clock()
        try:
            match action.get("action_id"):
                case escalation_blocks.ACKNOWLEDGE:
                    answer = escalations.acknowledge(
                        deps.engine, deps.policy, escalation_id=escalation_id, actor=user, now=now
                    )
                case escalation_blocks.TAKE:
                    answer = escalations.take(
                        deps.engine, deps.policy, escalation_id=escalation_id, actor=user, now=now
                    )
                case _:
                    answer = escalations.return_to_l1(
                        deps.engine, deps.policy, escalation_id=escalation_id, actor=user, now=now
                    )
        except REFUSALS as error:
            answer = f":warning: {error}"
        tell_clicker(deps, body, action, answer)


def _register_submission(app: App, deps: Deps) -> None:
    @app.view(HANDOFF)
    def on_handoff(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        # As the ticket form does: what was typed, not Slack's escaping of it.
        values = {block: decode_slack_text(value) for block, value in submitted_values(view).items()}
        errors = handoff_errors(values, today=_local_today(deps).date())
        if errors:
            ack(response_action="errors", errors=errors)
            return
        meta = view_metadata(view)
        number, level = meta.get("number"), meta.get("level")
        if not _is_int(number) or not _is_int(level):
            ack(response_action="errors", errors={"tier": STALE_FORM})
            return
        assert isinstance(number, int) and isinstance(level, int)
        request = escalations.EscalationRequest(
            number=number,
            actor=clicker(body),
            handoff=read_handoff(values),
            tier=parse_tier(values["tier"]),
            expected_level=level,
            request_key=f"view:{view.get('id')}",
        )
        try:
            escalations.escalate(deps.engine, deps.policy, request, now=deps.clock())
        except escalations.DuplicateRequestError:
            pass  # a double submit: the first one escalated and closed the form
        except REFUSALS as error:
            ack(response_action="errors", errors={"tier": str(error)})
            return
        ack()


def _is_int(value: object) -> bool:
    """An int we could have written (a forged 10**30 would overflow the database's integers)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31
