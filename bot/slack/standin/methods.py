"""The Web API method handlers, one function per method, and the method → handler table."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from bot.slack.standin.blockkit import DM_LIMIT_USERS, MESSAGE_TEXT_LIMIT, UPDATE_TEXT_LIMIT
from bot.slack.standin.calls import JSON, _ApiError, _Args, _clone, _id_list, _page
from bot.slack.standin.records import _Channel, _File
from bot.slack.standin.seed import BOT_ID, BOT_NAME, BOT_USER_ID, TEAM_DOMAIN, TEAM_ID, TEAM_NAME
from bot.slack.standin.timestamps import _ts_micros
from bot.slack.standin.workspace import _Workspace

_CHANNEL_NAME_OK = re.compile(r"^[\w-]+$")
_EMOJI_NAME_OK = re.compile(r"^[a-z0-9_+'\-]+(::skin-tone-[2-6])?$")


# --- Web API method handlers (table at the end) ------------------------------------------------------

_Handler = Callable[[_Workspace, _Args], JSON]


def _auth_test(ws: _Workspace, args: _Args) -> JSON:
    return {
        "url": f"https://{TEAM_DOMAIN}.slack.com/",
        "team": TEAM_NAME,
        "user": BOT_NAME,
        "team_id": TEAM_ID,
        "user_id": BOT_USER_ID,
        "bot_id": BOT_ID,
        "is_enterprise_install": False,
    }


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
    record = ws.apply_content(
        {"channel": channel.id, "user": user, "ts": ts, "text": "", "source": "chat.postEphemeral"}, content
    )
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
        ch
        for ch in ws.channels.values()
        if _conversation_type(ch) in types and ws.visible(ch) and not (exclude_archived and ch.is_archived)
    ]
    page, next_cursor = _page(matches, args, default_limit=100)
    return {
        "channels": [ws.channel_object(ch, num_members=True) for ch in page],
        "response_metadata": {"next_cursor": next_cursor},
    }


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
    return {
        "messages": _clone(page),
        "has_more": bool(next_cursor),
        "pin_count": 0,
        "channel_actions_ts": None,
        "channel_actions_count": 0,
        "response_metadata": {"next_cursor": next_cursor},
    }


def _conversations_replies(ws: _Workspace, args: _Args) -> JSON:
    channel = ws.readable(args.text_of("channel"))
    root = ws.thread_root(channel, args.text_of("ts"))
    if root is None:
        raise _ApiError("thread_not_found")
    window = _ts_bounds(args)
    thread = [root] + [m for m in channel.replies.get(root["ts"], []) if _in_window(m, window)]
    page, next_cursor = _page(thread, args, default_limit=1000)
    return {"messages": _clone(page), "has_more": bool(next_cursor), "response_metadata": {"next_cursor": next_cursor}}


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


def _usergroups_users_list(ws: _Workspace, args: _Args) -> JSON:
    members = ws.usergroups.get(args.text_of("usergroup"))
    if members is None:
        raise _ApiError("no_such_subteam")
    return {"users": list(members)}


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
    view = ws.view_object(
        spec, view_id=current["id"], root_view_id=current["root_view_id"], previous_view_id=current["previous_view_id"]
    )
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
    if not ws.add_reaction(message, name, BOT_USER_ID):
        raise _ApiError("already_reacted")
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
        content: JSON = {
            "text": args.text_of("initial_comment"),
            "files": _clone(infos),
            "upload": True,
            "display_as_bot": False,
        }
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
    "usergroups.users.list": _usergroups_users_list,
    "views.open": _views_open,
    "views.update": _views_update,
    "views.push": _views_push,
    "views.publish": _views_publish,
    "reactions.add": _reactions_add,
    "reactions.remove": _reactions_remove,
    "files.getUploadURLExternal": _files_get_upload_url,
    "files.completeUploadExternal": _files_complete_upload,
}
