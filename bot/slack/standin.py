"""A local stand-in for Slack's Web API that slack_sdk talks to exactly as it talks to Slack.

A loopback HTTP server (stdlib only) holding a small workspace in memory: users, channels, messages,
threads, ephemerals, views and files. It answers with Slack's response shapes and errors, validates
Block Kit as Slack does, and can inject 429/5xx failures. It powers `frontline demo` and the tests.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import mimetypes
import random
import re
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.parser import BytesParser
from email.policy import HTTP as HTTP_POLICY
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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

JSON = dict[str, Any]
T = TypeVar("T")

# --- the default workspace -------------------------------------------------------------------------

TEAM_ID = "T_FRONTLINE"
TEAM_NAME = "Frontline Demo"
TEAM_DOMAIN = "frontline-demo"
BOT_USER_ID = "U_FRONTLINE"
BOT_ID = "B_FRONTLINE"
APP_ID = "A_FRONTLINE"
BOT_NAME = "frontline"
BOT_REAL_NAME = "Frontline"


@dataclass(frozen=True)
class SeedUser:
    """A person the default workspace starts with."""

    user_id: str
    name: str
    real_name: str
    tz: str
    email: str
    title: str = ""
    is_admin: bool = False


SEED_USERS: tuple[SeedUser, ...] = (
    SeedUser("U_REQUESTER", "jordan.kim", "Jordan Kim", "America/Chicago", "jordan.kim@acme.example.com",
             "Operations Manager, Acme"),
    SeedUser("U_AGENT1", "alex.rivera", "Alex Rivera", "America/New_York", "alex.rivera@frontline.example.com",
             "Support Engineer"),
    SeedUser("U_AGENT2", "priya.natarajan", "Priya Natarajan", "Europe/London",
             "priya.natarajan@frontline.example.com", "Senior Support Engineer (L2)"),
    SeedUser("U_LEAD", "sam.okafor", "Sam Okafor", "America/New_York", "sam.okafor@frontline.example.com",
             "Support Lead"),
    SeedUser("U_ENG", "mei.chen", "Mei Chen", "America/Los_Angeles", "mei.chen@frontline.example.com",
             "Software Engineer (L3)"),
    SeedUser("U_ADMIN", "dana.whitfield", "Dana Whitfield", "America/Denver", "dana.whitfield@frontline.example.com",
             "IT Administrator", is_admin=True),
)

SEED_CHANNELS: tuple[tuple[str, str], ...] = (
    ("C_TRIAGE", "support-triage"),
    ("C_HELP", "help"),
    ("C_L2", "support-l2"),
    ("C_L3", "support-l3"),
    ("C_MGMT", "support-mgmt"),
    ("C_INCIDENTS", "incidents"),
    ("C_SOCIAL", "social"),
    ("C_STANDUP", "support-standup"),
)

# --- limits (../shared/slack/blockkit-limits.md) ---------------------------------------------------

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MESSAGE_TEXT_LIMIT = 40_000  # longer `text` is truncated and posted with warning message_truncated
UPDATE_TEXT_LIMIT = 4_000  # chat.update documents msg_too_long past this
VIEW_SIZE_LIMIT = 250_000
DM_LIMIT_USERS = 8

# --- method table (from ../shared/slack/methods.json; `token` travels in the Authorization header) ----


@dataclass(frozen=True)
class _MethodSpec:
    required: tuple[str, ...]
    one_of: tuple[tuple[str, ...], ...] = ()


# Embedded rather than read at run time because the stand-in ships with the product; a unit test checks
# this table against methods.json so the two cannot drift apart.
METHOD_SPECS: dict[str, _MethodSpec] = {
    "auth.test": _MethodSpec(required=()),
    "chat.postMessage": _MethodSpec(("channel",), (("attachments", "blocks", "markdown_text", "text"),)),
    "chat.update": _MethodSpec(("channel", "ts"), (("attachments", "blocks", "markdown_text", "text"),)),
    "chat.postEphemeral": _MethodSpec(("channel", "user"), (("attachments", "blocks", "markdown_text", "text"),)),
    "chat.getPermalink": _MethodSpec(("channel", "message_ts")),
    "chat.delete": _MethodSpec(("channel", "ts")),
    "conversations.info": _MethodSpec(("channel",)),
    "conversations.list": _MethodSpec(()),
    "conversations.create": _MethodSpec(("name",)),
    "conversations.join": _MethodSpec(("channel",)),
    "conversations.invite": _MethodSpec(("channel", "users")),
    "conversations.members": _MethodSpec(("channel",)),
    "conversations.open": _MethodSpec((), (("channel", "users"),)),
    "conversations.history": _MethodSpec(("channel",)),
    "conversations.replies": _MethodSpec(("channel", "ts")),
    "conversations.archive": _MethodSpec(("channel",)),
    "users.info": _MethodSpec(("user",)),
    "users.lookupByEmail": _MethodSpec(("email",)),
    "views.open": _MethodSpec(("view",), (("interactivity_pointer", "trigger_id"),)),
    "views.update": _MethodSpec(("view",), (("external_id", "view_id"),)),
    "views.push": _MethodSpec(("view",), (("interactivity_pointer", "trigger_id"),)),
    "views.publish": _MethodSpec(("user_id", "view")),
    "reactions.add": _MethodSpec(("channel", "name", "timestamp")),
    "reactions.remove": _MethodSpec(("name",)),
    "files.getUploadURLExternal": _MethodSpec(("filename", "length")),
    "files.completeUploadExternal": _MethodSpec(("files",)),
}

# The error Slack gives when none of a `one_of` group is sent; `invalid_arguments` otherwise.
_ONE_OF_ERRORS = {
    "chat.postMessage": "no_text",
    "chat.update": "no_text",
    "chat.postEphemeral": "no_text",
    "conversations.open": "users_list_not_supplied",
}

# Form values that carry JSON and are decoded before a handler sees them.
_JSON_ARGS = frozenset({"blocks", "attachments", "view", "files", "metadata", "unfurled_attachments"})

_FAILURE_STATUS = {"429": 429, "500": 500, "502": 502, "503": 503, "504": 504}
_FAILURE_ERRORS = {429: "ratelimited", 500: "internal_error", 502: "bad_gateway", 503: "service_unavailable",
                   504: "request_timeout"}


# --- public record of calls --------------------------------------------------------------------------


@dataclass
class RecordedCall:
    """One request the stand-in answered: Web API method (or `upload` / `response_url`), args, answer."""

    method: str
    args: dict[str, Any]
    status: int
    response: dict[str, Any]
    at: float


class _ApiError(Exception):
    """A Slack `{"ok": false, "error": ...}` answer raised from inside a handler."""

    def __init__(self, error: str, *messages: str, warning: str | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages
        self.warning = warning

    def payload(self) -> JSON:
        body: JSON = {"ok": False, "error": self.error}
        if self.warning:
            body["warning"] = self.warning
        if self.messages:
            body["response_metadata"] = {"messages": list(self.messages)}
        return body


# --- Block Kit validation ----------------------------------------------------------------------------


class _Checker:
    """Collects Block Kit problems worded as Slack words them: `[ERROR] … [json-pointer:/blocks/0/…]`."""

    def __init__(self, scope: str) -> None:
        self.scope = scope  # "message" or "view": where block_ids must be unique
        self.errors: list[str] = []

    def fail(self, pointer: str, problem: str) -> None:
        self.errors.append(f"[ERROR] {problem} [json-pointer:{pointer}]")

    def _get(self, parent: JSON, key: str, base: str, required: bool) -> tuple[Any, str]:
        value = parent.get(key)
        if value is None and required:
            self.fail(base, f"missing required field: {key}")
        return value, f"{base}/{key}"

    def string(self, parent: JSON, key: str, base: str, *, hi: int, lo: int = 0, required: bool = False) -> None:
        value, ptr = self._get(parent, key, base, required)
        if value is None:
            return
        if not isinstance(value, str):
            self.fail(ptr, "must be a string")
        elif len(value) < lo:
            self.fail(ptr, f"must be more than {lo - 1} characters")
        elif len(value) > hi:
            self.fail(ptr, f"must be less than {hi + 1} characters")

    def number(self, parent: JSON, key: str, base: str, *, lo: int, hi: int) -> None:
        value, ptr = self._get(parent, key, base, False)
        if value is None:
            return
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            self.fail(ptr, f"must be an integer between {lo} and {hi}")

    def text_value(self, value: Any, ptr: str, *, hi: int = 3000, plain: bool = False) -> None:
        if not isinstance(value, dict):
            self.fail(ptr, "must provide an object")
            return
        kind = value.get("type")
        allowed = ("plain_text",) if plain else ("plain_text", "mrkdwn")
        if kind not in allowed:
            self.fail(f"{ptr}/type", f"must be one of [{', '.join(allowed)}]")
        self.string(value, "text", ptr, lo=1, hi=hi, required=True)
        if "emoji" in value and kind != "plain_text":
            self.fail(f"{ptr}/emoji", "emoji is only allowed on plain_text")
        if "verbatim" in value and kind != "mrkdwn":
            self.fail(f"{ptr}/verbatim", "verbatim is only allowed on mrkdwn")

    def text(self, parent: JSON, key: str, base: str, *, hi: int = 3000, plain: bool = False,
             required: bool = False) -> None:
        value, ptr = self._get(parent, key, base, required)
        if value is not None:
            self.text_value(value, ptr, hi=hi, plain=plain)

    def items(self, parent: JSON, key: str, base: str, *, hi: int, lo: int = 0,
              required: bool = False) -> list[tuple[Any, str]]:
        value, ptr = self._get(parent, key, base, required)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(ptr, "must provide an array")
            return []
        if len(value) > hi:
            self.fail(ptr, f"no more than {hi} items allowed")
        elif len(value) < lo:
            self.fail(ptr, f"must provide at least {lo} items")
        return [(item, f"{ptr}/{index}") for index, item in enumerate(value)]

    # blocks

    def blocks(self, blocks: list[Any], base: str, *, max_blocks: int) -> None:
        if len(blocks) > max_blocks:
            self.fail(base, f"no more than {max_blocks} items allowed")
        seen: set[str] = set()
        for index, block in enumerate(blocks):
            ptr = f"{base}/{index}"
            if not isinstance(block, dict):
                self.fail(ptr, "must provide an object")
                continue
            self._block_id(block, ptr, seen)
            check = _BLOCK_CHECKS.get(str(block.get("type")))
            if check is None:
                self.fail(ptr, f"unsupported block type: {block.get('type')}")
            else:
                check(self, block, ptr)

    def _block_id(self, block: JSON, ptr: str, seen: set[str]) -> None:
        self.string(block, "block_id", ptr, hi=255)
        block_id = block.get("block_id")
        if isinstance(block_id, str):
            if block_id in seen:
                self.fail(f"{ptr}/block_id", f"duplicate block_id {block_id!r}: must be unique in the {self.scope}")
            seen.add(block_id)

    def section(self, block: JSON, ptr: str) -> None:
        if block.get("text") is None and block.get("fields") is None:
            self.fail(ptr, "must provide either text or fields")
        self.text(block, "text", ptr, hi=3000)
        for item, item_ptr in self.items(block, "fields", ptr, hi=10):
            self.text_value(item, item_ptr, hi=2000)
        if block.get("accessory") is not None:
            self.element(block["accessory"], f"{ptr}/accessory")

    def header(self, block: JSON, ptr: str) -> None:
        self.text(block, "text", ptr, hi=150, plain=True, required=True)

    def context(self, block: JSON, ptr: str) -> None:
        for item, item_ptr in self.items(block, "elements", ptr, hi=10, lo=1, required=True):
            if isinstance(item, dict) and item.get("type") == "image":
                self.image_element(item, item_ptr)
            else:
                self.text_value(item, item_ptr)

    def actions(self, block: JSON, ptr: str) -> None:
        action_ids: set[str] = set()
        for item, item_ptr in self.items(block, "elements", ptr, hi=25, lo=1, required=True):
            self.element(item, item_ptr)
            action_id = item.get("action_id") if isinstance(item, dict) else None
            if isinstance(action_id, str):
                if action_id in action_ids:
                    self.fail(f"{item_ptr}/action_id", f"duplicate action_id {action_id!r} in block")
                action_ids.add(action_id)

    def input(self, block: JSON, ptr: str) -> None:
        self.text(block, "label", ptr, hi=2000, plain=True, required=True)
        self.text(block, "hint", ptr, hi=2000, plain=True)
        element, element_ptr = self._get(block, "element", ptr, True)
        if element is not None:
            self.element(element, element_ptr)

    def image_block(self, block: JSON, ptr: str) -> None:
        self.image_element(block, ptr)
        self.text(block, "title", ptr, hi=2000, plain=True)

    def markdown(self, block: JSON, ptr: str) -> None:
        self.string(block, "text", ptr, lo=1, hi=12_000, required=True)

    def rich_text(self, block: JSON, ptr: str) -> None:
        self.items(block, "elements", ptr, hi=10_000, required=True)

    def anything(self, block: JSON, ptr: str) -> None:
        """Block types a support bot does not build; accepted as long as they are objects."""

    # elements

    def element(self, value: Any, ptr: str) -> None:
        if not isinstance(value, dict):
            self.fail(ptr, "must provide an object")
            return
        check = _ELEMENT_CHECKS.get(str(value.get("type")))
        if check is None:
            self.fail(ptr, f"unsupported element type: {value.get('type')}")
            return
        self.string(value, "action_id", ptr, hi=255)
        check(self, value, ptr)

    def button(self, value: JSON, ptr: str) -> None:
        self.text(value, "text", ptr, hi=75, plain=True, required=True)
        self.string(value, "value", ptr, hi=2000)
        self.string(value, "url", ptr, hi=3000)
        if value.get("style") not in (None, "primary", "danger"):
            self.fail(f"{ptr}/style", "must be one of [primary, danger]")
        self.confirm(value, ptr)

    def static_select(self, value: JSON, ptr: str) -> None:
        self.text(value, "placeholder", ptr, hi=150, plain=True)
        if value.get("options") is None and value.get("option_groups") is None:
            self.fail(ptr, "must provide either options or option_groups")
        options = self.option_list(value, "options", ptr, hi=100, plain=True)
        for group, group_ptr in self.items(value, "option_groups", ptr, hi=100):
            if isinstance(group, dict):
                self.text(group, "label", group_ptr, hi=75, plain=True, required=True)
                options += self.option_list(group, "options", group_ptr, hi=100, plain=True)
        self.initial_options(value, ptr, options)
        self.confirm(value, ptr)

    def overflow(self, value: JSON, ptr: str) -> None:
        self.option_list(value, "options", ptr, hi=5, lo=1, plain=True, required=True, url_ok=True)
        self.confirm(value, ptr)

    def choices(self, value: JSON, ptr: str) -> None:
        """checkboxes and radio_buttons: up to 10 options, which may use mrkdwn."""
        options = self.option_list(value, "options", ptr, hi=10, lo=1, plain=False, required=True)
        self.initial_options(value, ptr, options)
        self.confirm(value, ptr)

    def plain_text_input(self, value: JSON, ptr: str) -> None:
        self.text(value, "placeholder", ptr, hi=150, plain=True)
        self.number(value, "min_length", ptr, lo=0, hi=3000)
        self.number(value, "max_length", ptr, lo=1, hi=3000)

    def picker(self, value: JSON, ptr: str) -> None:
        """Selects and pickers whose options come from Slack (users, channels, dates…)."""
        self.text(value, "placeholder", ptr, hi=150, plain=True)
        self.confirm(value, ptr)

    def image_element(self, value: JSON, ptr: str) -> None:
        if value.get("image_url") is None and value.get("slack_file") is None:
            self.fail(ptr, "must provide either image_url or slack_file")
        self.string(value, "image_url", ptr, hi=3000)
        self.string(value, "alt_text", ptr, hi=2000, required=True)

    def free_element(self, value: JSON, ptr: str) -> None:
        """Elements with nothing a bot commonly gets wrong (file_input, rich_text_input, …)."""

    # composition objects

    def option_list(self, parent: JSON, key: str, base: str, *, hi: int, lo: int = 0, plain: bool,
                    required: bool = False, url_ok: bool = False) -> list[Any]:
        options = self.items(parent, key, base, hi=hi, lo=lo, required=required)
        for option, option_ptr in options:
            self.option(option, option_ptr, plain=plain, url_ok=url_ok)
        return [option for option, _ in options]

    def option(self, value: Any, ptr: str, *, plain: bool, url_ok: bool) -> None:
        if not isinstance(value, dict):
            self.fail(ptr, "must provide an object")
            return
        self.text(value, "text", ptr, hi=75, plain=plain, required=True)
        self.string(value, "value", ptr, hi=150, required=True)
        self.text(value, "description", ptr, hi=75, plain=plain)
        if url_ok:
            self.string(value, "url", ptr, hi=3000)

    def initial_options(self, value: JSON, ptr: str, options: list[Any]) -> None:
        if value.get("initial_option") is not None and value["initial_option"] not in options:
            self.fail(f"{ptr}/initial_option", "must exactly match one of the options")
        for chosen, chosen_ptr in self.items(value, "initial_options", ptr, hi=100):
            if chosen not in options:
                self.fail(chosen_ptr, "must exactly match one of the options")

    def confirm(self, parent: JSON, base: str) -> None:
        dialog, ptr = self._get(parent, "confirm", base, False)
        if dialog is None:
            return
        if not isinstance(dialog, dict):
            self.fail(ptr, "must provide an object")
            return
        self.text(dialog, "title", ptr, hi=100, plain=True, required=True)
        self.text(dialog, "text", ptr, hi=300, required=True)
        self.text(dialog, "confirm", ptr, hi=30, plain=True, required=True)
        self.text(dialog, "deny", ptr, hi=30, plain=True, required=True)


_Check = Callable[[_Checker, JSON, str], None]

_BLOCK_CHECKS: dict[str, _Check] = {
    "section": _Checker.section,
    "header": _Checker.header,
    "context": _Checker.context,
    "actions": _Checker.actions,
    "input": _Checker.input,
    "image": _Checker.image_block,
    "markdown": _Checker.markdown,
    "rich_text": _Checker.rich_text,
    "divider": _Checker.anything,
    "file": _Checker.anything,
    "video": _Checker.anything,
    "call": _Checker.anything,
    "table": _Checker.anything,
    "context_actions": _Checker.anything,
}

_ELEMENT_CHECKS: dict[str, _Check] = {
    "button": _Checker.button,
    "static_select": _Checker.static_select,
    "multi_static_select": _Checker.static_select,
    "overflow": _Checker.overflow,
    "checkboxes": _Checker.choices,
    "radio_buttons": _Checker.choices,
    "plain_text_input": _Checker.plain_text_input,
    "image": _Checker.image_element,
    **{
        kind: _Checker.picker
        for kind in (
            "users_select", "multi_users_select", "conversations_select", "multi_conversations_select",
            "channels_select", "multi_channels_select", "external_select", "multi_external_select",
            "datepicker", "timepicker", "datetimepicker", "email_text_input", "url_text_input", "number_input",
        )
    },
    **{kind: _Checker.free_element for kind in ("rich_text_input", "file_input", "workflow_button")},
}


def validate_blocks(blocks: list[Any], *, pointer: str = "/blocks", max_blocks: int = MAX_MESSAGE_BLOCKS,
                    scope: str = "message") -> list[str]:
    """Slack's complaints about `blocks` (empty when valid), as in `response_metadata.messages`."""
    checker = _Checker(scope)
    checker.blocks(blocks, pointer, max_blocks=max_blocks)
    return checker.errors


def validate_view(view: Any, *, surfaces: Sequence[str] = ("modal",)) -> list[str]:
    """Slack's complaints about a modal or Home tab view (empty when valid)."""
    checker = _Checker("view")
    base = "/view"
    if not isinstance(view, dict):
        checker.fail(base, "must provide an object")
        return checker.errors
    if view.get("type") not in surfaces:
        checker.fail(f"{base}/type", f"must be one of [{', '.join(surfaces)}]")
    if view.get("type") == "modal":
        _check_modal_chrome(checker, view, base)
    blocks, blocks_ptr = checker._get(view, "blocks", base, True)
    if isinstance(blocks, list):
        checker.blocks(blocks, blocks_ptr, max_blocks=MAX_VIEW_BLOCKS)
    elif blocks is not None:
        checker.fail(blocks_ptr, "must provide an array")
    checker.string(view, "private_metadata", base, hi=3000)
    checker.string(view, "callback_id", base, hi=255)
    checker.string(view, "external_id", base, hi=255)
    return checker.errors


def _check_modal_chrome(checker: _Checker, view: JSON, base: str) -> None:
    checker.text(view, "title", base, hi=24, plain=True, required=True)
    checker.text(view, "submit", base, hi=24, plain=True)
    checker.text(view, "close", base, hi=24, plain=True)
    blocks = view.get("blocks")
    has_input = isinstance(blocks, list) and any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
    if has_input and view.get("submit") is None:
        checker.fail(base, "must provide a submit property when using input blocks")


# --- small helpers -----------------------------------------------------------------------------------

_TS_PATTERN = re.compile(r"^(\d{1,12})(?:\.(\d{1,6}))?$")
_CHANNEL_NAME_OK = re.compile(r"^[\w-]+$")
_EMOJI_NAME_OK = re.compile(r"^[a-z0-9_+'\-]+(::skin-tone-[2-6])?$")
_TZ_LABELS = {
    "EST": "Eastern Standard Time", "EDT": "Eastern Daylight Time", "CST": "Central Standard Time",
    "CDT": "Central Daylight Time", "MST": "Mountain Standard Time", "MDT": "Mountain Daylight Time",
    "PST": "Pacific Standard Time", "PDT": "Pacific Daylight Time", "GMT": "Greenwich Mean Time",
    "BST": "British Summer Time", "CET": "Central European Time", "CEST": "Central European Summer Time",
    "UTC": "Coordinated Universal Time",
}


def _format_ts(micros: int) -> str:
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def _ts_micros(ts: str) -> int | None:
    match = _TS_PATTERN.match(ts)
    if match is None:
        return None
    return int(match.group(1)) * 1_000_000 + int((match.group(2) or "0").ljust(6, "0"))


def _clone(value: T) -> T:
    return copy.deepcopy(value)


def _id_list(value: Any) -> list[str]:
    """`users` arrive as "U1,U2" (form) or a JSON list."""
    if isinstance(value, list):
        return [str(item).strip() for item in value if str(item).strip()]
    return [part.strip() for part in str(value or "").split(",") if part.strip()]


def _tz_details(tz: str) -> tuple[int, str]:
    now = datetime.now(ZoneInfo(tz))
    offset = now.utcoffset()
    abbreviation = now.tzname() or tz
    return int(offset.total_seconds()) if offset else 0, _TZ_LABELS.get(abbreviation, abbreviation)


def _encode_cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _decode_cursor(cursor: str) -> int:
    try:
        kind, _, number = base64.b64decode(cursor.encode(), validate=True).decode().partition(":")
        if kind == "offset" and number.isdigit():
            return int(number)
    except ValueError:
        pass
    raise _ApiError("invalid_cursor")


class _Args:
    """Typed access to a call's arguments, which arrive as strings (form) or JSON values."""

    def __init__(self, raw: JSON) -> None:
        self.raw = raw

    def has(self, key: str) -> bool:
        value = self.raw.get(key)
        return value is not None and value not in ("", [])

    def text_of(self, key: str, default: str = "") -> str:
        value = self.raw.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return "true" if value else "false"
        return value if isinstance(value, str) else str(value)

    def flag(self, key: str) -> bool:
        value = self.raw.get(key)
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in {"1", "true", "yes"}

    def number(self, key: str, default: int) -> int:
        value = self.raw.get(key)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise _ApiError("invalid_arguments", f"[ERROR] {key} must be an integer") from None


def _page(items: list[T], args: _Args, *, default_limit: int, max_limit: int = 1000) -> tuple[list[T], str]:
    """Cursor pagination as Slack does it: an opaque `next_cursor`, empty on the last page."""
    limit = args.number("limit", default_limit)
    if limit <= 0:
        limit = default_limit
    limit = min(limit, max_limit)
    offset = _decode_cursor(args.text_of("cursor")) if args.has("cursor") else 0
    end = offset + limit
    return items[offset:end], _encode_cursor(end) if end < len(items) else ""


# --- workspace state ---------------------------------------------------------------------------------


@dataclass
class _User:
    id: str
    name: str
    real_name: str
    tz: str
    is_bot: bool = False
    email: str | None = None
    title: str = ""
    is_admin: bool = False
    updated: int = field(default_factory=lambda: int(time.time()))


@dataclass
class _Channel:
    id: str
    name: str
    created: int
    creator: str
    is_private: bool = False
    is_im: bool = False
    is_mpim: bool = False
    im_user: str | None = None
    is_archived: bool = False
    members: dict[str, None] = field(default_factory=dict)  # an ordered set
    messages: list[JSON] = field(default_factory=list)  # top-level messages, oldest first
    replies: dict[str, list[JSON]] = field(default_factory=dict)  # parent ts -> replies, oldest first
    by_ts: dict[str, JSON] = field(default_factory=dict)  # every message, top-level or reply
    parent_of: dict[str, str] = field(default_factory=dict)  # reply ts -> parent ts


@dataclass
class _File:
    id: str
    name: str
    length: int
    alt_txt: str = ""
    data: bytes | None = None
    info: JSON | None = None  # the file object once completeUploadExternal has run


class _Workspace:
    """The in-memory workspace and the Web API methods that read and change it; callers hold the lock."""

    def __init__(self, *, base_url: Callable[[], str], chat_write_public: bool, rng: random.Random) -> None:
        self.base_url = base_url
        self.chat_write_public = chat_write_public
        self._rng = rng  # ids and hashes; separate from the failure-injection generator
        self._last_ts = 0
        self._counter = 0
        self.users: dict[str, _User] = {}
        self.channels: dict[str, _Channel] = {}
        self.ephemerals: list[JSON] = []
        self.views: dict[str, JSON] = {}
        self.home_views: dict[str, str] = {}  # user id -> view id
        self.files: dict[str, _File] = {}
        self.used_triggers: set[str] = set()

    # ids, clocks

    def next_ts(self) -> str:
        """Slack message ts: the real clock in microseconds, forced strictly increasing."""
        self._last_ts = max(time.time_ns() // 1000, self._last_ts + 1)
        return _format_ts(self._last_ts)

    def new_id(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter:09d}"

    def _random_token(self, length: int) -> str:
        alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        return "".join(self._rng.choice(alphabet) for _ in range(length))

    def _new_hash(self) -> str:
        return f"{int(time.time())}.{self._rng.getrandbits(32):08x}"

    # seeding

    def seed(self) -> None:
        self.add_user(BOT_USER_ID, BOT_NAME, real_name=BOT_REAL_NAME, tz="America/New_York", is_bot=True)
        for person in SEED_USERS:
            self.add_user(person.user_id, person.name, real_name=person.real_name, tz=person.tz,
                          email=person.email, title=person.title, is_admin=person.is_admin)
        for channel_id, name in SEED_CHANNELS:
            self.add_channel(channel_id, name)

    def add_user(self, user_id: str, name: str, *, real_name: str, tz: str, is_bot: bool = False,
                 email: str | None = None, title: str = "", is_admin: bool = False,
                 channels: Sequence[str] | None = None) -> None:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {tz!r} for user {user_id}") from None
        self.users[user_id] = _User(user_id, name, real_name, tz, is_bot, email, title, is_admin)
        if is_bot:
            return
        targets = [self.channel_by_ref(ref) for ref in channels] if channels is not None else [
            ch for ch in self.channels.values() if not (ch.is_private or ch.is_im or ch.is_mpim)
        ]
        for channel in targets:
            channel.members[user_id] = None

    def add_channel(self, channel_id: str, name: str, *, is_private: bool = False, bot_member: bool = True,
                    members: Sequence[str] | None = None) -> None:
        humans = [u.id for u in self.users.values() if not u.is_bot] if members is None else list(members)
        channel = _Channel(channel_id, name, int(time.time()), BOT_USER_ID, is_private=is_private)
        channel.members = dict.fromkeys(([BOT_USER_ID] if bot_member else []) + humans)
        self.channels[channel_id] = channel

    # channel lookup and access rules

    def channel_by_ref(self, ref: str) -> _Channel:
        """A channel by ID, `#name` or bare name; KeyError if there is none."""
        if ref in self.channels:
            return self.channels[ref]
        name = ref[1:] if ref.startswith("#") else ref
        for channel in self.channels.values():
            if channel.name == name and not channel.is_im:
                return channel
        raise KeyError(ref)

    def dm_with(self, user_id: str) -> _Channel | None:
        return next((ch for ch in self.channels.values() if ch.is_im and ch.im_user == user_id), None)

    def visible(self, channel: _Channel) -> bool:
        hidden = channel.is_private or channel.is_im or channel.is_mpim
        return not hidden or BOT_USER_ID in channel.members

    def readable(self, ref: str, *, allow_user: bool = False) -> _Channel:
        """The channel if the bot can see it; Slack hides private channels the bot is not in."""
        if allow_user and ref in self.users and ref not in self.channels:
            return self.dm_with(ref) or self.open_dm(ref)
        try:
            channel = self.channel_by_ref(ref)
        except KeyError:
            raise _ApiError("channel_not_found") from None
        if not self.visible(channel):
            raise _ApiError("channel_not_found")
        return channel

    def member(self, ref: str) -> _Channel:
        channel = self.readable(ref)
        if BOT_USER_ID not in channel.members:
            raise _ApiError("not_in_channel")
        return channel

    def writable(self, ref: str, *, allow_user: bool = False) -> _Channel:
        """Where the bot may post: a member, or any public channel with chat:write.public."""
        channel = self.readable(ref, allow_user=allow_user)
        public = not (channel.is_private or channel.is_im or channel.is_mpim)
        if BOT_USER_ID not in channel.members and not (public and self.chat_write_public):
            raise _ApiError("not_in_channel")
        if channel.is_archived:
            raise _ApiError("is_archived")
        return channel

    def open_dm(self, user_id: str) -> _Channel:
        channel = _Channel(self.new_id("D"), user_id, int(time.time()), BOT_USER_ID, is_im=True, im_user=user_id)
        channel.members = dict.fromkeys([BOT_USER_ID, user_id])
        self.channels[channel.id] = channel
        return channel

    # object shapes

    def channel_object(self, channel: _Channel, *, num_members: bool = False) -> JSON:
        if channel.is_im:
            return {
                "id": channel.id, "created": channel.created, "is_archived": channel.is_archived, "is_im": True,
                "is_org_shared": False, "context_team_id": TEAM_ID, "updated": channel.created * 1000,
                "user": channel.im_user, "is_user_deleted": False, "priority": 0,
            }
        obj: JSON = {
            "id": channel.id, "name": channel.name, "is_channel": not channel.is_mpim, "is_group": False,
            "is_im": False, "is_mpim": channel.is_mpim, "is_private": channel.is_private or channel.is_mpim,
            "created": channel.created, "is_archived": channel.is_archived, "is_general": False, "unlinked": 0,
            "name_normalized": channel.name, "is_shared": False, "is_org_shared": False,
            "is_pending_ext_shared": False, "pending_shared": [], "context_team_id": TEAM_ID,
            "updated": channel.created * 1000, "parent_conversation": None, "creator": channel.creator,
            "is_ext_shared": False, "shared_team_ids": [TEAM_ID], "pending_connected_team_ids": [],
            "is_member": BOT_USER_ID in channel.members,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0}, "previous_names": [],
        }
        if num_members:
            obj["num_members"] = len(channel.members)
        return obj

    def user_object(self, user: _User) -> JSON:
        tz_offset, tz_label = _tz_details(user.tz)
        first, _, last = user.real_name.partition(" ")
        avatar = f"https://avatars.slack-edge.example/{user.id.lower()}"
        profile: JSON = {
            "title": user.title, "phone": "", "skype": "", "real_name": user.real_name,
            "real_name_normalized": user.real_name, "display_name": "" if user.is_bot else user.name,
            "display_name_normalized": "" if user.is_bot else user.name, "fields": None, "status_text": "",
            "status_emoji": "", "status_emoji_display_info": [], "status_expiration": 0,
            "avatar_hash": f"g{abs(hash(user.id)) % 16**11:011x}", "first_name": first, "last_name": last,
            **{f"image_{size}": f"{avatar}_{size}.png" for size in (24, 32, 48, 72, 192, 512)},
            "status_text_canonical": "", "team": TEAM_ID,
        }
        if user.is_bot:
            profile.update({"bot_id": BOT_ID, "api_app_id": APP_ID, "always_active": True})
        elif user.email:
            profile["email"] = user.email
        return {
            "id": user.id, "team_id": TEAM_ID, "name": user.name, "deleted": False, "color": "9f69e7",
            "real_name": user.real_name, "tz": user.tz, "tz_label": tz_label, "tz_offset": tz_offset,
            "profile": profile, "is_admin": user.is_admin, "is_owner": False, "is_primary_owner": False,
            "is_restricted": False, "is_ultra_restricted": False, "is_bot": user.is_bot,
            "is_app_user": False, "updated": user.updated, "is_email_confirmed": not user.is_bot,
            "who_can_share_contact_card": "EVERYONE",
        }

    def _bot_profile(self) -> JSON:
        return {"id": BOT_ID, "app_id": APP_ID, "name": BOT_REAL_NAME, "icons": {}, "deleted": False,
                "updated": 0, "team_id": TEAM_ID}

    def bot_message(self, ts: str, content: JSON) -> JSON:
        message: JSON = {"user": BOT_USER_ID, "type": "message", "ts": ts, "bot_id": BOT_ID, "app_id": APP_ID,
                         "text": "", "team": TEAM_ID, "bot_profile": self._bot_profile()}
        return self.apply_content(message, content)

    # message content shared by postMessage, postEphemeral, update and response_url

    def checked_blocks(self, value: Any, *, error: str = "invalid_blocks") -> list[JSON]:
        if not isinstance(value, list):
            raise _ApiError("invalid_blocks_format")
        problems = validate_blocks(value)
        if problems:
            raise _ApiError(error, *problems)
        return self.with_block_ids(value)

    def with_block_ids(self, blocks: list[JSON]) -> list[JSON]:
        """Slack gives every block without a block_id a random one."""
        stamped = _clone(blocks)
        for block in stamped:
            block.setdefault("block_id", self._random_token(5))
        return stamped

    def message_content(self, args: _Args, *, text_limit: int, truncate: bool) -> tuple[JSON, list[str]]:
        """The text/blocks/attachments/metadata of a message, validated; plus any warnings."""
        if args.has("markdown_text") and (args.has("text") or args.has("blocks")):
            raise _ApiError("markdown_text_conflict")
        content: JSON = {}
        warnings: list[str] = []
        if args.raw.get("blocks") not in (None, ""):  # an empty array is meaningful: chat.update drops blocks
            content["blocks"] = self.checked_blocks(args.raw["blocks"])
        if args.has("attachments"):
            if not isinstance(args.raw["attachments"], list):
                raise _ApiError("invalid_attachments")
            content["attachments"] = _clone(args.raw["attachments"])
        if args.has("markdown_text"):
            markdown = args.text_of("markdown_text")
            content["text"] = markdown
            content["blocks"] = self.with_block_ids([{"type": "markdown", "text": markdown}])
        if "text" in args.raw:
            text = args.text_of("text")
            if len(text) > text_limit:
                if not truncate:
                    raise _ApiError("msg_too_long")
                text = text[:text_limit]
                warnings.append("message_truncated")
            content["text"] = text
        if args.has("metadata"):
            content["metadata"] = self._checked_metadata(args.raw["metadata"])
        return content, warnings

    @staticmethod
    def apply_content(message: JSON, content: JSON) -> JSON:
        """Set a message's content; an empty blocks/attachments array removes them, as chat.update documents."""
        for key, value in content.items():
            if key in ("blocks", "attachments") and value == []:
                message.pop(key, None)
            else:
                message[key] = value
        return message

    @staticmethod
    def _checked_metadata(value: Any) -> JSON:
        if not isinstance(value, dict) or not isinstance(value.get("event_type"), str):
            raise _ApiError("invalid_metadata_format")
        return _clone(value)

    # threads

    def thread_root(self, channel: _Channel, ts: str) -> JSON | None:
        """The parent of a thread given its ts or the ts of any reply in it."""
        return channel.by_ts.get(channel.parent_of.get(ts, ts))

    def store_message(self, channel: _Channel, message: JSON, *, thread_ts: str = "",
                      broadcast: bool = False) -> None:
        parent = self.thread_root(channel, thread_ts) if thread_ts else None
        channel.by_ts[message["ts"]] = message
        if parent is None:
            # Slack accepts a thread_ts it does not know; the message then stands on its own.
            if thread_ts:
                message["thread_ts"] = thread_ts
            channel.messages.append(message)
            return
        message["thread_ts"] = parent["ts"]
        message["parent_user_id"] = parent.get("user")
        channel.replies.setdefault(parent["ts"], []).append(message)
        channel.parent_of[message["ts"]] = parent["ts"]
        self._refresh_thread(channel, parent)
        if broadcast:
            echo = _clone(message)
            echo.update({"subtype": "thread_broadcast", "root": _clone(parent)})
            channel.messages.append(echo)

    @staticmethod
    def _refresh_thread(channel: _Channel, parent: JSON) -> None:
        replies = channel.replies.get(parent["ts"], [])
        for key in ("reply_count", "reply_users_count", "latest_reply", "reply_users", "is_locked", "subscribed"):
            parent.pop(key, None)
        if not replies:
            return
        users = list(dict.fromkeys(str(reply.get("user")) for reply in replies))
        parent.update({
            "thread_ts": parent["ts"], "reply_count": len(replies), "reply_users_count": len(users),
            "latest_reply": replies[-1]["ts"], "reply_users": users, "is_locked": False, "subscribed": False,
        })

    def remove_message(self, channel: _Channel, ts: str) -> None:
        message = channel.by_ts.pop(ts)
        parent_ts = channel.parent_of.pop(ts, None)
        if parent_ts is not None:
            replies = channel.replies[parent_ts]
            replies[:] = [reply for reply in replies if reply is not message]
            self._refresh_thread(channel, channel.by_ts[parent_ts])
            return
        index = next(i for i, top in enumerate(channel.messages) if top is message)
        if channel.replies.get(ts):
            # A parent with replies leaves a tombstone, as in Slack, so the thread stays reachable.
            tombstone = {"type": "message", "subtype": "tombstone", "text": "This message was deleted.",
                         "user": "USLACKBOT", "hidden": True, "ts": ts}
            channel.messages[index] = tombstone
            channel.by_ts[ts] = tombstone
            self._refresh_thread(channel, tombstone)
        else:
            del channel.messages[index]

    def own_message(self, channel: _Channel, ts: str, *, error: str) -> JSON:
        message = channel.by_ts.get(ts)
        if message is None:
            raise _ApiError("message_not_found")
        if message.get("bot_id") != BOT_ID:
            raise _ApiError(error)
        return message

    def permalink(self, channel: _Channel, ts: str) -> str:
        link = f"https://{TEAM_DOMAIN}.slack.com/archives/{channel.id}/p{ts.replace('.', '')}"
        parent_ts = channel.parent_of.get(ts)
        return f"{link}?thread_ts={parent_ts}&cid={channel.id}" if parent_ts else link

    # views

    def checked_view(self, args: _Args, *, surfaces: Sequence[str]) -> JSON:
        view = args.raw.get("view")
        if isinstance(view, str):
            raise _ApiError("invalid_arguments", "[ERROR] failed to parse view: not valid JSON [json-pointer:/view]")
        problems = validate_view(view, surfaces=surfaces)
        if problems:
            raise _ApiError("invalid_arguments", *problems)
        if len(json.dumps(view)) > VIEW_SIZE_LIMIT:
            raise _ApiError("view_too_large")
        assert isinstance(view, dict)  # validate_view guarantees it
        return view

    def check_external_id(self, spec: JSON, *, replacing: str | None = None) -> None:
        external_id = spec.get("external_id")
        if not external_id:
            return
        for view_id, view in self.views.items():
            if view.get("external_id") == external_id and view_id != replacing:
                raise _ApiError("duplicate_external_id")

    def view_object(self, spec: JSON, *, view_id: str, root_view_id: str | None = None,
                    previous_view_id: str | None = None) -> JSON:
        return {
            "id": view_id, "team_id": TEAM_ID, "type": spec["type"],
            "blocks": self.with_block_ids(spec.get("blocks") or []),
            "private_metadata": spec.get("private_metadata", ""), "callback_id": spec.get("callback_id", ""),
            "state": {"values": {}}, "hash": self._new_hash(), "title": _clone(spec.get("title")),
            "clear_on_close": bool(spec.get("clear_on_close", False)),
            "notify_on_close": bool(spec.get("notify_on_close", False)),
            "close": _clone(spec.get("close")), "submit": _clone(spec.get("submit")),
            "previous_view_id": previous_view_id, "root_view_id": root_view_id or view_id, "app_id": APP_ID,
            "external_id": spec.get("external_id", ""), "app_installed_team_id": TEAM_ID, "bot_id": BOT_ID,
        }

    def take_trigger(self, args: _Args) -> str:
        """Trigger ids are single-use in Slack; a second exchange fails."""
        trigger = args.text_of("trigger_id") or args.text_of("interactivity_pointer")
        if trigger in self.used_triggers:
            raise _ApiError("exchanged_trigger_id")
        return trigger

    # files

    def file_object(self, upload: _File, title: str, channel: _Channel | None, ts: str | None) -> JSON:
        mimetype = mimetypes.guess_type(upload.name)[0] or "application/octet-stream"
        filetype = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else "binary"
        now = int(time.time())
        url_private = f"{self.base_url()}files-pri/{upload.id}/{quote(upload.name)}"
        info: JSON = {
            "id": upload.id, "created": now, "timestamp": now, "name": upload.name, "title": title,
            "mimetype": mimetype, "filetype": filetype, "pretty_type": filetype.upper(), "user": BOT_USER_ID,
            "user_team": TEAM_ID, "editable": False, "size": len(upload.data or b""), "mode": "hosted",
            "is_external": False, "external_type": "", "is_public": bool(channel and not channel.is_private),
            "public_url_shared": False, "display_as_bot": False, "username": "", "url_private": url_private,
            "url_private_download": url_private,
            "permalink": f"https://{TEAM_DOMAIN}.slack.com/files/{BOT_USER_ID}/{upload.id}/{upload.name}",
            "comments_count": 0, "channels": [], "groups": [], "ims": [], "shares": {},
            "has_rich_preview": False, "file_access": "visible",
        }
        if upload.alt_txt:
            info["alt_txt"] = upload.alt_txt
        if channel is not None and ts is not None:
            bucket = "ims" if channel.is_im else "groups" if channel.is_private else "channels"
            info[bucket] = [channel.id]
            share = {"reply_users": [], "reply_users_count": 0, "reply_count": 0, "ts": ts,
                     "channel_name": channel.name, "team_id": TEAM_ID, "share_user_id": BOT_USER_ID,
                     "source": "UNKNOWN"}
            info["shares"] = {"private" if channel.is_private or channel.is_im else "public": {channel.id: [share]}}
        return info


# --- Web API method handlers (table at the end) ------------------------------------------------------

_Handler = Callable[[_Workspace, _Args], JSON]


def _auth_test(ws: _Workspace, args: _Args) -> JSON:
    return {"url": f"https://{TEAM_DOMAIN}.slack.com/", "team": TEAM_NAME, "user": BOT_NAME, "team_id": TEAM_ID,
            "user_id": BOT_USER_ID, "bot_id": BOT_ID, "is_enterprise_install": False}


def _with_warnings(response: JSON, warnings: list[str]) -> JSON:
    if warnings:
        response["warning"] = ",".join(warnings)
        response["response_metadata"] = {"warnings": warnings}
    return response


def _chat_post_message(ws: _Workspace, args: _Args) -> JSON:
    content, warnings = ws.message_content(args, text_limit=MESSAGE_TEXT_LIMIT, truncate=True)
    channel = ws.writable(args.text_of("channel"), allow_user=True)
    for key in ("username", "icon_emoji", "icon_url"):
        if args.has(key):
            content[key] = args.text_of(key)
    message = ws.bot_message(ws.next_ts(), content)
    ws.store_message(channel, message, thread_ts=args.text_of("thread_ts"), broadcast=args.flag("reply_broadcast"))
    return _with_warnings({"channel": channel.id, "ts": message["ts"], "message": _clone(message)}, warnings)


def _chat_update(ws: _Workspace, args: _Args) -> JSON:
    channel = ws.writable(args.text_of("channel"))
    message = ws.own_message(channel, args.text_of("ts"), error="cant_update_message")
    content, _ = ws.message_content(args, text_limit=UPDATE_TEXT_LIMIT, truncate=False)
    ws.apply_content(message, content)
    message["edited"] = {"user": BOT_USER_ID, "ts": ws.next_ts()}
    return {"channel": channel.id, "ts": message["ts"], "text": message.get("text", ""), "message": _clone(message)}


def _chat_post_ephemeral(ws: _Workspace, args: _Args) -> JSON:
    content, _ = ws.message_content(args, text_limit=MESSAGE_TEXT_LIMIT, truncate=False)
    channel = ws.writable(args.text_of("channel"))
    user = args.text_of("user")
    if user not in channel.members:
        raise _ApiError("user_not_in_channel")
    ts = ws.next_ts()
    record = ws.apply_content({"channel": channel.id, "user": user, "ts": ts, "text": "",
                               "source": "chat.postEphemeral"}, content)
    if args.has("thread_ts"):
        record["thread_ts"] = args.text_of("thread_ts")
    ws.ephemerals.append(record)
    return {"message_ts": ts}


def _chat_get_permalink(ws: _Workspace, args: _Args) -> JSON:
    channel = ws.readable(args.text_of("channel"))
    ts = args.text_of("message_ts")
    if ts not in channel.by_ts:
        raise _ApiError("message_not_found")
    return {"channel": channel.id, "permalink": ws.permalink(channel, ts)}


def _chat_delete(ws: _Workspace, args: _Args) -> JSON:
    channel = ws.writable(args.text_of("channel"))
    ts = args.text_of("ts")
    ws.own_message(channel, ts, error="cant_delete_message")
    ws.remove_message(channel, ts)
    return {"channel": channel.id, "ts": ts}


def _conversations_info(ws: _Workspace, args: _Args) -> JSON:
    channel = ws.readable(args.text_of("channel"))
    return {"channel": ws.channel_object(channel, num_members=args.flag("include_num_members"))}


_CONVERSATION_TYPES = frozenset({"public_channel", "private_channel", "mpim", "im"})


def _conversation_type(channel: _Channel) -> str:
    if channel.is_im:
        return "im"
    if channel.is_mpim:
        return "mpim"
    return "private_channel" if channel.is_private else "public_channel"


def _conversations_list(ws: _Workspace, args: _Args) -> JSON:
    types = set(_id_list(args.text_of("types", "public_channel")))
    if not types <= _CONVERSATION_TYPES:
        raise _ApiError("invalid_types")
    exclude_archived = args.flag("exclude_archived")
    matches = [
        ch for ch in ws.channels.values()
        if _conversation_type(ch) in types and ws.visible(ch) and not (exclude_archived and ch.is_archived)
    ]
    page, next_cursor = _page(matches, args, default_limit=100)
    return {"channels": [ws.channel_object(ch, num_members=True) for ch in page],
            "response_metadata": {"next_cursor": next_cursor}}


def _channel_name_error(name: str) -> str | None:
    if not name:
        return "invalid_name_required"
    if len(name) > 80:
        return "invalid_name_maxlength"
    if not _CHANNEL_NAME_OK.match(name) or name != name.lower():
        return "invalid_name_specials"
    if not name.strip("-_"):
        return "invalid_name_punctuation"
    return None


def _conversations_create(ws: _Workspace, args: _Args) -> JSON:
    name = args.text_of("name")
    problem = _channel_name_error(name)
    if problem:
        raise _ApiError(problem)
    if any(ch.name == name and not ch.is_im for ch in ws.channels.values()):
        raise _ApiError("name_taken")
    channel_id = ws.new_id("C")
    ws.add_channel(channel_id, name, is_private=args.flag("is_private"), members=[])
    return {"channel": ws.channel_object(ws.channels[channel_id])}


def _conversations_join(ws: _Workspace, args: _Args) -> JSON:
    channel = ws.readable(args.text_of("channel"))
    if channel.is_im or channel.is_mpim:
        raise _ApiError("method_not_supported_for_channel_type")
    if channel.is_archived:
        raise _ApiError("is_archived")
    already = BOT_USER_ID in channel.members
    channel.members[BOT_USER_ID] = None
    response: JSON = {"channel": ws.channel_object(channel)}
    return _with_warnings(response, ["already_in_channel"] if already else [])


def _conversations_invite(ws: _Workspace, args: _Args) -> JSON:
    channel = ws.member(args.text_of("channel"))
    if channel.is_im:
        raise _ApiError("method_not_supported_for_channel_type")
    if channel.is_archived:
        raise _ApiError("is_archived")
    users = _id_list(args.raw.get("users"))
    if BOT_USER_ID in users:
        raise _ApiError("cant_invite_self")
    if any(user not in ws.users for user in users):
        raise _ApiError("user_not_found")
    newcomers = [user for user in users if user not in channel.members]
    if not newcomers:
        raise _ApiError("already_in_channel")
    channel.members.update(dict.fromkeys(newcomers))
    return {"channel": ws.channel_object(channel)}


def _conversations_members(ws: _Workspace, args: _Args) -> JSON:
    channel = ws.readable(args.text_of("channel"))
    page, next_cursor = _page(list(channel.members), args, default_limit=100)
    return {"members": page, "response_metadata": {"next_cursor": next_cursor}}


def _conversations_open(ws: _Workspace, args: _Args) -> JSON:
    if args.has("channel"):
        channel = ws.readable(args.text_of("channel"))
        return {"channel": ws.channel_object(channel) if args.flag("return_im") else {"id": channel.id}}
    users = [user for user in _id_list(args.raw.get("users")) if user != BOT_USER_ID]
    if not users:
        raise _ApiError("not_enough_users")
    if len(users) > DM_LIMIT_USERS:
        raise _ApiError("too_many_users")
    if any(user not in ws.users for user in users):
        raise _ApiError("user_not_found")
    existing = ws.dm_with(users[0]) if len(users) == 1 else _find_mpim(ws, users)
    if existing is not None:
        shape = ws.channel_object(existing) if args.flag("return_im") else {"id": existing.id}
        return {"no_op": True, "already_open": True, "channel": shape}
    channel = ws.open_dm(users[0]) if len(users) == 1 else _open_mpim(ws, users)
    return {"channel": ws.channel_object(channel) if args.flag("return_im") else {"id": channel.id}}


def _find_mpim(ws: _Workspace, users: list[str]) -> _Channel | None:
    wanted = {*users, BOT_USER_ID}
    return next((ch for ch in ws.channels.values() if ch.is_mpim and set(ch.members) == wanted), None)


def _open_mpim(ws: _Workspace, users: list[str]) -> _Channel:
    names = [ws.users[user].name for user in users] + [BOT_NAME]
    channel = _Channel(ws.new_id("G"), f"mpdm-{'--'.join(names)}-1", int(time.time()), BOT_USER_ID, is_mpim=True)
    channel.members = dict.fromkeys([BOT_USER_ID, *users])
    ws.channels[channel.id] = channel
    return channel


def _ts_bounds(args: _Args) -> tuple[int, int, bool]:
    """`oldest`/`latest`/`inclusive` as microsecond bounds."""
    bounds = []
    for key, default in (("oldest", "0"), ("latest", "")):
        raw = args.text_of(key) or default
        micros = _ts_micros(raw) if raw else 10**18
        if micros is None:
            raise _ApiError(f"invalid_ts_{key}")
        bounds.append(micros)
    return bounds[0], bounds[1], args.flag("inclusive")


def _in_window(message: JSON, window: tuple[int, int, bool]) -> bool:
    oldest, latest, inclusive = window
    micros = _ts_micros(str(message.get("ts"))) or 0
    return oldest <= micros <= latest if inclusive else oldest < micros < latest


def _conversations_history(ws: _Workspace, args: _Args) -> JSON:
    channel = ws.member(args.text_of("channel"))
    window = _ts_bounds(args)
    newest_first = [m for m in reversed(channel.messages) if _in_window(m, window)]
    page, next_cursor = _page(newest_first, args, default_limit=100, max_limit=999)
    return {"messages": _clone(page), "has_more": bool(next_cursor), "pin_count": 0,
            "channel_actions_ts": None, "channel_actions_count": 0,
            "response_metadata": {"next_cursor": next_cursor}}


def _conversations_replies(ws: _Workspace, args: _Args) -> JSON:
    channel = ws.readable(args.text_of("channel"))
    root = ws.thread_root(channel, args.text_of("ts"))
    if root is None:
        raise _ApiError("thread_not_found")
    window = _ts_bounds(args)
    thread = [root] + [m for m in channel.replies.get(root["ts"], []) if _in_window(m, window)]
    page, next_cursor = _page(thread, args, default_limit=1000)
    return {"messages": _clone(page), "has_more": bool(next_cursor),
            "response_metadata": {"next_cursor": next_cursor}}


def _conversations_archive(ws: _Workspace, args: _Args) -> JSON:
    channel = ws.member(args.text_of("channel"))
    if channel.is_im:
        raise _ApiError("method_not_supported_for_channel_type")
    if channel.is_archived:
        raise _ApiError("already_archived")
    channel.is_archived = True
    return {}


def _users_info(ws: _Workspace, args: _Args) -> JSON:
    user = ws.users.get(args.text_of("user"))
    if user is None:
        raise _ApiError("user_not_found")
    return {"user": ws.user_object(user)}


def _users_lookup_by_email(ws: _Workspace, args: _Args) -> JSON:
    email = args.text_of("email").strip().lower()
    user = next((u for u in ws.users.values() if u.email and u.email.lower() == email), None)
    if user is None:
        raise _ApiError("users_not_found")
    return {"user": ws.user_object(user)}


def _views_open(ws: _Workspace, args: _Args) -> JSON:
    spec = ws.checked_view(args, surfaces=("modal",))
    trigger = ws.take_trigger(args)
    ws.check_external_id(spec)
    view = ws.view_object(spec, view_id=ws.new_id("V"))
    ws.used_triggers.add(trigger)
    ws.views[view["id"]] = view
    return {"view": _clone(view)}


def _views_push(ws: _Workspace, args: _Args) -> JSON:
    # Slack ties a push to the modal its trigger came from; the stand-in cannot see that link, so a pushed
    # view is its own root and the three-deep push limit is not enforced.
    return _views_open(ws, args)


def _existing_view(ws: _Workspace, args: _Args) -> JSON:
    view_id = args.text_of("view_id")
    if not view_id:
        external_id = args.text_of("external_id")
        view_id = next((vid for vid, v in ws.views.items() if v.get("external_id") == external_id), "")
    view = ws.views.get(view_id)
    if view is None:
        raise _ApiError("not_found")
    if args.has("hash") and args.text_of("hash") != view["hash"]:
        raise _ApiError("hash_conflict")
    return view


def _views_update(ws: _Workspace, args: _Args) -> JSON:
    current = _existing_view(ws, args)
    spec = ws.checked_view(args, surfaces=(str(current["type"]),))
    ws.check_external_id(spec, replacing=current["id"])
    view = ws.view_object(spec, view_id=current["id"], root_view_id=current["root_view_id"],
                          previous_view_id=current["previous_view_id"])
    ws.views[view["id"]] = view
    return {"view": _clone(view)}


def _views_publish(ws: _Workspace, args: _Args) -> JSON:
    spec = ws.checked_view(args, surfaces=("home",))
    user_id = args.text_of("user_id")
    current = ws.views.get(ws.home_views.get(user_id, ""))
    if current is not None and args.has("hash") and args.text_of("hash") != current["hash"]:
        raise _ApiError("hash_conflict")
    view_id = current["id"] if current is not None else ws.new_id("V")
    ws.check_external_id(spec, replacing=view_id)
    view = ws.view_object(spec, view_id=view_id)
    ws.views[view_id] = view
    ws.home_views[user_id] = view_id
    return {"view": _clone(view)}


def _reaction_target(ws: _Workspace, args: _Args) -> tuple[JSON, str]:
    if not args.has("channel") or not args.has("timestamp"):
        raise _ApiError("no_item_specified")
    name = args.text_of("name").strip(":")
    if not _EMOJI_NAME_OK.match(name):
        raise _ApiError("invalid_name")
    channel = ws.readable(args.text_of("channel"))
    message = channel.by_ts.get(args.text_of("timestamp"))
    if message is None:
        raise _ApiError("message_not_found")
    return message, name


def _reactions_add(ws: _Workspace, args: _Args) -> JSON:
    message, name = _reaction_target(ws, args)
    reactions: list[JSON] = message.setdefault("reactions", [])
    entry = next((r for r in reactions if r["name"] == name), None)
    if entry is not None and BOT_USER_ID in entry["users"]:
        raise _ApiError("already_reacted")
    if entry is None:
        entry = {"name": name, "users": [], "count": 0}
        reactions.append(entry)
    entry["users"].append(BOT_USER_ID)
    entry["count"] += 1
    return {}


def _reactions_remove(ws: _Workspace, args: _Args) -> JSON:
    message, name = _reaction_target(ws, args)
    reactions: list[JSON] = message.get("reactions", [])
    entry = next((r for r in reactions if r["name"] == name and BOT_USER_ID in r["users"]), None)
    if entry is None:
        raise _ApiError("no_reaction")
    entry["users"].remove(BOT_USER_ID)
    entry["count"] -= 1
    message["reactions"] = [r for r in reactions if r["count"] > 0]
    if not message["reactions"]:
        del message["reactions"]
    return {}


def _files_get_upload_url(ws: _Workspace, args: _Args) -> JSON:
    length = args.number("length", -1)
    if length < 0:
        raise _ApiError("invalid_arguments", "[ERROR] length must be a non-negative integer")
    upload = _File(ws.new_id("F"), args.text_of("filename"), length, alt_txt=args.text_of("alt_txt"))
    ws.files[upload.id] = upload
    return {"upload_url": f"{ws.base_url()}upload/v1/{upload.id}", "file_id": upload.id}


def _completed_uploads(ws: _Workspace, value: Any) -> list[tuple[_File, str]]:
    if not isinstance(value, list) or not value:
        raise _ApiError("invalid_arguments", "[ERROR] files must be a non-empty JSON array")
    uploads = []
    for item in value:
        upload = ws.files.get(str(item.get("id"))) if isinstance(item, dict) else None
        if upload is None or upload.data is None:
            raise _ApiError("file_not_found")
        uploads.append((upload, str(item.get("title") or upload.name)))
    return uploads


def _files_complete_upload(ws: _Workspace, args: _Args) -> JSON:
    uploads = _completed_uploads(ws, args.raw.get("files"))
    target = args.text_of("channel_id") or (_id_list(args.raw.get("channels")) or [""])[0]
    channel = ws.member(target) if target else None
    if channel is not None and channel.is_archived:
        raise _ApiError("is_archived")
    blocks = ws.checked_blocks(args.raw["blocks"]) if args.has("blocks") else None
    ts = ws.next_ts() if channel is not None else None
    infos = [ws.file_object(upload, title, channel, ts) for upload, title in uploads]
    for (upload, _), info in zip(uploads, infos, strict=True):
        upload.info = info
    if channel is not None and ts is not None:
        content: JSON = {"text": args.text_of("initial_comment"), "files": _clone(infos), "upload": True,
                         "display_as_bot": False}
        if blocks is not None:
            content["blocks"] = blocks
        ws.store_message(channel, ws.bot_message(ts, content), thread_ts=args.text_of("thread_ts"))
    return {"files": _clone(infos)}


_HANDLERS: dict[str, _Handler] = {
    "auth.test": _auth_test,
    "chat.postMessage": _chat_post_message,
    "chat.update": _chat_update,
    "chat.postEphemeral": _chat_post_ephemeral,
    "chat.getPermalink": _chat_get_permalink,
    "chat.delete": _chat_delete,
    "conversations.info": _conversations_info,
    "conversations.list": _conversations_list,
    "conversations.create": _conversations_create,
    "conversations.join": _conversations_join,
    "conversations.invite": _conversations_invite,
    "conversations.members": _conversations_members,
    "conversations.open": _conversations_open,
    "conversations.history": _conversations_history,
    "conversations.replies": _conversations_replies,
    "conversations.archive": _conversations_archive,
    "users.info": _users_info,
    "users.lookupByEmail": _users_lookup_by_email,
    "views.open": _views_open,
    "views.update": _views_update,
    "views.push": _views_push,
    "views.publish": _views_publish,
    "reactions.add": _reactions_add,
    "reactions.remove": _reactions_remove,
    "files.getUploadURLExternal": _files_get_upload_url,
    "files.completeUploadExternal": _files_complete_upload,
}


def _check_arguments(method: str, args: _Args) -> None:
    spec = METHOD_SPECS[method]
    missing = [name for name in spec.required if not args.has(name)]
    if missing:
        raise _ApiError("invalid_arguments", *(f"[ERROR] missing required field: {name}" for name in missing))
    for group in spec.one_of:
        if not any(args.has(name) for name in group):
            error = _ONE_OF_ERRORS.get(method, "invalid_arguments")
            raise _ApiError(error, f"[ERROR] one of [{', '.join(group)}] is required")


# --- request parsing -----------------------------------------------------------------------------------


def _parse_multipart(content_type: str, body: bytes) -> JSON:
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP_POLICY).parsebytes(head + body)
    fields: JSON = {}
    for part in message.walk():
        if part.is_multipart():
            continue
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            fields[name] = payload if part.get_filename() else payload.decode("utf-8")
    return fields


def _parse_args(content_type: str, body: bytes, query: str) -> JSON:
    """Arguments from the query string and a form, JSON or multipart body; JSON-valued form fields decoded."""
    args: JSON = dict(parse_qsl(query, keep_blank_values=True))
    media = content_type.split(";", 1)[0].strip().lower()
    if body and media == "application/json":
        try:
            decoded = json.loads(body)
        except ValueError:
            raise _ApiError("invalid_json") from None
        if not isinstance(decoded, dict):
            raise _ApiError("invalid_json")
        args.update(decoded)
    elif body and media == "multipart/form-data":
        args.update(_parse_multipart(content_type, body))
    elif body:
        try:
            args.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
        except UnicodeDecodeError:
            raise _ApiError("invalid_form_data") from None
    for key in _JSON_ARGS & args.keys():
        if isinstance(args[key], str):
            # Undecodable values stay strings: the handler answers invalid_blocks_format / invalid_arguments.
            with contextlib.suppress(ValueError):
                args[key] = json.loads(args[key])
    return args


# --- transcript rendering --------------------------------------------------------------------------------

_MENTION = re.compile(r"<([@#!])([^>|]+)(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto):[^>|]+)(?:\|([^>]+))?>")
# mrkdwn markers people never see: *bold*, _italic_, ~strike~, `code`, ``` fences (and markdown's **bold**).
_MARKERS = (
    (re.compile(r"```\n?"), ""),
    (re.compile(r"\*\*([^*\n]+)\*\*"), r"\1"),
    (re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])"), r"\1"),
    (re.compile(r"(?<![\w_])_([^_\n]+)_(?![\w_])"), r"\1"),
    (re.compile(r"(?<![\w~])~([^~\n]+)~(?![\w~])"), r"\1"),
    (re.compile(r"`([^`\n]+)`"), r"\1"),
)
_QUOTE = re.compile(r"^>\s?", re.MULTILINE)
_EMOJI_CODE = re.compile(r":([a-z0-9_+\-]+):")
# The few emoji a support bot's cards use, shown as the glyph; others stay as :code:.
_EMOJI = {
    "red_circle": "🔴", "large_orange_circle": "🟠", "large_yellow_circle": "🟡", "large_green_circle": "🟢",
    "large_blue_circle": "🔵", "white_circle": "⚪", "black_circle": "⚫", "warning": "⚠️", "rotating_light": "🚨",
    "white_check_mark": "✅", "heavy_check_mark": "✔️", "x": "❌", "hourglass": "⌛", "hourglass_flowing_sand": "⏳",
    "alarm_clock": "⏰", "fire": "🔥", "eyes": "👀", "bell": "🔔", "memo": "📝", "pushpin": "📌",
    "arrow_up": "⬆️", "arrow_right": "➡️", "speech_balloon": "💬", "ticket": "🎫", "bug": "🐛", "sos": "🆘",
    "thumbsup": "👍", "+1": "👍", "tada": "🎉", "information_source": "ℹ️", "calendar": "📅", "clipboard": "📋",
}
_DEFAULT_NAMES = {user.user_id: user.real_name for user in SEED_USERS} | {BOT_USER_ID: BOT_REAL_NAME}
_DEFAULT_CHANNELS = dict(SEED_CHANNELS)


class _Plain:
    """Turns Slack text into what a person reads: names for mentions, no mrkdwn markers, entities decoded."""

    def __init__(self, names: dict[str, str], channels: dict[str, str]) -> None:
        self.names = names
        self.channels = channels

    def __call__(self, text: str, *, mrkdwn: bool = True) -> str:
        if mrkdwn:
            text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
            text = _MENTION.sub(self._mention, text)
            for pattern, replacement in _MARKERS:
                text = pattern.sub(replacement, text)
            text = _QUOTE.sub("│ ", text)
        text = _EMOJI_CODE.sub(lambda m: _EMOJI.get(m.group(1), m.group(0)), text)
        return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")

    def _mention(self, match: re.Match[str]) -> str:
        sigil, target, label = match.groups()
        if sigil == "@":
            return f"@{self.names.get(target, label or target)}"
        if sigil == "#":
            return f"#{label or self.channels.get(target, target)}"
        if target.startswith("date^"):
            return label or target  # <!date^1796655600^{date_short}|fallback>: the fallback is the readable part
        return label or f"@{target.split('^')[0]}"  # <!here>, <!subteam^S1|@leads>

    def text_object(self, value: Any) -> str:
        if isinstance(value, dict):
            return self(str(value.get("text", "")), mrkdwn=value.get("type") == "mrkdwn")
        return "" if value is None else self(str(value))

    # blocks

    def element(self, element: Any) -> str:
        if not isinstance(element, dict):
            return ""
        kind = element.get("type")
        if kind == "button":
            return f"[{self.text_object(element.get('text'))}]"
        if kind == "overflow":
            return "[...]"
        initial = element.get("initial_option")
        source = initial.get("text") if isinstance(initial, dict) else element.get("placeholder")
        return f"[{self.text_object(source) or kind} v]"

    def section(self, block: JSON) -> list[str]:
        lines = self.text_object(block.get("text")).splitlines() if block.get("text") else []
        fields = block.get("fields") or []
        cells = [self.text_object(item).replace("\n", " ") for item in fields]
        # Slack lays fields out in two columns; a line per row reads the same way.
        lines += [" | ".join(cells[row:row + 2]) for row in range(0, len(cells), 2)]
        accessory = block.get("accessory")
        if isinstance(accessory, dict) and accessory.get("type") != "image":
            lines.append(self.element(accessory))
        return lines

    def context(self, block: JSON) -> list[str]:
        parts = [
            f"[image: {item.get('alt_text', '')}]" if isinstance(item, dict) and item.get("type") == "image"
            else self.text_object(item)
            for item in block.get("elements") or []
        ]
        return [" · ".join(parts)]

    def rich_text(self, block: JSON) -> list[str]:
        def walk(node: Any) -> Iterable[str]:
            if isinstance(node, dict):
                if isinstance(node.get("text"), str):
                    yield node["text"]
                if node.get("type") == "user":
                    yield f"@{self.names.get(str(node.get('user_id')), node.get('user_id'))}"
                yield from walk(node.get("elements"))
            elif isinstance(node, list):
                for child in node:
                    yield from walk(child)

        return "".join(walk(block.get("elements"))).splitlines()

    def block(self, block: JSON) -> list[str]:
        kind = block.get("type")
        if kind == "header":
            return [f"== {self.text_object(block.get('text'))} =="]
        if kind == "divider":
            return ["---"]
        if kind == "actions":
            return [" ".join(self.element(e) for e in block.get("elements") or [])]
        if kind == "input":
            return [f"{self.text_object(block.get('label'))}: {self.element(block.get('element'))}"]
        if kind == "image":
            return [f"[image: {block.get('alt_text', '')}]"]
        if kind == "markdown":
            return self(str(block.get("text", ""))).splitlines()
        renderer = {"section": self.section, "context": self.context, "rich_text": self.rich_text}.get(str(kind))
        return renderer(block) if renderer else [f"[{kind} block]"]

    def message(self, message: JSON) -> list[str]:
        blocks = message.get("blocks")
        if blocks:
            lines = [line for block in blocks if isinstance(block, dict) for line in self.block(block)]
        else:
            lines = self(str(message.get("text") or "")).splitlines()
        lines += [f"[file: {f.get('name')}]" for f in message.get("files") or [] if isinstance(f, dict)]
        reactions = message.get("reactions") or []
        if reactions:
            lines.append("  ".join(f":{r['name']}: {r['count']}" for r in reactions))
        return lines


def render_message(message: dict[str, Any], *, names: dict[str, str] | None = None) -> str:
    """A message (or a command's JSON answer) as a person reads it: blocks as text, buttons as [Label]."""
    return "\n".join(_Plain(names or _DEFAULT_NAMES, _DEFAULT_CHANNELS).message(message))


class _Transcript:
    """Renders the workspace as readable text for `frontline demo`."""

    def __init__(self, ws: _Workspace) -> None:
        self.ws = ws
        self.plain = _Plain({u.id: u.real_name for u in ws.users.values()},
                            {c.id: c.name for c in ws.channels.values()})

    def name(self, user_id: Any) -> str:
        return self.plain.names.get(str(user_id), str(user_id))

    def entry(self, message: JSON, indent: str, label: str) -> list[str]:
        who = BOT_REAL_NAME if message.get("bot_id") == BOT_ID else self.name(message.get("user"))
        edited = " (edited)" if message.get("edited") else ""
        first, *rest = self.plain.message(message) or [""]
        return [f"{indent}{label}{who}{edited}: {first}"] + [f"{indent}    {line}" for line in rest]

    def channel(self, channel: _Channel) -> list[str]:
        title = f"DM with {self.name(channel.im_user)}" if channel.is_im else f"#{channel.name}"
        entries: list[tuple[int, list[str]]] = []
        for message in channel.messages:
            lines = self.entry(message, "  ", "")
            for reply in channel.replies.get(str(message.get("ts")), []):
                lines += self.entry(reply, "      ", "↳ ")
            entries.append((_ts_micros(str(message.get("ts"))) or 0, lines))
        for ephemeral in self.ws.ephemerals:
            if ephemeral.get("channel") == channel.id:
                label = f"(only visible to {self.name(ephemeral.get('user'))}) "
                lines = self.entry({**ephemeral, "bot_id": BOT_ID}, "  ", label)
                entries.append((_ts_micros(str(ephemeral.get("ts"))) or 0, lines))
        entries.sort(key=lambda item: item[0])
        archived = " [archived]" if channel.is_archived else ""
        return [f"{title} ({channel.id}){archived}"] + [line for _, lines in entries for line in lines]

    def render(self) -> str:
        sections = [
            self.channel(ch) for ch in self.ws.channels.values()
            if ch.messages or any(e.get("channel") == ch.id for e in self.ws.ephemerals)
        ]
        unbound = [e for e in self.ws.ephemerals if e.get("channel") not in self.ws.channels]
        if unbound:
            lines = ["(responses in channels the stand-in does not know)"]
            for ephemeral in unbound:
                lines += self.entry({**ephemeral, "bot_id": BOT_ID}, "  ", f"[{ephemeral.get('channel')}] ")
            sections.append(lines)
        return "\n\n".join("\n".join(lines) for lines in sections) + ("\n" if sections else "")


# --- HTTP plumbing ---------------------------------------------------------------------------------------


@dataclass
class _HttpRequest:
    verb: str
    path: str
    query: str
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass
class _HttpReply:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


def _json_reply(status: int, payload: JSON, headers: dict[str, str] | None = None) -> _HttpReply:
    return _HttpReply(status, json.dumps(payload).encode(), headers=headers or {})


def _text_reply(status: int, text: str) -> _HttpReply:
    return _HttpReply(status, text.encode(), content_type="text/plain; charset=utf-8")


class _RequestHandler(BaseHTTPRequestHandler):
    """Hands each request to the stand-in's router and writes the reply in one send."""

    protocol_version = "HTTP/1.1"  # keep-alive for clients that reuse connections
    disable_nagle_algorithm = True  # small replies must not wait for delayed ACKs
    timeout = 60  # idle keep-alive connections release their thread eventually
    server: _Server

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while (size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)) > 0:
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        request = _HttpRequest(self.command, unquote(parts.path), parts.query,
                               {k.lower(): v for k, v in self.headers.items()}, self._read_body())
        try:
            reply = self.server.route(request)
        except Exception:  # a stand-in bug must reach the client as an error, not a dropped connection
            traceback.print_exc()
            reply = _json_reply(500, {"ok": False, "error": "fatal_error"})
        head = [f"HTTP/1.1 {reply.status} {self.responses.get(reply.status, ('',))[0]}",
                f"Content-Type: {reply.content_type}", f"Content-Length: {len(reply.body)}"]
        head += [f"{name}: {value}" for name, value in reply.headers.items()]
        if self.close_connection:
            head.append("Connection: close")
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the stand-in records calls instead of logging them."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # bursts of concurrent clients must not overflow the listen backlog

    def __init__(self, address: tuple[str, int], route: Callable[[_HttpRequest], _HttpReply]) -> None:
        super().__init__(address, _RequestHandler)
        self.route = route


# --- the public stand-in ---------------------------------------------------------------------------------


class SlackStandIn:
    """A Slack Web API on loopback: point `WebClient(base_url=standin.api_url)` at it."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, bot_token: str = "xoxb-standin",
                 failure_rate: float = 0.0, failure_kinds: tuple[str, ...] = ("429", "500"), retry_after: int = 1,
                 seed: int | None = None, chat_write_public: bool = True) -> None:
        self.host = host
        self.port = port
        self.bot_token = bot_token
        self.retry_after = retry_after
        self._lock = threading.Lock()
        self._failure_rng = random.Random(seed)
        self._failure_rate = 0.0
        self._failure_kinds: tuple[str, ...] = ()
        self.set_failures(failure_rate, failure_kinds)
        self._fail_next: dict[str, list[tuple[str, int]]] = {}
        self._calls: list[RecordedCall] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._ws = _Workspace(base_url=lambda: self.base_url, chat_write_public=chat_write_public,
                              rng=random.Random(seed))
        self._ws.seed()

    # lifecycle

    def start(self) -> SlackStandIn:
        """Bind the port and serve in a daemon thread; returns self."""
        if self._server is None:
            self._server = _Server((self.host, self.port), self._route)
            self.port = self._server.server_address[1]
            self._thread = threading.Thread(target=self._server.serve_forever, name="slack-standin", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            # shutdown() waits for serve_forever's next poll; poking the socket ends that wait at once.
            stopper = threading.Thread(target=self._server.shutdown, daemon=True)
            stopper.start()
            while stopper.is_alive():
                with contextlib.suppress(OSError):
                    socket.create_connection((self.host, self.port), timeout=0.2).close()
                stopper.join(0.01)
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = None
            self._thread = None

    def __enter__(self) -> SlackStandIn:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """`http://host:port/`; valid once started."""
        if self._server is None:
            raise RuntimeError("SlackStandIn is not started; call start() or use it as a context manager")
        return f"http://{self.host}:{self.port}/"

    @property
    def api_url(self) -> str:
        """The Web API base URL for slack_sdk, with the trailing slash it needs."""
        return f"{self.base_url}api/"

    # workspace set-up

    def add_user(self, user_id: str, name: str, *, tz: str = "America/New_York", is_bot: bool = False,
                 real_name: str | None = None, email: str | None = None,
                 channels: Sequence[str] | None = None) -> None:
        """Add a user; a person joins every public channel unless `channels` (IDs or #names) says where."""
        with self._lock:
            self._ws.add_user(user_id, name, real_name=real_name or name, tz=tz, is_bot=is_bot, email=email,
                              channels=channels)

    def add_channel(self, channel_id: str, name: str, *, is_private: bool = False, bot_member: bool = True,
                    members: Sequence[str] | None = None) -> None:
        """Add a channel; `members` defaults to every person in the workspace."""
        with self._lock:
            self._ws.add_channel(channel_id, name, is_private=is_private, bot_member=bot_member, members=members)

    # failures

    def set_failures(self, rate: float, kinds: tuple[str, ...] = ("429", "500")) -> None:
        """Fail this fraction of Web API calls with the given kinds ("429", "500", "502", "503", "504")."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"failure rate must be between 0 and 1, not {rate}")
        unknown = [kind for kind in kinds if kind not in _FAILURE_STATUS]
        if unknown or (rate > 0 and not kinds):
            raise ValueError(f"failure kinds must be among {sorted(_FAILURE_STATUS)}, not {list(kinds)}")
        with self._lock:
            self._failure_rate = rate
            self._failure_kinds = tuple(kinds)

    def fail_next(self, method: str, error: str, *, status: int = 200) -> None:
        """The next call of `method` answers `{"ok": false, "error": error}` (HTTP `status`) and changes nothing."""
        with self._lock:
            self._fail_next.setdefault(method, []).append((error, status))

    # inspection

    @property
    def calls(self) -> list[RecordedCall]:
        """Every call answered so far, in order (a copy)."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[RecordedCall]:
        """The calls of one method, in order."""
        with self._lock:
            return [call for call in self._calls if call.method == method]

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Top-level messages of a channel (ID, #name, or a user ID for the bot's DM), replies under "replies"."""
        with self._lock:
            found = self._channel_for_inspection(channel)
            return [{**_clone(m), "replies": _clone(found.replies.get(m["ts"], []))} for m in found.messages]

    def ephemerals(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Ephemeral messages (chat.postEphemeral and response_url), optionally of one channel."""
        with self._lock:
            if channel is None:
                return _clone(self._ws.ephemerals)
            try:
                channel_id = self._ws.channel_by_ref(channel).id
            except KeyError:
                channel_id = channel
            return _clone([e for e in self._ws.ephemerals if e.get("channel") == channel_id])

    def views(self) -> list[dict[str, Any]]:
        """Every modal and Home tab view opened, pushed, updated or published, as last set."""
        with self._lock:
            return _clone(list(self._ws.views.values()))

    def file_content(self, file_id: str) -> bytes | None:
        """The bytes uploaded for a file id, if any."""
        with self._lock:
            upload = self._ws.files.get(file_id)
            return upload.data if upload else None

    def dm_channel(self, user_id: str) -> str | None:
        """The id of the bot's DM with a user, once opened."""
        with self._lock:
            channel = self._ws.dm_with(user_id)
            return channel.id if channel else None

    def user_name(self, user_id: str) -> str:
        """A user's real name as people read it (the id itself when unknown)."""
        with self._lock:
            user = self._ws.users.get(user_id)
            return user.real_name if user else user_id

    def channel_name(self, channel: str) -> str:
        """`#name` for a channel ID or name, `DM with <name>` for a DM, the id itself when unknown."""
        with self._lock:
            try:
                found = self._ws.channel_by_ref(channel)
            except KeyError:
                return channel
            if found.is_im:
                user = self._ws.users.get(str(found.im_user))
                return f"DM with {user.real_name if user else found.im_user}"
            return f"#{found.name}"

    def transcript(self) -> str:
        """Every channel with activity as readable text: messages, indented thread replies, ephemerals."""
        with self._lock:
            return _Transcript(self._ws).render()

    def response_url(self, key: str, *, channel: str | None = None, user: str | None = None,
                     message_ts: str | None = None) -> str:
        """A URL here that takes Slack response_url POSTs; channel/user/message_ts bind it to an origin."""
        params = {k: v for k, v in (("channel", channel), ("user", user), ("ts", message_ts)) if v}
        suffix = f"?{urlencode(params)}" if params else ""
        return f"{self.base_url}response_url/{quote(key, safe='')}{suffix}"

    @property
    def response_url_base(self) -> str:
        """Prefix of every response_url; SlackSimulator appends `<key>?channel=…&user=…&ts=…`."""
        return f"{self.base_url}response_url/"

    def _channel_for_inspection(self, ref: str) -> _Channel:
        dm = self._ws.dm_with(ref) if ref in self._ws.users else None
        if dm is not None:
            return dm
        try:
            return self._ws.channel_by_ref(ref)
        except KeyError:
            raise KeyError(f"no channel {ref!r} in the stand-in workspace") from None

    # HTTP routing

    def _route(self, request: _HttpRequest) -> _HttpReply:
        if request.path.startswith("/api/"):
            return self._web_api(request.path[len("/api/"):], request)
        if request.path.startswith("/upload/v1/") and request.verb == "POST":
            return self._upload(request.path.rsplit("/", 1)[-1], request)
        if request.path.startswith("/response_url/") and request.verb == "POST":
            return self._response_url(request.path[len("/response_url/"):], request)
        if request.path.startswith("/files-pri/") and request.verb == "GET":
            return self._download(request.path.split("/")[2])
        return _text_reply(404, "not_found")

    def _web_api(self, method: str, request: _HttpRequest) -> _HttpReply:
        try:
            raw = _parse_args(request.headers.get("content-type", ""), request.body, request.query)
            parse_error: _ApiError | None = None
        except _ApiError as error:
            raw, parse_error = {}, error
        token = raw.pop("token", None)
        bearer = request.headers.get("authorization", "")
        if bearer.lower().startswith("bearer "):
            token = bearer[len("bearer "):].strip()
        with self._lock:
            status, payload, headers = self._answer(method, token, raw, parse_error)
            reply = _json_reply(status, payload, headers)
            self._record(method, raw, status, json.loads(reply.body))
        return reply

    def _answer(self, method: str, token: Any, raw: JSON,
                parse_error: _ApiError | None) -> tuple[int, JSON, dict[str, str]]:
        """Slack's order: method, auth, rate limits and outages, arguments, then the method itself."""
        handler = _HANDLERS.get(method)
        if handler is None:
            return 200, _ApiError("unknown_method", f"[standin] {method!r} is not a method the stand-in answers"
                                  ).payload(), {}
        if not token:
            return 200, {"ok": False, "error": "not_authed"}, {}
        if token != self.bot_token:
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        failure = self._injected_failure(method)
        if failure is not None:
            return failure
        try:
            if parse_error is not None:
                raise parse_error
            args = _Args(raw)
            _check_arguments(method, args)
            return 200, {"ok": True, **handler(self._ws, args)}, {}
        except _ApiError as error:
            return 200, error.payload(), {}

    def _injected_failure(self, method: str) -> tuple[int, JSON, dict[str, str]] | None:
        queued = self._fail_next.get(method)
        if queued:
            error, status = queued.pop(0)
            return status, {"ok": False, "error": error}, self._failure_headers(status)
        if self._failure_rate <= 0 or self._failure_rng.random() >= self._failure_rate:
            return None
        status = _FAILURE_STATUS[self._failure_rng.choice(self._failure_kinds)]
        return status, {"ok": False, "error": _FAILURE_ERRORS[status]}, self._failure_headers(status)

    def _failure_headers(self, status: int) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if status == 429 else {}

    def _record(self, method: str, args: JSON, status: int, response: JSON) -> None:
        self._calls.append(RecordedCall(method, args, status, response, time.time()))

    # the non-API endpoints

    def _upload(self, file_id: str, request: _HttpRequest) -> _HttpReply:
        """The upload_url POST of files.upload v2: raw bytes, or a multipart form with one file."""
        data = request.body
        if request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
            parts = _parse_multipart(request.headers["content-type"], request.body)
            data = next((v for v in parts.values() if isinstance(v, bytes)), data)
        with self._lock:
            upload = self._ws.files.get(file_id)
            if upload is None:
                self._record("upload", {"file_id": file_id}, 404, {"ok": False, "error": "file_not_found"})
                return _text_reply(404, "file_not_found")
            upload.data = data
            self._record("upload", {"file_id": file_id, "size": len(data)}, 200, {"ok": True})
        return _text_reply(200, f"OK - {len(data)}")

    def _download(self, file_id: str) -> _HttpReply:
        with self._lock:
            upload = self._ws.files.get(file_id)
        if upload is None or upload.data is None:
            return _text_reply(404, "file_not_found")
        kind = mimetypes.guess_type(upload.name)[0] or "application/octet-stream"
        return _HttpReply(200, upload.data, content_type=kind)

    def _response_url(self, key: str, request: _HttpRequest) -> _HttpReply:
        binding = dict(parse_qsl(request.query))
        try:
            payload = json.loads(request.body or b"{}")
        except ValueError:
            payload = None
        with self._lock:
            if not isinstance(payload, dict):
                status, text = 400, "invalid_payload"
            else:
                status, text = self._respond(payload, binding, key)
            args = {"key": key, **binding, **(payload if isinstance(payload, dict) else {})}
            self._record("response_url", args, status, {"ok": status == 200, "body": text})
        return _text_reply(status, text)

    def _respond(self, payload: JSON, binding: dict[str, str], key: str) -> tuple[int, str]:
        """Apply a response_url POST: delete/replace the original, post in channel, or reply ephemerally."""
        ws = self._ws
        args = _Args(payload)
        channel_id, user, origin_ts = binding.get("channel", ""), binding.get("user", ""), binding.get("ts", "")
        if args.flag("delete_original"):
            return self._delete_original(channel_id, origin_ts)
        if not args.has("text") and not args.has("blocks"):
            return 400, "no_text"
        try:
            content, _ = ws.message_content(args, text_limit=MESSAGE_TEXT_LIMIT, truncate=True)
        except _ApiError as error:
            return 400, error.error
        if args.flag("replace_original") and origin_ts:
            return self._replace_original(channel_id, origin_ts, content)
        if args.text_of("response_type", "ephemeral") == "in_channel":
            channel = ws.channels.get(channel_id)
            if channel is None:
                return 404, "channel_not_found"
            ws.store_message(channel, ws.bot_message(ws.next_ts(), content), thread_ts=args.text_of("thread_ts"))
            return 200, "ok"
        ws.ephemerals.append(ws.apply_content({"channel": channel_id or None, "user": user or None,
                                               "ts": ws.next_ts(), "text": "", "source": "response_url",
                                               "response_url_key": key}, content))
        return 200, "ok"

    def _original(self, channel_id: str, ts: str) -> tuple[JSON | None, _Channel | None]:
        ephemeral = next((e for e in self._ws.ephemerals if e.get("ts") == ts), None)
        if ephemeral is not None:
            return ephemeral, None
        channel = self._ws.channels.get(channel_id)
        return (channel.by_ts.get(ts), channel) if channel else (None, None)

    def _delete_original(self, channel_id: str, ts: str) -> tuple[int, str]:
        original, channel = self._original(channel_id, ts)
        if original is None:
            return 404, "message_not_found"
        if channel is None:
            self._ws.ephemerals[:] = [e for e in self._ws.ephemerals if e is not original]
        else:
            self._ws.remove_message(channel, ts)
        return 200, "ok"

    def _replace_original(self, channel_id: str, ts: str, content: JSON) -> tuple[int, str]:
        original, channel = self._original(channel_id, ts)
        if original is None:
            return 404, "message_not_found"
        original.pop("blocks", None)  # a replacement is a whole new message body
        self._ws.apply_content(original, content)
        if channel is not None:
            original["edited"] = {"user": BOT_USER_ID, "ts": self._ws.next_ts()}
        return 200, "ok"
