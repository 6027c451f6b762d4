"""What the workspace keeps: users, channels (with their messages and threads) and uploaded files."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from bot.slack.standin.calls import JSON

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
