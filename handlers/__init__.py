"""Bolt listeners: thin functions that parse a request, call a service and render the answer."""

from __future__ import annotations

from slack_bolt import App

from bot.context import Deps
from handlers import (
    actions,
    bugs,
    commands,
    csat,
    errors,
    escalations,
    events,
    fallback,
    logcontext,
    playbooks,
    shortcuts,
    support,
    surges,
    views,
)

__all__ = ["register_all"]


def register_all(app: App, deps: Deps) -> None:
    logcontext.register(app)
    errors.register(app)
    commands.register(app, deps)
    support.register(app, deps)
    events.register(app, deps)
    actions.register(app, deps)
    shortcuts.register(app, deps)
    views.register(app, deps)
    escalations.register(app, deps)
    bugs.register(app, deps)
    playbooks.register(app, deps)
    csat.register(app, deps)
    surges.register(app, deps)
    fallback.register(app)  # last: only what no listener above took
