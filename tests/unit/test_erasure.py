"""The scrubber behind `erase-user` (pure): every form of a person's words and their ID, and only those."""

from __future__ import annotations

from datetime import date

from bot.core.erasure import ERASED, Scrubber, erase_strings, is_user_id
from bot.core.incidents import channel_name
from bot.core.pii import mask_pii
from bot.core.text import escape_mrkdwn, truncate

WORDS = "Export <fails> for jane@acme.io & the Q3 board pack, call +44 20 7946 0958"
scrub = Scrubber.of("U0JANE42", [WORDS, "thanks", "Line one of a long report\nand its second line here"])


def test_every_stored_form_of_the_words_goes() -> None:
    assert scrub.text(f"*T-3* {WORDS}") == f"*T-3* {ERASED}"
    assert scrub.text(escape_mrkdwn(WORDS)) == ERASED
    assert scrub.text(f"> {mask_pii(WORDS)}") == f"> {ERASED}"
    assert scrub.text(truncate(escape_mrkdwn(WORDS), 40)) == ERASED  # a shortened copy goes whole
    assert scrub.text(" ".join(WORDS.split())) == ERASED
    assert scrub.text("and its second line here, quoted") == f"{ERASED}, quoted"
    assert scrub.text(channel_name("inc-{n}-{slug}", number=3, title=WORDS, day=date(2026, 12, 7))) == f"inc-3-{ERASED}"


def test_the_id_goes_as_a_whole_word_only() -> None:
    assert scrub.text("<@U0JANE42> took it from <@U0JANE421>") == f"<@{ERASED}> took it from <@U0JANE421>"
    assert scrub.value({"U0JANE42": ["U0JANE42", 3, None, {"owner": "U0JANE42"}]}) == {
        ERASED: [ERASED, 3, None, {"owner": ERASED}]
    }


def test_other_words_stay() -> None:
    for other in ("thanks", "thanks for the Q3 board pack", "open", "T-12", "1712345678.123456", "Export to CSV"):
        assert scrub.text(other) == other


def test_erase_strings_keeps_the_named_keys() -> None:
    handoff = {"summary": "words", "what_tried": [["a", "b"]], "sentiment": "negative", "needed_by": "2026-12-09"}
    assert erase_strings(handoff, keep=frozenset({"sentiment", "needed_by"})) == {
        "summary": ERASED, "what_tried": [[ERASED, ERASED]], "sentiment": "negative", "needed_by": "2026-12-09",
    }  # fmt: skip


def test_user_ids() -> None:
    assert all(is_user_id(good) for good in ("U0JANE42", "W012AB3CD", "U_REQUESTER"))
    assert not any(is_user_id(bad) for bad in ("jane", "u0jane42", "C0123", "S0GROUP", "U", "U0 X", "U0JANE42\n"))
