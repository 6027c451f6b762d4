"""Erasing one person's data from stored values (`frontline erase-user`), pure.

A person's words are copied beyond the rows they wrote: a ticket's title is in its card (escaped for
mrkdwn, shortened with "…"), in the digest's snapshot, in a playbook run's title, in audit text, in
an incident channel's name. `Scrubber` finds those copies in any stored string or JSON value: each of
the person's texts in the forms Frontline writes it (as typed, escaped, masked, one line, as a channel
slug), and the person's Slack ID as a whole word. A value still holding the start of one of their
longer texts (a shortened copy) is replaced whole."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.core.incidents import slug
from bot.core.pii import mask_pii
from bot.core.text import escape_mrkdwn

__all__ = ["ERASED", "MIN_SUBSTRING", "Scrubber", "erase_strings", "is_user_id"]

ERASED = "[erased]"
# A text shorter than this ("thanks", "help", "open") is erased only in the rows the person wrote:
# looked for anywhere else it would take other people's words (and statuses) with it.
MIN_SUBSTRING = 12
# The start of a longer text, found in a value after the exact copies went, marks a shortened copy.
PREFIX = 24
_USER_ID = re.compile(r"[UW][A-Z0-9_]{1,31}")


def is_user_id(text: str) -> bool:
    """A Slack user ID as Frontline's config accepts them (U0123, W0123)."""
    return _USER_ID.fullmatch(text) is not None


def _forms(text: str) -> set[str]:
    """The forms in which Frontline stores or shows `text`."""
    one_line = " ".join(text.split())
    forms = {text, text.strip(), one_line}
    forms |= {escape_mrkdwn(form) for form in list(forms)}
    forms |= {mask_pii(form) for form in list(forms)}
    forms |= {line.strip() for line in text.splitlines()}
    forms.add(slug(text))
    return {form for form in forms if form and form not in {"incident", ERASED}}


@dataclass(frozen=True)
class Scrubber:
    """Replaces one person's ID and texts in stored values with `ERASED`."""

    user_id: str
    texts: tuple[str, ...] = ()
    _substrings: tuple[str, ...] = field(init=False, repr=False)
    _prefixes: tuple[str, ...] = field(init=False, repr=False)
    _keys: tuple[str, ...] | None = field(init=False, repr=False)
    _id: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        forms = {form for text in self.texts for form in _forms(text)}
        # Longest first, so a text is replaced before a line of it could leave the rest behind.
        substrings = sorted((f for f in forms if len(f) >= MIN_SUBSTRING), key=len, reverse=True)
        object.__setattr__(self, "_substrings", tuple(substrings))
        prefixes = {form[:PREFIX] for form in substrings if len(form) > PREFIX}
        object.__setattr__(self, "_prefixes", tuple(sorted(prefixes)))
        object.__setattr__(self, "_keys", _keys(self.user_id, substrings))
        object.__setattr__(self, "_id", re.compile(rf"(?<![A-Za-z0-9_]){re.escape(self.user_id)}(?![A-Za-z0-9_])"))

    @classmethod
    def of(cls, user_id: str, texts: Iterable[str]) -> Scrubber:
        return cls(user_id, tuple(dict.fromkeys(text for text in texts if text and text.strip())))

    @property
    def keys(self) -> tuple[str, ...] | None:
        """Lower-case ASCII words of which every value this scrubber changes holds at least one, also
        as JSON text (a database can look for them); None when some text has no such word."""
        return self._keys

    def text(self, value: str) -> str:
        """`value` without the person's ID and texts (whole, when only a shortened copy is left)."""
        for form in self._substrings:
            if form in value:
                value = value.replace(form, ERASED)
        if any(prefix in value for prefix in self._prefixes):
            return ERASED
        return self._id.sub(ERASED, value)

    def value(self, value: Any) -> Any:
        """A JSON value with every string in it (keys too) scrubbed."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(key) if isinstance(key, str) else key: self.value(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.value(item) for item in value]
        return value


_ASCII_WORD = re.compile(r"[A-Za-z0-9]{4,}")


def _keys(user_id: str, substrings: Iterable[str]) -> tuple[str, ...] | None:
    # A changed value holds the ID, a whole form (12+ characters) or a form's first PREFIX characters,
    # so a word inside a form's first PREFIX characters is in it either way; ASCII only, because JSON
    # text escapes the rest.
    keys = {user_id.lower()}
    for form in substrings:
        words = _ASCII_WORD.findall(form[:PREFIX])
        if not words:
            return None
        keys.add(max(words, key=len).lower())
    return tuple(sorted(keys))


def erase_strings(value: Any, *, keep: frozenset[str] = frozenset()) -> Any:
    """A JSON value with every string replaced by `ERASED`, except under the keys in `keep`."""
    if isinstance(value, str):
        return ERASED if value else value
    if isinstance(value, dict):
        return {key: item if key in keep else erase_strings(item, keep=keep) for key, item in value.items()}
    if isinstance(value, list):
        return [erase_strings(item, keep=keep) for item in value]
    return value
