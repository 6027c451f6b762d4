"""Replays the labelled surge streams (tests/data/surge_streams.json) through the real detector
(`bot.core.surge.decide`) and the real model, and scores it: precision = alerted tickets that belong
to the surge their alert is about; recall = members of true surges that reach their surge's alert.
Shared by the accuracy test and tests/bench/bench_surge.py."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from bot.core.surge import Anchors, Embedder, JoinSurge, NewSurge, Seen, SurgeRule, Window, decide, topic_of

STREAMS = Path(__file__).parent / "data" / "surge_streams.json"
START = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


def load_streams() -> list[dict[str, Any]]:
    streams: list[dict[str, Any]] = json.loads(STREAMS.read_text(encoding="utf-8"))["streams"]
    return streams


@dataclass
class Score:
    alerts: int = 0
    alerted: int = 0
    alerted_right: int = 0
    members: int = 0
    members_reached: int = 0
    wrong: list[str] = field(default_factory=list)  # alerted tickets outside their alert's surge
    missed: list[str] = field(default_factory=list)  # true members that reached no alert of theirs

    @property
    def precision(self) -> float:
        return self.alerted_right / self.alerted if self.alerted else 1.0

    @property
    def recall(self) -> float:
        return self.members_reached / self.members if self.members else 1.0


def true_surges(tickets: list[dict[str, Any]], rule: SurgeRule) -> set[str]:
    """The failures that meet the rule by their labels: enough tickets and people within the window."""
    found: set[str] = set()
    window = rule.window / timedelta(minutes=1)
    for failure in {t["failure"] for t in tickets if t["failure"]}:
        own = [t for t in tickets if t["failure"] == failure]
        for last in own:
            inside = [t for t in own if 0 <= last["at"] - t["at"] <= window]
            if len(inside) >= rule.min_tickets and len({t["requester"] for t in inside}) >= rule.min_requesters:
                found.add(failure)
    return found


def replay(tickets: list[dict[str, Any]], vectors: np.ndarray, rule: SurgeRule, anchors: Anchors) -> dict[int, int]:
    """Ticket index → surge id, as the detector decides ticket by ticket."""
    seen: list[Seen] = []
    surge_of: dict[int, int] = {}
    next_surge = 1
    for index, ticket in enumerate(tickets):
        at = START + timedelta(minutes=ticket["at"])
        me = Seen(index, ticket["requester"], topic_of(ticket["text"], None), at)
        inside = [i for i, s in enumerate(seen) if at - s.created_at <= rule.window]
        recent = [Seen(i, seen[i].requester, seen[i].category, seen[i].created_at, surge_of.get(i)) for i in inside]
        decision = decide(me, vectors[index], Window.of(recent, vectors[inside]), rule=rule, anchors=anchors)
        if isinstance(decision, NewSurge):
            for member in decision.members:
                surge_of[member] = next_surge
            next_surge += 1
        elif isinstance(decision, JoinSurge):
            surge_of[index] = decision.surge
        seen.append(me)
    return surge_of


def evaluate(embedder: Embedder, rule: SurgeRule) -> Score:
    anchors = Anchors.of(embedder)
    score = Score()
    for stream in load_streams():
        tickets = stream["tickets"]
        vectors = embedder.embed([t["text"] for t in tickets])
        surge_of = replay(tickets, vectors, rule, anchors)
        labels = [t["failure"] for t in tickets]
        truth = true_surges(tickets, rule)
        about: dict[int, str | None] = {}
        for surge in set(surge_of.values()):
            members = [i for i, s in surge_of.items() if s == surge]
            about[surge] = Counter(labels[i] for i in members).most_common(1)[0][0]
            score.alerts += 1
            score.alerted += len(members)
            for i in members:
                if labels[i] == about[surge] and labels[i] in truth:
                    score.alerted_right += 1
                else:
                    score.wrong.append(f"{stream['name']}: {tickets[i]['text']}")
        for i, label in enumerate(labels):
            if label in truth:
                score.members += 1
                if i in surge_of and about[surge_of[i]] == label:
                    score.members_reached += 1
                else:
                    score.missed.append(f"{stream['name']}: {tickets[i]['text']}")
    return score
