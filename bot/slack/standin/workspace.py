"""The in-memory workspace and its rules: who may read and post where, threads, views and files, and the
object shapes Slack answers with."""

from __future__ import annotations

import json
import mimetypes
import random
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.slack.standin.blockkit import VIEW_SIZE_LIMIT, validate_blocks, validate_view
from bot.slack.standin.calls import JSON, _ApiError, _Args, _clone
from bot.slack.standin.records import _Channel, _File, _User
from bot.slack.standin.seed import (
    APP_ID,
    BOT_ID,
    BOT_NAME,
    BOT_REAL_NAME,
    BOT_USER_ID,
    SEED_CHANNELS,
    SEED_USERGROUPS,
    SEED_USERS,
    TEAM_DOMAIN,
    TEAM_ID,
)
from bot.slack.standin.timestamps import _format_ts, _tz_details


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
        self.usergroups: dict[str, list[str]] = {}  # group id -> member user ids

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
            self.add_user(
                person.user_id,
                person.name,
                real_name=person.real_name,
                tz=person.tz,
                email=person.email,
                title=person.title,
                is_admin=person.is_admin,
            )
        for channel_id, name in SEED_CHANNELS:
            self.add_channel(channel_id, name)
        for group_id, _handle, members in SEED_USERGROUPS:
            self.usergroups[group_id] = list(members)

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        real_name: str,
        tz: str,
        is_bot: bool = False,
        email: str | None = None,
        title: str = "",
        is_admin: bool = False,
        channels: Sequence[str] | None = None,
    ) -> None:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {tz!r} for user {user_id}") from None
        self.users[user_id] = _User(user_id, name, real_name, tz, is_bot, email, title, is_admin)
        if is_bot:
            return
        targets = (
            [self.channel_by_ref(ref) for ref in channels]
            if channels is not None
            else [ch for ch in self.channels.values() if not (ch.is_private or ch.is_im or ch.is_mpim)]
        )
        for channel in targets:
            channel.members[user_id] = None

    def add_channel(
        self,
        channel_id: str,
        name: str,
        *,
        is_private: bool = False,
        bot_member: bool = True,
        members: Sequence[str] | None = None,
    ) -> None:
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
                "id": channel.id,
                "created": channel.created,
                "is_archived": channel.is_archived,
                "is_im": True,
                "is_org_shared": False,
                "context_team_id": TEAM_ID,
                "updated": channel.created * 1000,
                "user": channel.im_user,
                "is_user_deleted": False,
                "priority": 0,
            }
        obj: JSON = {
            "id": channel.id,
            "name": channel.name,
            "is_channel": not channel.is_mpim,
            "is_group": False,
            "is_im": False,
            "is_mpim": channel.is_mpim,
            "is_private": channel.is_private or channel.is_mpim,
            "created": channel.created,
            "is_archived": channel.is_archived,
            "is_general": False,
            "unlinked": 0,
            "name_normalized": channel.name,
            "is_shared": False,
            "is_org_shared": False,
            "is_pending_ext_shared": False,
            "pending_shared": [],
            "context_team_id": TEAM_ID,
            "updated": channel.created * 1000,
            "parent_conversation": None,
            "creator": channel.creator,
            "is_ext_shared": False,
            "shared_team_ids": [TEAM_ID],
            "pending_connected_team_ids": [],
            "is_member": BOT_USER_ID in channel.members,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "previous_names": [],
        }
        if num_members:
            obj["num_members"] = len(channel.members)
        return obj

    def user_object(self, user: _User) -> JSON:
        tz_offset, tz_label = _tz_details(user.tz)
        first, _, last = user.real_name.partition(" ")
        avatar = f"https://avatars.slack-edge.example/{user.id.lower()}"
        profile: JSON = {
            "title": user.title,
            "phone": "",
            "skype": "",
            "real_name": user.real_name,
            "real_name_normalized": user.real_name,
            "display_name": "" if user.is_bot else user.name,
            "display_name_normalized": "" if user.is_bot else user.name,
            "fields": None,
            "status_text": "",
            "status_emoji": "",
            "status_emoji_display_info": [],
            "status_expiration": 0,
            "avatar_hash": f"g{abs(hash(user.id)) % 16**11:011x}",
            "first_name": first,
            "last_name": last,
            **{f"image_{size}": f"{avatar}_{size}.png" for size in (24, 32, 48, 72, 192, 512)},
            "status_text_canonical": "",
            "team": TEAM_ID,
        }
        if user.is_bot:
            profile.update({"bot_id": BOT_ID, "api_app_id": APP_ID, "always_active": True})
        elif user.email:
            profile["email"] = user.email
        return {
            "id": user.id,
            "team_id": TEAM_ID,
            "name": user.name,
            "deleted": False,
            "color": "9f69e7",
            "real_name": user.real_name,
            "tz": user.tz,
            "tz_label": tz_label,
            "tz_offset": tz_offset,
            "profile": profile,
            "is_admin": user.is_admin,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": user.is_bot,
            "is_app_user": False,
            "updated": user.updated,
            "is_email_confirmed": not user.is_bot,
            "who_can_share_contact_card": "EVERYONE",
        }

    def _bot_profile(self) -> JSON:
        return {
            "id": BOT_ID,
            "app_id": APP_ID,
            "name": BOT_REAL_NAME,
            "icons": {},
            "deleted": False,
            "updated": 0,
            "team_id": TEAM_ID,
        }

    def bot_message(self, ts: str, content: JSON) -> JSON:
        message: JSON = {
            "user": BOT_USER_ID,
            "type": "message",
            "ts": ts,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "text": "",
            "team": TEAM_ID,
            "bot_profile": self._bot_profile(),
        }
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

    def store_message(self, channel: _Channel, message: JSON, *, thread_ts: str = "", broadcast: bool = False) -> None:
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
        parent.update(
            {
                "thread_ts": parent["ts"],
                "reply_count": len(replies),
                "reply_users_count": len(users),
                "latest_reply": replies[-1]["ts"],
                "reply_users": users,
                "is_locked": False,
                "subscribed": False,
            }
        )

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
            tombstone = {
                "type": "message",
                "subtype": "tombstone",
                "text": "This message was deleted.",
                "user": "USLACKBOT",
                "hidden": True,
                "ts": ts,
            }
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

    @staticmethod
    def add_reaction(message: JSON, name: str, user: str) -> bool:
        """Add `user`'s `name` reaction to `message`; False if they had already reacted so."""
        reactions: list[JSON] = message.setdefault("reactions", [])
        entry = next((r for r in reactions if r["name"] == name), None)
        if entry is not None and user in entry["users"]:
            return False
        if entry is None:
            entry = {"name": name, "users": [], "count": 0}
            reactions.append(entry)
        entry["users"].append(user)
        entry["count"] += 1
        return True

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

    def view_object(
        self, spec: JSON, *, view_id: str, root_view_id: str | None = None, previous_view_id: str | None = None
    ) -> JSON:
        return {
            "id": view_id,
            "team_id": TEAM_ID,
            "type": spec["type"],
            "blocks": self.with_block_ids(spec.get("blocks") or []),
            "private_metadata": spec.get("private_metadata", ""),
            "callback_id": spec.get("callback_id", ""),
            "state": {"values": {}},
            "hash": self._new_hash(),
            "title": _clone(spec.get("title")),
            "clear_on_close": bool(spec.get("clear_on_close", False)),
            "notify_on_close": bool(spec.get("notify_on_close", False)),
            "close": _clone(spec.get("close")),
            "submit": _clone(spec.get("submit")),
            "previous_view_id": previous_view_id,
            "root_view_id": root_view_id or view_id,
            "app_id": APP_ID,
            "external_id": spec.get("external_id", ""),
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
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
            "id": upload.id,
            "created": now,
            "timestamp": now,
            "name": upload.name,
            "title": title,
            "mimetype": mimetype,
            "filetype": filetype,
            "pretty_type": filetype.upper(),
            "user": BOT_USER_ID,
            "user_team": TEAM_ID,
            "editable": False,
            "size": len(upload.data or b""),
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": bool(channel and not channel.is_private),
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": url_private,
            "url_private_download": url_private,
            "permalink": f"https://{TEAM_DOMAIN}.slack.com/files/{BOT_USER_ID}/{upload.id}/{upload.name}",
            "comments_count": 0,
            "channels": [],
            "groups": [],
            "ims": [],
            "shares": {},
            "has_rich_preview": False,
            "file_access": "visible",
        }
        if upload.alt_txt:
            info["alt_txt"] = upload.alt_txt
        if channel is not None and ts is not None:
            bucket = "ims" if channel.is_im else "groups" if channel.is_private else "channels"
            info[bucket] = [channel.id]
            share = {
                "reply_users": [],
                "reply_users_count": 0,
                "reply_count": 0,
                "ts": ts,
                "channel_name": channel.name,
                "team_id": TEAM_ID,
                "share_user_id": BOT_USER_ID,
                "source": "UNKNOWN",
            }
            info["shares"] = {"private" if channel.is_private or channel.is_im else "public": {channel.id: [share]}}
        return info
