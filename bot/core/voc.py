"""Voice of the customer (seed 001 Phase 14): which questions keep coming back. Pure.

The 10x rule: a question asked more than 20 times a month needs a KB article. "The same question"
is judged as surges judge "the same failure": by the tickets' sentence embeddings (unit vectors,
so a dot product is the cosine), grouped greedily around the first member of each group.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["KB_RULE", "RepeatedQuestion", "is_question", "repeated_questions"]

KB_RULE = 20  # asked more than this many times a month
_ASKING = re.compile(
    r"^(how|what|where|when|why|which|who|can|could|is|are|do|does|should|may|wie|was|comment|como)\b", re.I
)


def is_question(text: str) -> bool:
    """A ticket that asks rather than reports: a question mark, or a question word first."""
    stripped = text.strip()
    return "?" in stripped or bool(_ASKING.match(stripped))


@dataclass(frozen=True)
class RepeatedQuestion:
    example: str  # the first ticket's text, as typed
    refs: tuple[str, ...]


def repeated_questions(
    refs: Sequence[str],
    texts: Sequence[str],
    vectors: NDArray[np.float32],
    *,
    similarity: float,
    more_than: int = KB_RULE,
) -> list[RepeatedQuestion]:
    """Groups of alike questions with more than `more_than` members, largest first."""
    unassigned = np.ones(len(refs), dtype=bool)
    groups: list[RepeatedQuestion] = []
    for index in range(len(refs)):
        if not unassigned[index]:
            continue
        alike = (vectors @ vectors[index] >= similarity) & unassigned
        unassigned &= ~alike
        members = np.flatnonzero(alike)
        if len(members) > more_than:
            groups.append(RepeatedQuestion(texts[index], tuple(refs[int(i)] for i in members)))
    return sorted(groups, key=lambda group: len(group.refs), reverse=True)
