"""SlackStandIn: the stand-in's public face. It serves the workspace over loopback HTTP, routes Web API,
upload, download and response_url requests, checks auth, injects failures and records every call."""

from __future__ import annotations

import contextlib
import json
import mimetypes
import random
import socket
import threading
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from bot.slack.standin.blockkit import MESSAGE_TEXT_LIMIT
from bot.slack.standin.calls import JSON, RecordedCall, _ApiError, _Args, _clone
from bot.slack.standin.methods import _HANDLERS
from bot.slack.standin.records import _Channel
from bot.slack.standin.render import _Transcript
from bot.slack.standin.seed import BOT_USER_ID
from bot.slack.standin.specs import _check_arguments
from bot.slack.standin.transport import (
    _HttpReply,
    _HttpRequest,
    _json_reply,
    _parse_args,
    _parse_multipart,
    _Server,
    _text_reply,
)
from bot.slack.standin.workspace import _Workspace

_FAILURE_STATUS = {"429": 429, "500": 500, "502": 502, "503": 503, "504": 504}
_FAILURE_ERRORS = {
    429: "ratelimited",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "request_timeout",
}


# --- the public stand-in ---------------------------------------------------------------------------------


class SlackStandIn:
    """A Slack Web API on loopback: point `WebClient(base_url=standin.api_url)` at it."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_token: str = "xoxb-standin",
        failure_rate: float = 0.0,
        failure_kinds: tuple[str, ...] = ("429", "500"),
        retry_after: int = 1,
        seed: int | None = None,
        chat_write_public: bool = True,
    ) -> None:
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
        self._delays: dict[str, float] = {}
        self._calls: list[RecordedCall] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._ws = _Workspace(
            base_url=lambda: self.base_url, chat_write_public=chat_write_public, rng=random.Random(seed)
        )
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

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
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

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        tz: str = "America/New_York",
        is_bot: bool = False,
        real_name: str | None = None,
        email: str | None = None,
        channels: Sequence[str] | None = None,
    ) -> None:
        """Add a user; a person joins every public channel unless `channels` (IDs or #names) says where."""
        with self._lock:
            self._ws.add_user(
                user_id, name, real_name=real_name or name, tz=tz, is_bot=is_bot, email=email, channels=channels
            )

    def add_channel(
        self,
        channel_id: str,
        name: str,
        *,
        is_private: bool = False,
        bot_member: bool = True,
        members: Sequence[str] | None = None,
    ) -> None:
        """Add a channel; `members` defaults to every person in the workspace."""
        with self._lock:
            self._ws.add_channel(channel_id, name, is_private=is_private, bot_member=bot_member, members=members)

    def set_usergroup(self, group_id: str, members: Sequence[str]) -> None:
        """Create user group `group_id` or replace its members."""
        with self._lock:
            self._ws.usergroups[group_id] = list(members)

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

    def set_delay(self, method: str, seconds: float) -> None:
        """Answer `method` only after `seconds` (a slow Slack); 0 takes the delay away."""
        with self._lock:
            self._delays[method] = seconds

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

    def wait_for_calls(self, method: str, count: int = 1, *, timeout: float = 5.0) -> list[RecordedCall]:
        """The calls of one method once there are at least `count` (an app makes some after its ack,
        in a lazy listener); TimeoutError if they do not come."""
        deadline = time.monotonic() + timeout
        while len(calls := self.calls_to(method)) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(calls)} calls to {method} within {timeout:g} s, expected {count}")
            time.sleep(0.01)
        return calls

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

    def channel_id(self, name: str) -> str | None:
        """The ID of the channel called `name` (with or without #), None when there is none."""
        with self._lock:
            try:
                return self._ws.channel_by_ref(name if name.startswith("#") else f"#{name}").id
            except KeyError:
                return None

    def channel_members(self, channel: str) -> list[str]:
        with self._lock:
            return list(self._ws.channel_by_ref(channel).members)

    def join(self, channel: str, user: str) -> None:
        """A person joins a channel."""
        with self._lock:
            self._ws.channel_by_ref(channel).members[user] = None

    def archive(self, channel: str) -> None:
        """Archive a channel, as a person would in Slack."""
        with self._lock:
            self._ws.channel_by_ref(channel).is_archived = True

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

    def post_as_user(self, channel: str, user: str, text: str, *, thread_ts: str | None = None) -> dict[str, Any]:
        """A person posts `text` (Slack's wire format); returns the `message` event Slack would send."""
        with self._lock:
            found = self._ws.channel_by_ref(channel)
            ts = self._ws.next_ts()
            message: dict[str, Any] = {"type": "message", "user": user, "text": text, "ts": ts}
            self._ws.store_message(found, message, thread_ts=thread_ts or "")
            event = {**message, "channel": found.id, "channel_type": "im" if found.id.startswith("D") else "channel"}
            if thread_ts:
                event["thread_ts"] = thread_ts
            return event

    def react_as_user(self, channel: str, user: str, ts: str, name: str) -> dict[str, Any]:
        """A person reacts with `name` on the message `ts`; returns the `reaction_added` event Slack would send."""
        with self._lock:
            found = self._ws.channel_by_ref(channel)
            message = found.by_ts.get(ts)
            if message is None:
                raise KeyError(f"no message {ts} in {channel}")
            self._ws.add_reaction(message, name, user)
            return {
                "type": "reaction_added",
                "user": user,
                "reaction": name,
                "item": {"type": "message", "channel": found.id, "ts": ts},
                "item_user": message.get("user", ""),
                "event_ts": self._ws.next_ts(),
            }

    def render(self, message: dict[str, Any]) -> str:
        """A message as a person in this workspace reads it: people's and channels' names (channels
        created since the start too), blocks as text."""
        with self._lock:
            return "\n".join(_Transcript(self._ws).plain.message(message))

    def transcript(self) -> str:
        """Every channel with activity as readable text: messages, indented thread replies, ephemerals."""
        with self._lock:
            return _Transcript(self._ws).render()

    def response_url(
        self, key: str, *, channel: str | None = None, user: str | None = None, message_ts: str | None = None
    ) -> str:
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
            return self._web_api(request.path[len("/api/") :], request)
        if request.path.startswith("/upload/v1/") and request.verb == "POST":
            return self._upload(request.path.rsplit("/", 1)[-1], request)
        if request.path.startswith("/response_url/") and request.verb == "POST":
            return self._response_url(request.path[len("/response_url/") :], request)
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
            token = bearer[len("bearer ") :].strip()
        with self._lock:
            delay = self._delays.get(method, 0.0)
        if delay:
            time.sleep(delay)  # outside the lock: other calls go on meanwhile
        with self._lock:
            status, payload, headers = self._answer(method, token, raw, parse_error)
            reply = _json_reply(status, payload, headers)
            self._record(method, raw, status, json.loads(reply.body))
        return reply

    def _answer(
        self, method: str, token: Any, raw: JSON, parse_error: _ApiError | None
    ) -> tuple[int, JSON, dict[str, str]]:
        """Slack's order: method, auth, rate limits and outages, arguments, then the method itself."""
        handler = _HANDLERS.get(method)
        if handler is None:
            return (
                200,
                _ApiError("unknown_method", f"[standin] {method!r} is not a method the stand-in answers").payload(),
                {},
            )
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
        ws.ephemerals.append(
            ws.apply_content(
                {
                    "channel": channel_id or None,
                    "user": user or None,
                    "ts": ws.next_ts(),
                    "text": "",
                    "source": "response_url",
                    "response_url_key": key,
                },
                content,
            )
        )
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
