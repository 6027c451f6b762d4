"""The Slack app manifest: every command, shortcut, event and scope Frontline uses (SPEC §2).

`frontline manifest` prints it as YAML to paste into api.slack.com/apps. It must validate
against Slack's schema (tests/data/manifest.schema.1.0.0.json). Each scope and event carries the
reason it is asked for; the YAML repeats that reason as a comment, so whoever approves the
install sees why, and anything added here has to say why too.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = [
    "BOT_EVENTS",
    "BOT_SCOPES",
    "GLOBAL_SHORTCUT_ID",
    "MESSAGE_SHORTCUT_ID",
    "SHORTCUTS",
    "SLASH_COMMANDS",
    "build_manifest",
    "manifest_yaml",
]

MESSAGE_SHORTCUT_ID = "create_ticket_from_message"
GLOBAL_SHORTCUT_ID = "new_ticket"

# (command, description, usage hint)
SLASH_COMMANDS: tuple[tuple[str, str, str], ...] = (
    (
        "/ticket",
        "Create and work support tickets",
        "[text] | show|list|take|assign|status|pending|solve|close|reopen|priority|tag|note|link|"
        "escalate|reply|help T-42 …",
    ),
    (
        "/incident",
        "Run an incident: start, update, roles, resolve",
        "start <title> | update <text> | role <role> @user | status | resolve | help",
    ),
    ("/playbook", "List and run support playbooks", "list | run <name> [T-42|<title>] | status | help"),
    (
        "/support",
        "Team digest, stats, health and SLA overview",
        "digest | stats [week|month] | health | sla | help",
    ),
)

# (type, callback_id, name (≤ 24 chars), description)
SHORTCUTS: tuple[tuple[str, str, str, str], ...] = (
    ("message", MESSAGE_SHORTCUT_ID, "Create ticket", "Turn this message into a support ticket"),
    ("global", GLOBAL_SHORTCUT_ID, "New ticket", "Open a support ticket"),
)

BOT_EVENTS: tuple[tuple[str, str], ...] = (
    (
        "message.channels",
        "top-level posts in public intake channels become tickets; thread replies count as responses",
    ),
    ("message.groups", "the same for private intake channels the bot was invited to"),
    ("message.im", "a DM to the bot becomes a ticket; CSAT and nudge replies arrive here"),
    ("reaction_added", "the :ticket: reaction on any message creates a ticket"),
    ("app_home_opened", "renders the Home tab: the user's queue and the team's at-risk tickets"),
    # Not subscribed: app_mention (no feature answers mentions; an unhandled event is a 404 to
    # Slack) and member_joined_channel (nothing in the product reacts to joins).
)

BOT_SCOPES: tuple[tuple[str, str], ...] = (
    ("chat:write", "post ticket cards, thread replies, handoffs, digests; update cards in place"),
    ("chat:write.public", "post to public channels (e.g. escalation tiers) without being a member"),
    ("commands", "the /ticket, /incident, /playbook, /support commands and both shortcuts"),
    ("channels:history", "read message.channels events and a thread's messages in public channels"),
    ("groups:history", "read message.groups events and a thread's messages in private channels"),
    ("im:history", "read message.im events: DMs to the bot"),
    ("channels:read", "resolve #names from frontline.yaml to IDs; channel info for cards and exports"),
    ("groups:read", "resolve and describe private channels the bot is in"),
    ("im:read", "look up the DM conversations the bot is part of (conversations.info on a DM)"),
    ("im:write", "open DMs for SLA nudges, CSAT prompts and escalation pings"),
    ("reactions:read", "receive reaction_added for the :ticket: reaction"),
    ("reactions:write", "mark a source message as ticketed so nobody files it twice"),
    ("users:read", "names and time zones for cards, digests and the Home tab; tell bots from people"),
    ("channels:manage", "create, name, set the topic of and archive incident channels; invite responders"),
    ("groups:write", "invite responders to and manage private incident or escalation channels"),
    ("channels:join", "join a public channel before posting a file there"),
    ("files:write", "upload the stats chart, incident timelines and exports"),
    ("usergroups:read", "expand role entries that are user groups (S…) into their members"),
)


def build_manifest(
    app_name: str = "Frontline",
    request_url: str = "https://example.com/slack/events",
    socket_mode: bool = False,
) -> dict[str, Any]:
    """The manifest as a dict. In Socket Mode Slack rejects request URLs, so none are set."""
    if not 1 <= len(app_name) <= 35:  # Slack's limit for display_information.name
        raise ValueError(f"app name must be 1 to 35 characters (got {len(app_name)})")
    url = None if socket_mode else request_url
    events: dict[str, Any] = {"bot_events": [name for name, _ in BOT_EVENTS]}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if url is not None:
        events = {"request_url": url, **events}
        interactivity["request_url"] = url
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": app_name,
            "description": "Support tickets, SLA clocks, escalations and playbooks where your team works.",
            "background_color": "#1d3557",
        },
        "features": {
            # messages tab writable: a DM to the bot is one of the ways to open a ticket.
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": app_name, "always_online": True},
            "shortcuts": [
                {"name": name, "type": kind, "callback_id": callback_id, "description": description}
                for kind, callback_id, name, description in SHORTCUTS
            ],
            "slash_commands": [
                _slash_command(command, description, hint, url) for command, description, hint in SLASH_COMMANDS
            ],
        },
        "oauth_config": {"scopes": {"bot": [scope for scope, _ in BOT_SCOPES]}},
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }


def _slash_command(command: str, description: str, usage_hint: str, url: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"command": command}
    if url is not None:
        entry["url"] = url
    # should_escape true: Slack sends mentions as <@U123|name>, so "@owner" arrives as a user ID
    # rather than a display name we would have to look up (and could resolve wrongly).
    return {**entry, "description": description, "usage_hint": usage_hint, "should_escape": True}


def manifest_yaml(
    app_name: str = "Frontline",
    request_url: str = "https://example.com/slack/events",
    socket_mode: bool = False,
) -> str:
    """The manifest as YAML, with each scope's and event's reason as a trailing comment."""
    text = yaml.safe_dump(
        build_manifest(app_name, request_url, socket_mode), sort_keys=False, allow_unicode=True, width=1000
    )
    reasons = dict(BOT_SCOPES) | dict(BOT_EVENTS)
    lines = []
    for line in text.splitlines():
        item = line.strip().removeprefix("- ")
        lines.append(f"{line}  # {reasons[item]}" if line.lstrip().startswith("- ") and item in reasons else line)
    return "\n".join(lines) + "\n"
