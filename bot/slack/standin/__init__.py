"""A local stand-in for Slack's Web API that slack_sdk talks to exactly as it talks to Slack.

A loopback HTTP server (stdlib only) holding a small workspace in memory: users, channels, messages,
threads, ephemerals, views and files. It answers with Slack's response shapes and errors, validates
Block Kit as Slack does, and can inject 429/5xx failures. It powers `frontline demo` and the tests.
"""

from __future__ import annotations

# Modules import one another in one direction only (each imports only modules listed above it):
#   calls, seed, timestamps      the basics: JSON, call arguments and errors; identity and seed data; ts
#   blockkit, records, specs     Block Kit validation and limits; stored records; the method table
#   workspace                    the in-memory workspace and its rules
#   methods, render, transport   Web API handlers; readable text; HTTP plumbing and argument parsing
#   server                       SlackStandIn, which wires them together
from bot.slack.standin.blockkit import DM_LIMIT_USERS as DM_LIMIT_USERS
from bot.slack.standin.blockkit import MAX_MESSAGE_BLOCKS as MAX_MESSAGE_BLOCKS
from bot.slack.standin.blockkit import MAX_VIEW_BLOCKS as MAX_VIEW_BLOCKS
from bot.slack.standin.blockkit import MESSAGE_TEXT_LIMIT as MESSAGE_TEXT_LIMIT
from bot.slack.standin.blockkit import UPDATE_TEXT_LIMIT as UPDATE_TEXT_LIMIT
from bot.slack.standin.blockkit import VIEW_SIZE_LIMIT as VIEW_SIZE_LIMIT
from bot.slack.standin.blockkit import validate_blocks, validate_view
from bot.slack.standin.calls import JSON as JSON
from bot.slack.standin.calls import RecordedCall
from bot.slack.standin.calls import T as T
from bot.slack.standin.methods import _HANDLERS as _HANDLERS  # the method table test compares it with METHOD_SPECS
from bot.slack.standin.render import render_message
from bot.slack.standin.seed import (
    APP_ID,
    BOT_ID,
    BOT_NAME,
    BOT_USER_ID,
    SEED_CHANNELS,
    SEED_USERS,
    TEAM_DOMAIN,
    TEAM_ID,
    TEAM_NAME,
    SeedUser,
)
from bot.slack.standin.seed import BOT_REAL_NAME as BOT_REAL_NAME
from bot.slack.standin.server import SlackStandIn
from bot.slack.standin.specs import METHOD_SPECS as METHOD_SPECS

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_NAME",
    "BOT_USER_ID",
    "SEED_CHANNELS",
    "SEED_USERS",
    "TEAM_DOMAIN",
    "TEAM_ID",
    "TEAM_NAME",
    "RecordedCall",
    "SeedUser",
    "SlackStandIn",
    "render_message",
    "validate_blocks",
    "validate_view",
]
