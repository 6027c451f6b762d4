"""Text coming from Slack and text going back to it.

Incoming: Slack sends `&`, `<`, `>` as entities and wraps mentions and links in `<…>`; we store
what the person typed (field case F3). Outgoing: user text is escaped exactly once, so it can
neither ping anyone (`<!channel>`, `<@U…>`) nor show `&amp;amp;`, and is cut to Block Kit limits
without splitting an emoji, an entity or a combining sequence (field case F12). Exports written as
Markdown (a post-incident review) escape user text for Markdown instead (`escape_markdown`).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "ELLIPSIS",
    "decode_slack_text",
    "displayable",
    "escape_markdown",
    "escape_mrkdwn",
    "first_line_of",
    "has_visible_text",
    "truncate",
    "utf16_len",
]

ELLIPSIS = "…"

_MARKUP = re.compile(r"<([^<>]*)>")
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))  # &amp; last, so "&amp;lt;" stays "&lt;"


def _decode_entities(text: str) -> str:
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    return text


def _render_markup(inner: str) -> str:
    target, _, label = inner.partition("|")
    if target.startswith(("@U", "@W")):
        return f"@{label or target[1:]}"
    if target.startswith("#C") or target.startswith("#G"):
        return f"#{label or target[1:]}"
    if target.startswith("!subteam^"):
        return label or "@group"
    if target.startswith("!"):
        # <!here>, <!channel>, <!everyone>, <!date^…|fallback>: keep the words, never the ping.
        return label or f"@{target[1:].split('^')[0]}"
    if not label or label == target or _without_scheme(target) == label:
        return label if label else target  # auto-linked text: show what the person typed
    return f"{label} ({target})"


def _without_scheme(url: str) -> str:
    return re.sub(r"^(?:https?://|mailto:)", "", url)


def decode_slack_text(text: str) -> str:
    """Slack's wire format → the text as the person typed it (mentions as @name, links as URLs).

    NUL characters are dropped: no reader can see them and PostgreSQL cannot store them. A lone
    surrogate (JSON's "\\ud800" with no partner; a real pair arrives as one character) becomes
    U+FFFD: it cannot be encoded, so it would fail the first UTF-8 or UTF-16 write.
    """
    decoded = _decode_entities(_MARKUP.sub(lambda m: _render_markup(m.group(1)), text)).replace("\x00", "")
    return _LONE_SURROGATE.sub("\ufffd", decoded)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


# Characters that change how the text around them is laid out, never what it says: bidi embeddings,
# overrides and isolates (a title "invoice\u202egnp.exe" reads "invoiceexe.png") and the C0/C1
# controls other than tab and newline. Tickets keep them as received; what the bot shows does not.
_LAYOUT_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def has_visible_text(text: str) -> bool:
    """Whether a reader would see anything: zero-width, format and control characters and spaces do
    not count (a title of only U+202E is no title)."""
    return any(not char.isspace() and unicodedata.category(char) not in {"Cf", "Cc", "Zs"} for char in text)


def displayable(text: str) -> str:
    """User text as the bot may show it: without characters that reorder or hide what follows."""
    return _LAYOUT_CONTROLS.sub("", text)


def escape_mrkdwn(text: str) -> str:
    """User text for a mrkdwn field: `displayable`, and the three characters Slack treats as
    control characters escaped, exactly once."""
    return displayable(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Inline Markdown (CommonMark and GitHub's tables): emphasis, code, links, raw HTML, table cells,
# strikethrough, and `#`, whose trailing run would be dropped from a heading. `&` only where it
# would start an entity ("&copy;"); AT&T stays as typed.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<|~#])")
_MARKDOWN_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
# What starts a block at the beginning of a line: a quote, a list item, a setext underline.
_MARKDOWN_LINE_START = re.compile(r"^([>+=-]|[0-9]+(?=[.)]))")
_LINE_BREAK = re.compile(r"\r\n?|\n")


def escape_markdown(text: str, *, line_break: str = " ") -> str:
    """A person's words for a Markdown document, read as typed: no emphasis, code, link, HTML, table
    cell or block they did not mean. Its lines are joined by `line_break` (blank ones dropped, since
    they would end the list item or paragraph the text sits in)."""
    lines = (_escape_markdown_line(displayable(line).strip()) for line in _LINE_BREAK.split(text))
    return line_break.join(line for line in lines if line)


def _escape_markdown_line(line: str) -> str:
    escaped = _MARKDOWN_ENTITY.sub(r"\\&", _MARKDOWN_SPECIAL.sub(r"\\\1", line))
    start = _MARKDOWN_LINE_START.match(escaped)
    if start is None:
        return escaped
    # "1." starts a list only with its dot: the escape goes before the dot, not before the digits.
    at = start.end() if escaped[0].isdigit() else 0
    return escaped[:at] + "\\" + escaped[at:]


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units; Slack's limits are not documented as code points, so we meet both."""
    return len(text.encode("utf-16-le")) // 2


_ENTITY_TAIL = re.compile(r"&[a-z]{0,4}$")


def _is_joiner(char: str) -> bool:
    # Zero-width joiner, variation selectors, skin-tone modifiers and combining marks bind to
    # the character before them: a cut must not separate them.
    code = ord(char)
    return (
        char == "\u200d"
        or 0xFE00 <= code <= 0xFE0F
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
        or unicodedata.combining(char) != 0
    )


def truncate(text: str, limit: int, *, suffix: str = ELLIPSIS) -> str:
    """Cut `text` (already escaped, if it is mrkdwn) to at most `limit` characters and UTF-16 units.

    The cut never lands inside an `&amp;`-style entity, a surrogate pair or a grapheme joined by
    ZWJ/variation selectors; when a cut happens `suffix` is appended within the limit.
    """
    if len(text) <= limit and utf16_len(text) <= limit:
        return text
    budget = limit - utf16_len(suffix)
    cut = min(len(text), budget)
    while cut > 0 and utf16_len(text[:cut]) > budget:
        cut -= 1
    # Step back out of a ZWJ sequence or a modifier run.
    while cut > 0 and (_is_joiner(text[cut]) if cut < len(text) else False):
        cut -= 1
    while cut > 0 and text[cut - 1] == "\u200d":
        cut -= 1
    head = text[:cut]
    entity = _ENTITY_TAIL.search(head)
    if entity and text.startswith(("&amp;", "&lt;", "&gt;"), entity.start()):
        head = head[: entity.start()]
    return head + suffix


def first_line_of(error: BaseException) -> str:
    """An error as one line for an operator: the driver's own message when a library wrapped it
    (SQLAlchemy's `orig`), its first line, at most 300 characters."""
    orig = getattr(error, "orig", None)
    text = str(orig if orig is not None else error).strip()
    return (text.splitlines()[0] if text else type(error).__name__)[:300]
