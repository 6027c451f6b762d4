"""Masking personal data and secrets in text Frontline repeats outside a ticket (digests, exports,
logs): e-mail addresses, phone numbers, card numbers, Slack, bearer and API tokens, passwords in URLs
and `password=…`-style secrets. Pure; the one masker, used by every place that masks."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["SECRET", "mask_pii", "mask_value"]

SECRET = "[secret]"

# Slack tokens (bot xoxb-, user xoxp-, app-level xapp-, rotating refresh xoxe- / xoxe.xoxp-), Stripe
# keys, bearer credentials, and Slack's request signature header value (v0=<sha256 hex>).
_TOKEN = re.compile(
    r"\bxox[a-z](?:\.xox[a-z])?-[A-Za-z0-9-]{6,}"
    r"|\bxapp-[A-Za-z0-9-]{6,}"
    r"|\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{8,}"
    r"|\bBearer\s+[A-Za-z0-9._~+/-]{8,}=*"
    r"|\bv0=[0-9a-f]{64}\b"
    # Slack incoming webhooks and workflow triggers: the URL is the credential.
    r"|\bhooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]+"
    # An Authorization header's credential, whatever its scheme (Basic base64 reads like a word).
    r"|\bauthorization[\"']?\s*[:=]\s*[\"']?(?:basic|digest|token)\s+[A-Za-z0-9+/._~-]+=*",
    re.IGNORECASE,
)
# scheme://user:password@host: the password goes, the user and host stay (they help debugging).
# Every pattern that starts with a run of characters also refuses to start inside such a run (the
# lookbehinds): otherwise a long run with no match ("AAAA…", "a.a.a.…") is scanned again from each of
# its characters, quadratic work that held a request thread (and the GIL) for minutes on a 500 KB body.
_URL_PASSWORD = re.compile(r"((?<![a-z0-9+.-])[a-z][a-z0-9+.-]*://[^\s/:@]*):[^\s/@]+@", re.IGNORECASE)
# password=…, "client_secret": "…", ?access_token=… — a value named as a secret.
_SECRET_KEYS = (
    r"passw(?:or)?d|pwd|secret|signing_secret|client_secret|api[_-]?key|(?:access|refresh|auth)[_-]?token|token"
)
_NAMED_SECRET = re.compile(
    rf"""(\b\w*?(?:{_SECRET_KEYS})\b["']?\s*[:=]\s*["']?)(?!\[)[^\s"'&,;}}\]]+""",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# 13–19 digits, optionally grouped by spaces, dashes or dots: a card number when the Luhn sum says so.
# Not inside a word: a Slack permalink's p1712345678123456 is a timestamp.
_CARD = re.compile(r"(?<![\w-])(?:\d[ .-]?){12,18}\d(?![\w-]|\.\d)")
# A phone number: international (+country code), North American (415) 555-0132, or a national
# number with a trunk 0 (020 7946 0958). Dates, times, amounts and ids stay as they are.
_PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}"
    r"|(?:\b1[ .-]?)?\(\d{3}\)[ .-]?\d{3}[ .-]\d{4}"
    r"|(?:\b1[ .-])?\b\d{3}[ .-]\d{3}[ .-]\d{4}"
    r"|\b0\d{2,4}[ .-]\d{3,4}[ .-]\d{3,4}"
    r"|\b0\d{3,4}[ .-]\d{5,7}"  # 07700 900123
    r"|\(0\)\s?\d{2,4}[ .-]?\d{3,4}[ .-]?\d{3,4}"  # (0)20 7946 0958, the trunk 0 in brackets
    r")(?![\w.]\d)(?!\w)"
)
# An unformatted run of digits is a phone number only where the text says so ("call me on
# 4155550132"): alone, 10 digits are as often an order number or a timestamp.
_CUED_PHONE = re.compile(
    r"(\b(?:call|phone|tel|telephone|mobile|cell|whatsapp|sms|text me|reach me|ring)\b[^\d\n]{0,16})"
    r"(\+?\d{9,14})(?!\d)",
    re.IGNORECASE,
)
# Keys whose values are secrets whatever they look like (in a log event's fields).
_SECRET_FIELD = re.compile(r"passw|secret|token|authorization|api[_-]?key|cookie|signature", re.IGNORECASE)


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    text = match.group()
    digits = re.sub(r"\D", "", text)
    return "[card]" if 13 <= len(digits) <= 19 and _card_grouping(text) and _luhn(digits) else text


def _card_grouping(text: str) -> bool:
    """Printed card numbers run together or group as cards do: four digits first, then groups of
    3–6 (4-4-4-4, Amex's 4-6-5, 4-4-4-4-3). A Slack timestamp (1712345678.123456, 10 and 6) is
    not one, though one in ten passes the Luhn sum."""
    groups = re.split(r"[ .-]", text)
    return len(groups) == 1 or (len(groups[0]) == 4 and all(3 <= len(group) <= 6 for group in groups[1:]))


def _phone(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return "[phone]" if 7 <= len(digits) <= 15 else match.group()


def mask_pii(text: str) -> str:
    """`text` with each token, secret, e-mail address, card number and phone number replaced by a
    marker. Secrets go first, so `postgresql://app:pw@db.example.com` keeps its user and host."""
    text = _TOKEN.sub("[token]", text)
    text = _URL_PASSWORD.sub(rf"\1:{SECRET}@", text)
    text = _NAMED_SECRET.sub(rf"\1{SECRET}", text)
    text = _EMAIL.sub("[email]", text)
    text = _CARD.sub(_card, text)
    text = _PHONE.sub(_phone, text)
    return _CUED_PHONE.sub(r"\1[phone]", text)


def mask_value(value: Any, *, clip: int | None = None) -> Any:
    """`value` with every string in it masked: dicts (a field named like a secret loses its whole
    value), lists, tuples and sets keep their type; numbers, booleans and None are left alone; any
    other object is masked as its text only when that text holds something to mask. With `clip`, a
    string longer than that is cut to it first (the rest is named, not kept)."""
    if isinstance(value, str):
        return mask_pii(_clipped(value, clip))
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {
            key: SECRET
            if isinstance(key, str) and _SECRET_FIELD.search(key) and value[key]
            else mask_value(value[key], clip=clip)
            for key in value
        }
    if isinstance(value, list | tuple | set | frozenset):
        return type(value)(mask_value(item, clip=clip) for item in value)
    text = _clipped(str(value), clip)
    masked = mask_pii(text)
    return masked if masked != text else value


def _clipped(text: str, clip: int | None) -> str:
    if clip is None or len(text) <= clip:
        return text
    return f"{text[:clip]}… [{len(text) - clip} more characters]"
