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

# Only what this version handles: a command, shortcut or event Slack sends that no listener answers
# is a 404 to Slack and an error for the person. Later features add their entries here.

# (command, description, usage hint)
SLASH_COMMANDS: tuple[tuple[str, str, str], ...] = (
    (
        "/ticket",
        "Create and look up support tickets",
        "[text with hints: customer:acme P1 users:250 @owner] | show T-42 | help",
    ),
    (
        "/support",
        "The support team's SLA policy, digest and stats",
        "sla | digest | stats [week|month] | health | help",
    ),
    ("/playbook", "Run a support playbook step by step", "list | run <name> [T-42|<title>] | status | help"),
    (
        "/incident",
        "Run an incident in its own channel",
        "start <title> | update <text> | role <role> @user | link T-42 | severity P1 | status | resolve | help",
    ),
)

# (type, callback_id, name (≤ 24 chars), description)
SHORTCUTS: tuple[tuple[str, str, str, str], ...] = (
    ("message", MESSAGE_SHORTCUT_ID, "Create ticket", "Turn this message into a support ticket"),
)

BOT_EVENTS: tuple[tuple[str, str], ...] = (
    (
        "message.channels",
        "top-level posts in public intake channels become tickets; thread replies count as responses",
    ),
    ("message.groups", "the same for private intake channels the bot was invited to"),
    ("message.im", "a DM to the bot becomes a ticket"),
    ("reaction_added", "the :ticket: reaction (intake.ticket_emoji) on any message makes it a ticket"),
    ("app_home_opened", "renders the Home tab: the viewer's queue, the team's at-risk and unassigned tickets"),
    ("subteam_members_changed", "roles may name user groups (S…): who is in them changes at once"),
)

BOT_SCOPES: tuple[tuple[str, str], ...] = (
    ("chat:write", "post ticket cards and acknowledgements in the source thread"),
    ("chat:write.public", "post to public triage and escalation channels without being a member"),
    ("channels:join", "join a public escalation channel to attach a handoff's transcript (files need membership)"),
    ("commands", "the /ticket, /support, /playbook and /incident commands"),
    ("channels:manage", "create each incident's channel (inc-<n>-<slug>) and invite its reporter and role holders"),
    ("channels:history", "read message.channels events in public intake channels"),
    ("groups:history", "read message.groups events in private intake channels"),
    ("im:history", "read message.im events: DMs to the bot"),
    ("files:write", "attach a long ticket's full text and a handoff's transcript in their threads"),
    ("channels:read", "turn channel names in frontline.yaml (#support-triage) into IDs at start-up"),
    ("groups:read", "the same for private channels the bot was invited to"),
    ("reactions:read", "receive reaction_added for the ticket emoji"),
    ("usergroups:read", "roles may name user groups (S…): read their members"),
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
            **_shortcuts(),
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


def _shortcuts() -> dict[str, Any]:
    # Slack's schema wants at least one shortcut when the key is present.
    if not SHORTCUTS:
        return {}
    return {
        "shortcuts": [
            {"name": name, "type": kind, "callback_id": callback_id, "description": description}
            for kind, callback_id, name, description in SHORTCUTS
        ]
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
