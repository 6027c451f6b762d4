"""What a Web API call is made of: its arguments, its error answer, cursor pagination, the record kept of it."""

from __future__ import annotations

import base64
import copy
from dataclasses import dataclass
from typing import Any, TypeVar

JSON = dict[str, Any]
T = TypeVar("T")


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


def _clone(value: T) -> T:
    return copy.deepcopy(value)


def _id_list(value: Any) -> list[str]:
    """`users` arrive as "U1,U2" (form) or a JSON list."""
    if isinstance(value, list):
        return [str(item).strip() for item in value if str(item).strip()]
    return [part.strip() for part in str(value or "").split(",") if part.strip()]


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
