"""CSAT listeners: a requester's rating click, the "Add a comment" button (opens the form after
the ack) and the form's submission."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.context import Deps
from bot.core.refs import parse_id
from bot.core.text import decode_slack_text
from bot.services import csat
from bot.slack import csat_blocks
from bot.slack.modals import CSAT_COMMENT, csat_comment_modal, submitted_values
from handlers.clicks import clicker, show_form, tell_clicker
from handlers.views import view_metadata

__all__ = ["register"]


def register(app: App, deps: Deps) -> None:
    @app.action(re.compile(rf"^{csat_blocks.RATE}:[1-5]$"))
    def on_rating(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        ticket, _, rating = str(action.get("value", "")).partition(":")
        ticket_id = parse_id(ticket)
        score = parse_id(rating)
        if ticket_id is None or score is None:
            return  # not a value Frontline wrote: a forged or mangled click
        try:
            answer = csat.rate(deps.engine, ticket_id=ticket_id, rating=score, user=clicker(body), now=deps.clock())
        except csat.CsatError as error:
            answer = f":warning: {error}"
        tell_clicker(deps, body, action, answer)

    def ack_now(ack: Ack) -> None:
        ack()

    def open_comment_form(body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ticket_id = parse_id(str(action.get("value", "")))
        if ticket_id is None:
            return
        show_form(deps, client, body, action, csat_comment_modal(ticket_id))

    app.action(csat_blocks.COMMENT)(ack=ack_now, lazy=[open_comment_form])

    @app.view(CSAT_COMMENT)
    def on_comment(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        comment = decode_slack_text(submitted_values(view).get("comment", "")).strip()
        ticket_id = view_metadata(view).get("ticket_id")
        if not comment:
            ack(response_action="errors", errors={"comment": "Write a comment, or close the form."})
            return
        if not isinstance(ticket_id, int) or isinstance(ticket_id, bool) or not 0 < ticket_id < 2**31:
            ack(response_action="errors", errors={"comment": "This form is out of date; close it."})
            return
        try:
            csat.add_comment(deps.engine, ticket_id=ticket_id, comment=comment, user=clicker(body))
        except csat.CsatError as error:
            ack(response_action="errors", errors={"comment": str(error)})
            return
        ack()
