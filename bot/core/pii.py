"""Masking personal data and secrets in text Frontline repeats outside a ticket (digests, exports,
logs): e-mail addresses, phone numbers, card numbers and Slack or bearer tokens. Pure."""

from __future__ import annotations

import re

__all__ = ["mask_pii"]

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_TOKEN = re.compile(
    r"\b(?:xox[abposr]|xapp)-[A-Za-z0-9-]{8,}|\b(?:sk|pk)_(?:live|test)_[A-Za-z0-9]{8,}|\bBearer\s+[A-Za-z0-9._~+/-]{16,}=*",
    re.IGNORECASE,
)
# 13–19 digits, optionally grouped by spaces or dashes: a card number when the Luhn sum says so.
_CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
# A phone number: international (+country code), North American (415) 555-0132, or a national
# number with a trunk 0 (020 7946 0958). Dates, times, amounts and ids stay as they are.
_PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}"
    r"|\(?\b\d{3}\)?[ .-]\d{3}[ .-]\d{4}"
    r"|\b0\d{2,4}[ .-]\d{3,4}[ .-]\d{3,4}"
    r")(?!\w)"
)


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return "[card]" if 13 <= len(digits) <= 19 and _luhn(digits) else match.group()


def _phone(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return "[phone]" if 7 <= len(digits) <= 15 else match.group()


def mask_pii(text: str) -> str:
    """`text` with each e-mail, token, card number and phone number replaced by a marker."""
    text = _TOKEN.sub("[token]", text)
    text = _EMAIL.sub("[email]", text)
    text = _CARD.sub(_card, text)
    return _PHONE.sub(_phone, text)
