"""Sends requests to the app's `/slack/events` exactly as Slack formats and signs them.

Slash commands and interactive payloads are form-encoded, events are JSON; every request carries
`X-Slack-Request-Timestamp` and a `v0=` HMAC-SHA256 `X-Slack-Signature`. One keep-alive connection per
thread keeps thousands of requests cheap in benchmarks.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import itertools
import json
import secrets
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlencode, urlsplit

from bot.slack.standin import APP_ID, BOT_NAME, BOT_USER_ID, SEED_CHANNELS, SEED_USERS, TEAM_DOMAIN, TEAM_ID

__all__ = ["VERIFICATION_TOKEN", "SlackResponse", "SlackSimulator", "sign"]

JSON = dict[str, Any]

# Slack still sends the deprecated verification token in every payload; apps must not rely on it.
VERIFICATION_TOKEN = "frontline-standin-verification-token"
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
# A fixed middle part keeps trigger ids shaped like Slack's (`<n>.<n>.<hex>`) without meaning anything.
_TRIGGER_MIDDLE = "5213967413"

_USER_NAMES = {user.user_id: user.name for user in SEED_USERS} | {BOT_USER_ID: BOT_NAME}
_CHANNEL_NAMES = dict(SEED_CHANNELS)
# A dropped keep-alive connection shows up as one of these on the next request over it.
_STALE_CONNECTION_ERRORS = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


def sign(signing_secret: str, timestamp: int, body: bytes) -> str:
    """Slack's request signature: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}`."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class SlackResponse:
    """What the app answered: status, body text, headers (lower-case names), wall time in seconds."""

    status: int
    body: str
    headers: dict[str, str]
    elapsed: float

    def json(self) -> Any:
        """The body parsed as JSON; None for an empty body (a bare `ack()`)."""
        return json.loads(self.body) if self.body.strip() else None


class SlackSimulator:
    """Plays Slack's side of the Events API and interactivity against one `/slack/events` URL."""

    def __init__(
        self,
        events_url: str,
        signing_secret: str,
        *,
        team_id: str = TEAM_ID,
        team_domain: str = TEAM_DOMAIN,
        api_app_id: str = APP_ID,
        response_url_base: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        parts = urlsplit(events_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"events_url must be an http(s) URL, not {events_url!r}")
        self.events_url = events_url
        self.signing_secret = signing_secret
        self.team_id = team_id
        self.team_domain = team_domain
        self.api_app_id = api_app_id
        self.response_url_base = response_url_base
        self.timeout = timeout
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._local = threading.local()
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self._connections: list[http.client.HTTPConnection] = []

    # lifecycle

    def close(self) -> None:
        """Close every connection this simulator opened, in any thread."""
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()

    def __enter__(self) -> SlackSimulator:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # what Slack sends

    def slash_command(
        self,
        command: str,
        text: str,
        *,
        user_id: str,
        channel_id: str,
        channel_name: str | None = None,
        user_name: str | None = None,
    ) -> SlackResponse:
        """A slash command invocation, form-encoded in Slack's field order."""
        fields = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel_id,
            "channel_name": channel_name or _channel_name(channel_id),
            "user_id": user_id,
            "user_name": user_name or _user_name(user_id),
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": self._response_url("commands", channel=channel_id, user=user_id),
            "trigger_id": self.new_trigger_id(),
        }
        return self._signed_post(urlencode(fields).encode(), "application/x-www-form-urlencoded")

    def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        event_time: int | None = None,
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> SlackResponse:
        """An Events API `event_callback`; retry_num adds Slack's X-Slack-Retry-Num / -Reason headers."""
        inner = dict(event)
        inner.setdefault("event_ts", f"{time.time():.6f}")
        envelope = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "context_team_id": self.team_id,
            "context_enterprise_id": None,
            "api_app_id": self.api_app_id,
            "event": inner,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._counter):08d}{secrets.token_hex(2).upper()}",
            "event_time": event_time if event_time is not None else int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{secrets.token_urlsafe(24)}",
        }
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason or "http_timeout"}
        return self._signed_post(json.dumps(envelope).encode(), "application/json", headers=headers)

    def block_action(
        self,
        *,
        user_id: str,
        actions: list[dict[str, Any]],
        channel_id: str | None = None,
        message: dict[str, Any] | None = None,
        view: dict[str, Any] | None = None,
        container: dict[str, Any] | None = None,
        trigger_id: str | None = None,
    ) -> SlackResponse:
        """A `block_actions` payload from a message (give channel_id + message) or a view (give view)."""
        container = container or _default_container(channel_id, message, view)
        payload: JSON = {
            "type": "block_actions",
            "user": self._user(user_id),
            "api_app_id": self.api_app_id,
            "token": VERIFICATION_TOKEN,
            "container": container,
            "trigger_id": trigger_id or self.new_trigger_id(),
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
        }
        if channel_id is not None:
            payload["channel"] = {"id": channel_id, "name": _channel_name(channel_id)}
        if view is not None:
            payload["view"] = view
        if container.get("type") == "message":
            if message is not None:
                payload["message"] = message
            payload["state"] = {"values": {}}
            payload["response_url"] = self._response_url(
                "actions", channel=channel_id, user=user_id, message_ts=container.get("message_ts")
            )
        blocks = (message or view or {}).get("blocks") or []
        payload["actions"] = [_complete_action(action, blocks) for action in actions]
        return self._interactive(payload)

    def view_submission(self, *, user_id: str, view: dict[str, Any]) -> SlackResponse:
        """A `view_submission`; the view must carry id, callback_id, private_metadata and state.values."""
        missing = [key for key in ("id", "callback_id", "private_metadata", "state") if key not in view]
        if missing or not isinstance(view.get("state"), dict) or "values" not in view["state"]:
            raise ValueError(
                f"view_submission needs a view with id, callback_id, private_metadata and "
                f"state.values (missing: {missing or ['state.values']})"
            )
        payload: JSON = {
            "type": "view_submission",
            "team": self._team(),
            "user": self._user(user_id),
            "api_app_id": self.api_app_id,
            "token": VERIFICATION_TOKEN,
            "trigger_id": self.new_trigger_id(),
            "view": self._full_view(view),
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        return self._interactive(payload)

    def message_shortcut(
        self, *, callback_id: str, user_id: str, channel_id: str, message: dict[str, Any]
    ) -> SlackResponse:
        """A message shortcut, which Slack sends as `type: message_action`."""
        payload: JSON = {
            "type": "message_action",
            "token": VERIFICATION_TOKEN,
            "action_ts": f"{time.time():.6f}",
            "team": self._team(),
            "user": self._user(user_id),
            "channel": {"id": channel_id, "name": _channel_name(channel_id)},
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": self.new_trigger_id(),
            "response_url": self._response_url("actions", channel=channel_id, user=user_id),
            "message_ts": message.get("ts"),
            "message": message,
        }
        return self._interactive(payload)

    def global_shortcut(self, *, callback_id: str, user_id: str) -> SlackResponse:
        """A global shortcut (`type: shortcut`)."""
        payload: JSON = {
            "type": "shortcut",
            "token": VERIFICATION_TOKEN,
            "action_ts": f"{time.time():.6f}",
            "team": self._team(),
            "user": {"id": user_id, "username": _user_name(user_id), "team_id": self.team_id},
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": self.new_trigger_id(),
        }
        return self._interactive(payload)

    def url_verification(self, challenge: str) -> SlackResponse:
        """The handshake Slack sends when the Request URL is saved."""
        body = {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
        return self._signed_post(json.dumps(body).encode(), "application/json")

    def send_raw(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> SlackResponse:
        """Any body; signed correctly unless `signature` (or a stale `timestamp`) says otherwise."""
        return self._signed_post(body, content_type, timestamp=timestamp, signature=signature, headers=headers)

    # helpers a test may want

    def sign(self, timestamp: int, body: bytes) -> str:
        """The X-Slack-Signature for this body and timestamp."""
        return sign(self.signing_secret, timestamp, body)

    def new_trigger_id(self) -> str:
        """A unique trigger id in Slack's `<n>.<n>.<hex>` shape."""
        return f"{next(self._counter)}{int(time.time() * 1000) % 10**6:06d}.{_TRIGGER_MIDDLE}.{secrets.token_hex(16)}"

    # payload pieces

    def _team(self) -> JSON:
        return {"id": self.team_id, "domain": self.team_domain}

    def _user(self, user_id: str) -> JSON:
        name = _user_name(user_id)
        return {"id": user_id, "username": name, "name": name, "team_id": self.team_id}

    def _full_view(self, view: dict[str, Any]) -> JSON:
        defaults: JSON = {
            "team_id": self.team_id,
            "type": "modal",
            "blocks": [],
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "title": {"type": "plain_text", "text": "Frontline"},
            "clear_on_close": False,
            "notify_on_close": False,
            "close": None,
            "submit": {"type": "plain_text", "text": "Submit"},
            "previous_view_id": None,
            "root_view_id": view["id"],
            "app_id": self.api_app_id,
            "external_id": "",
            "app_installed_team_id": self.team_id,
            "bot_id": None,
        }
        return defaults | view

    def _response_url(self, kind: str, *, channel: str | None, user: str | None, message_ts: str | None = None) -> str:
        serial = next(self._counter)
        secret = secrets.token_hex(12)
        if self.response_url_base is None:
            return f"https://hooks.slack.com/{kind}/{self.team_id}/{serial}/{secret}"
        # The stand-in reads channel/user/ts back from the query to know where the response belongs.
        binding = {k: v for k, v in (("channel", channel), ("user", user), ("ts", message_ts)) if v}
        query = f"?{urlencode(binding)}" if binding else ""
        return f"{self.response_url_base}{kind}-{serial}-{secret}{query}"

    # HTTP

    def _interactive(self, payload: JSON) -> SlackResponse:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self._signed_post(body, "application/x-www-form-urlencoded")

    def _signed_post(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> SlackResponse:
        stamp = int(time.time()) if timestamp is None else timestamp
        all_headers = {
            "Content-Type": content_type,
            "User-Agent": USER_AGENT,
            "Accept": "application/json,*/*",
            "X-Slack-Request-Timestamp": str(stamp),
            "X-Slack-Signature": signature if signature is not None else self.sign(stamp, body),
        }
        all_headers.update(headers or {})
        return self._send(body, all_headers)

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        """This thread's keep-alive connection, and whether it has been used before."""
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is not None:
            return connection, True
        if self._https:
            connection = http.client.HTTPSConnection(self._host, self._port, timeout=self.timeout)
        else:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
        self._local.connection = connection
        with self._lock:
            self._connections.append(connection)
        return connection, False

    def _drop_connection(self) -> None:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            connection.close()
            with self._lock:
                self._connections = [c for c in self._connections if c is not connection]

    def _send(self, body: bytes, headers: dict[str, str]) -> SlackResponse:
        for attempt in (1, 2):
            connection, reused = self._connection()
            started = time.perf_counter()
            try:
                connection.request("POST", self._path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
            except _STALE_CONNECTION_ERRORS:
                self._drop_connection()
                # Only a reused connection may have gone stale; retrying a fresh one would hide real failures.
                if reused and attempt == 1:
                    continue
                raise
            except Exception:
                self._drop_connection()
                raise
            elapsed = time.perf_counter() - started
            if response.will_close:
                self._drop_connection()
            headers_out = {name.lower(): value for name, value in response.getheaders()}
            return SlackResponse(response.status, data.decode("utf-8", "replace"), headers_out, elapsed)
        raise AssertionError("unreachable: the second attempt returns or raises")


def _user_name(user_id: str) -> str:
    return _USER_NAMES.get(user_id, user_id.lower())


def _channel_name(channel_id: str) -> str:
    if channel_id in _CHANNEL_NAMES:
        return _CHANNEL_NAMES[channel_id]
    if channel_id.startswith("D"):
        return "directmessage"
    if channel_id.startswith("G"):
        return "privategroup"
    return channel_id.lower()


def _default_container(channel_id: str | None, message: JSON | None, view: JSON | None) -> JSON:
    if view is not None:
        return {"type": "view", "view_id": view.get("id")}
    return {
        "type": "message",
        "message_ts": (message or {}).get("ts"),
        "channel_id": channel_id,
        "is_ephemeral": message is None,
    }


def _complete_action(action: JSON, blocks: list[Any]) -> JSON:
    """Fill what Slack always sends: action_ts, a type, and the block_id of the element's block."""
    full = dict(action)
    full.setdefault("type", "button")
    full.setdefault("action_ts", f"{time.time():.6f}")
    if "block_id" not in full:
        block_id = _block_id_of(full.get("action_id"), blocks)
        if block_id is not None:
            full["block_id"] = block_id
    return full


def _block_id_of(action_id: Any, blocks: list[Any]) -> str | None:
    for block in blocks:
        if not isinstance(block, dict):
            continue
        elements = [*(block.get("elements") or []), block.get("accessory"), block.get("element")]
        if any(isinstance(e, dict) and e.get("action_id") == action_id for e in elements):
            block_id = block.get("block_id")
            return str(block_id) if block_id is not None else None
    return None
