"""Slack messages as a person reads them: render_message, and the transcript of a workspace for the demo."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from bot.slack.standin.calls import JSON
from bot.slack.standin.records import _Channel
from bot.slack.standin.seed import BOT_ID, BOT_REAL_NAME, BOT_USER_ID, SEED_CHANNELS, SEED_USERS
from bot.slack.standin.timestamps import _ts_micros
from bot.slack.standin.workspace import _Workspace

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
    "red_circle": "🔴",
    "large_orange_circle": "🟠",
    "large_yellow_circle": "🟡",
    "large_green_circle": "🟢",
    "large_blue_circle": "🔵",
    "white_circle": "⚪",
    "black_circle": "⚫",
    "warning": "⚠️",
    "rotating_light": "🚨",
    "white_check_mark": "✅",
    "heavy_check_mark": "✔️",
    "x": "❌",
    "hourglass": "⌛",
    "hourglass_flowing_sand": "⏳",
    "alarm_clock": "⏰",
    "fire": "🔥",
    "eyes": "👀",
    "bell": "🔔",
    "memo": "📝",
    "pushpin": "📌",
    "arrow_up": "⬆️",
    "arrow_right": "➡️",
    "speech_balloon": "💬",
    "ticket": "🎫",
    "bug": "🐛",
    "sos": "🆘",
    "thumbsup": "👍",
    "+1": "👍",
    "tada": "🎉",
    "information_source": "ℹ️",
    "calendar": "📅",
    "clipboard": "📋",
    # playbook runs and incidents
    "loudspeaker": "📢",
    "repeat": "🔁",
    "arrow_forward": "▶️",
    "fast_forward": "⏩",
    "checkered_flag": "🏁",
    "no_entry": "⛔",
    "bust_in_silhouette": "👤",
    "twisted_rightwards_arrows": "🔀",
    "mute": "🔇",
    "mailbox_with_mail": "📬",
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
        lines += [" | ".join(cells[row : row + 2]) for row in range(0, len(cells), 2)]
        accessory = block.get("accessory")
        if isinstance(accessory, dict) and accessory.get("type") != "image":
            lines.append(self.element(accessory))
        return lines

    def context(self, block: JSON) -> list[str]:
        parts = [
            f"[image: {item.get('alt_text', '')}]"
            if isinstance(item, dict) and item.get("type") == "image"
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
        self.plain = _Plain(
            {u.id: u.real_name for u in ws.users.values()}, {c.id: c.name for c in ws.channels.values()}
        )

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
            self.channel(ch)
            for ch in self.ws.channels.values()
            if ch.messages or any(e.get("channel") == ch.id for e in self.ws.ephemerals)
        ]
        unbound = [e for e in self.ws.ephemerals if e.get("channel") not in self.ws.channels]
        if unbound:
            lines = ["(responses in channels the stand-in does not know)"]
            for ephemeral in unbound:
                lines += self.entry({**ephemeral, "bot_id": BOT_ID}, "  ", f"[{ephemeral.get('channel')}] ")
            sections.append(lines)
        return "\n\n".join("\n".join(lines) for lines in sections) + ("\n" if sections else "")
