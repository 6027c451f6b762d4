"""The 10x rule's grouping of alike questions (pure; unit vectors given directly)."""

from __future__ import annotations

import numpy as np

from bot.core.voc import is_question, repeated_questions


def _unit(*values: float) -> list[float]:
    vector = np.array(values, dtype=np.float32)
    return list(vector / np.linalg.norm(vector))


def test_a_question_asked_more_than_twenty_times_is_flagged_and_twenty_is_not() -> None:
    export = [_unit(1, 0.05 * (i % 3), 0) for i in range(21)]  # 21 wordings of one question
    sso = [_unit(0, 1, 0.02 * i) for i in range(20)]  # 20 of another
    refs = [f"T-{n}" for n in range(1, 42)]
    texts = ["How do I export to CSV?"] * 21 + ["How do I set up SSO?"] * 20
    vectors = np.array(export + sso, dtype=np.float32)
    [flagged] = repeated_questions(refs, texts, vectors, similarity=0.9)
    assert flagged.example == "How do I export to CSV?" and flagged.refs == tuple(refs[:21])
    assert repeated_questions(refs, texts, vectors, similarity=0.9, more_than=19)[1].refs == tuple(refs[21:])
    assert repeated_questions([], [], np.zeros((0, 3), dtype=np.float32), similarity=0.9) == []


def test_questions_are_told_from_reports() -> None:
    assert is_question("How do I add a second admin")
    assert is_question("export keeps failing, is that expected?")
    assert is_question("Wie kann ich den Export starten")
    assert not is_question("Checkout is down for everyone")
    assert not is_question("Howard's invoice is wrong")
