"""The Web API method table (required arguments, one-of groups) and the check of a call's arguments against it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.slack.standin.calls import _ApiError, _Args

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
    "usergroups.users.list": _MethodSpec(("usergroup",)),
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


def _check_arguments(method: str, args: _Args) -> None:
    spec = METHOD_SPECS[method]
    missing = [name for name in spec.required if not args.has(name)]
    if missing:
        raise _ApiError("invalid_arguments", *(f"[ERROR] missing required field: {name}" for name in missing))
    for group in spec.one_of:
        if not any(args.has(name) for name in group):
            error = _ONE_OF_ERRORS.get(method, "invalid_arguments")
            raise _ApiError(error, f"[ERROR] one of [{', '.join(group)}] is required")
