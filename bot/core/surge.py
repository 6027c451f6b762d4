"""Surge detection (SPEC §3, seed 000: support sees failures before dashboards do): when tickets about
the same failure arrive close together from several people, triage gets one alert listing them.

Pure rules over sentence vectors: no model, no Slack, no database; time is each ticket's
`created_at`. Vectors are unit length, so a dot product is the cosine similarity.

* **A failure report.** Only a ticket that reports something broken can be in a surge: "please add
  a dark theme to the dashboard" and "how do I export analytics?" sit close to "the dashboard
  shows zeros" in meaning, but they ask for something. A ticket reports a failure when its vector
  is closer to `FAILURE_ANCHORS` than to `REQUEST_ANCHORS` by at least `report_margin` (the
  model is multilingual, so English anchors serve every language).
* **The same failure.** A new report's look-alikes are the recent reports in no surge whose
  similarity to it, adjusted by what the tickets already know, reaches `similarity` (tickets of
  the same known topic — `topic_of`: the taxonomy's category and sub-category read from the text,
  else the ticket's category — gain `category_bonus`; tickets whose known categories differ (not
  merely their sub-categories) lose `category_penalty`). The group is then tightened around its
  centre: a member (the new report included) whose similarity to the group's normalised mean is
  below `join_similarity` leaves it, so two failures that arrive together and read alike do not
  merge into one alert.
* **A new surge** needs at least `min_tickets` tickets in that group from at least
  `min_requesters` distinct requesters (one customer writing three times is one voice).
* **Joining.** A new report whose similarity to the centre of a live surge (one with a member
  within `window`) reaches `join_similarity` joins it, the closest one if several: a ticket is
  never in two surges, and a look-alike of a live surge never starts a second alert.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import numpy as np
import numpy.typing as npt

from bot.core.taxonomy import detect_category

__all__ = [
    "FAILURE_ANCHORS",
    "REQUEST_ANCHORS",
    "Anchors",
    "Embedder",
    "JoinSurge",
    "NewSurge",
    "NoSurge",
    "Seen",
    "SurgeDecision",
    "SurgeRule",
    "Vectors",
    "Window",
    "decide",
    "report_scores",
    "topic_of",
]

Vectors = npt.NDArray[np.float32]

# What reporting a failure sounds like, and what asking for something sounds like.
FAILURE_ANCHORS = (
    "it is broken and not working",
    "we get an error and it fails",
    "it stopped working",
    "nothing loads, it is down",
    "the app crashes",
    "it is very slow and times out",
    "we are not receiving it, it never arrives",
    "the data is missing or wrong",
)
REQUEST_ANCHORS = (
    "how do I do this?",
    "can you add a new feature?",
    "is it possible to change a setting?",
    "please send me a document",
    "I have a question about how it works",
    "I would like to change my plan",
    "thanks, great job",
    "what are the limits?",
)


def topic_of(text: str, category: str | None) -> str | None:
    """What a ticket is about, as finely as the taxonomy can tell from its text ("technical/sso",
    "technical/data_export"); else the category it was given; else None (unknown)."""
    top, sub = detect_category(text)
    if top and sub:
        return f"{top}/{sub}"
    return top or category


class Embedder(Protocol):
    """Turns texts into unit-length sentence vectors, one row per text (shape: len(texts) × dim)."""

    @property
    def name(self) -> str: ...

    def embed(self, texts: Sequence[str]) -> Vectors: ...


@dataclass(frozen=True)
class Anchors:
    failure: Vectors  # FAILURE_ANCHORS embedded, one row each
    request: Vectors

    @classmethod
    def of(cls, embedder: Embedder) -> Anchors:
        return cls(embedder.embed(FAILURE_ANCHORS), embedder.embed(REQUEST_ANCHORS))


@dataclass(frozen=True)
class SurgeRule:
    min_tickets: int = 3
    min_requesters: int = 2
    window: timedelta = timedelta(minutes=30)
    similarity: float = 0.85  # adjusted cosine at or above which two reports may be the same failure
    join_similarity: float = 0.9  # cosine to a group's (or a live surge's) centre that keeps (or joins) a report
    report_margin: float = 0.005  # how much closer to a failure than to a request a report must be
    category_bonus: float = 0.02
    category_penalty: float = 0.04


@dataclass(frozen=True)
class Seen:
    """A ticket as the rule sees it. `surge` is the surge it belongs to (None: none yet)."""

    ticket_id: int
    requester: str
    category: str | None
    created_at: datetime
    surge: int | None = None


@dataclass(frozen=True)
class NoSurge:
    why: str


@dataclass(frozen=True)
class JoinSurge:
    surge: int
    score: float


@dataclass(frozen=True)
class NewSurge:
    members: tuple[int, ...]  # ticket ids, oldest first, the new ticket last


SurgeDecision = NoSurge | JoinSurge | NewSurge


def report_scores(matrix: Vectors, anchors: Anchors) -> Vectors:
    """For each row: how much closer it is to reporting a failure than to asking for something."""
    if not len(matrix):
        return np.zeros(0, dtype=np.float32)
    scores: Vectors = (matrix @ anchors.failure.T).max(axis=1) - (matrix @ anchors.request.T).max(axis=1)
    return scores


@dataclass(frozen=True)
class Window:
    """The recent tickets a new one is compared with, as arrays (one row per ticket): built once per
    check from a cache, with no Python object per ticket."""

    ticket_ids: npt.NDArray[np.int64]
    requesters: npt.NDArray[np.object_]
    categories: npt.NDArray[np.object_]  # "" where unknown
    created: npt.NDArray[np.float64]  # POSIX seconds
    surges: npt.NDArray[np.int64]  # -1 where in no surge
    matrix: Vectors

    @classmethod
    def of(cls, recent: Sequence[Seen], matrix: Vectors) -> Window:
        return cls(
            np.array([s.ticket_id for s in recent], dtype=np.int64),
            np.array([s.requester for s in recent], dtype=object),
            np.array([s.category or "" for s in recent], dtype=object),
            np.array([s.created_at.timestamp() for s in recent], dtype=np.float64),
            np.array([-1 if s.surge is None else s.surge for s in recent], dtype=np.int64),
            matrix.astype(np.float32, copy=False),
        )

    def __len__(self) -> int:
        return len(self.ticket_ids)


def _adjusted(vector: Vectors, category: str | None, window: Window, rule: SurgeRule) -> Vectors:
    scores: Vectors = window.matrix @ vector
    if category is None or not (rule.category_bonus or rule.category_penalty):
        return scores
    known = window.categories != ""
    same = known & (window.categories == category)
    top = category.split("/", 1)[0]
    other_top = known & np.array([not str(c).startswith(top) for c in window.categories], dtype=bool)
    adjustment = np.where(same, rule.category_bonus, np.where(other_top, -rule.category_penalty, 0.0))
    result: Vectors = (scores + adjustment).astype(np.float32)
    return result


def decide(ticket: Seen, vector: Vectors, window: Window, *, rule: SurgeRule, anchors: Anchors) -> SurgeDecision:
    """What one new ticket does: join a live surge, start one with its look-alikes, or nothing.

    `window` holds the other tickets (not `ticket`) created within `rule.window` of it; a surge is
    live when one of its members is among them."""
    if float(report_scores(vector[None, :], anchors)[0]) < rule.report_margin:
        return NoSurge("not a failure report")
    if not len(window):
        return NoSurge("nothing recent")
    matrix, surges = window.matrix, window.surges
    best: JoinSurge | None = None
    for surge in np.unique(surges[surges >= 0]):
        centroid = matrix[surges == surge].mean(axis=0)
        score = float(centroid @ vector) / max(float(np.linalg.norm(centroid)), 1e-6)
        if score >= rule.join_similarity and (best is None or score > best.score):
            best = JoinSurge(int(surge), score)
    if best is not None:
        return best
    alike = (_adjusted(vector, ticket.category, window, rule) >= rule.similarity) & (surges < 0)
    candidates = np.flatnonzero(alike)
    # Only failure reports count; scored for the look-alikes alone (a few among thousands).
    chosen = candidates[report_scores(matrix[candidates], anchors) >= rule.report_margin]
    for _ in range(3):  # keep the look-alikes that sit close to the group's centre, the new ticket included
        if not len(chosen):
            break
        centroid = np.vstack([matrix[chosen], vector[None, :]]).mean(axis=0)
        centroid /= max(float(np.linalg.norm(centroid)), 1e-6)
        if float(centroid @ vector) < rule.join_similarity:
            return NoSurge("not close to its look-alikes' centre")
        kept = chosen[matrix[chosen] @ centroid >= rule.join_similarity]
        if len(kept) == len(chosen):
            break
        chosen = kept
    if len(chosen) + 1 < rule.min_tickets:
        return NoSurge("too few look-alikes")
    if len({*window.requesters[chosen].tolist(), ticket.requester}) < rule.min_requesters:
        return NoSurge("too few requesters")
    ordered = chosen[np.lexsort((window.ticket_ids[chosen], window.created[chosen]))]
    return NewSurge((*(int(i) for i in window.ticket_ids[ordered]), ticket.ticket_id))
