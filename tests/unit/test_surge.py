"""Surge detection's rule (`bot.core.surge`) with the real model (issue 11 §4): the labelled streams
in tests/data/surge_streams.json hold precision and recall at the level measured (README), and the
rule's edges hold on small cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from bot.config import parse_config
from bot.core.surge import Anchors, JoinSurge, NewSurge, NoSurge, Seen, SurgeRule, Window, decide, report_scores
from bot.embedding import EMBED_CHARS, default_embedder, prepare_text
from bot.services.surges import rule_of
from tests.surge_eval import evaluate, load_streams

T0 = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def anchors() -> Anchors:
    return Anchors.of(default_embedder())


def test_the_labelled_streams_hold_precision_and_recall() -> None:
    streams = load_streams()
    assert len(streams) >= 12 and sum(len(s["tickets"]) for s in streams) >= 100
    score = evaluate(default_embedder(), rule_of(parse_config({}).surge))
    assert score.alerts >= 12
    assert score.precision >= 0.96, score.wrong
    assert score.recall >= 0.95, score.missed


def test_the_config_defaults_are_the_rules_defaults() -> None:
    assert rule_of(parse_config({}).surge) == SurgeRule()


def _seen(n: int, requester: str, minutes: float, surge: int | None = None) -> Seen:
    return Seen(n, requester, None, T0 + timedelta(minutes=minutes), surge)


def test_requests_never_make_a_surge_however_alike(anchors: Anchors) -> None:
    texts = ["please add a dark theme to the dashboard", "could the dashboard get a dark theme?", "dark mode please"]
    vectors = default_embedder().embed(texts)
    assert (report_scores(vectors, anchors) < 0).all()
    recent = [_seen(1, "U_A", 0), _seen(2, "U_B", 1)]
    decision = decide(_seen(3, "U_C", 2), vectors[2], Window.of(recent, vectors[:2]), rule=SurgeRule(), anchors=anchors)
    assert decision == NoSurge("not a failure report")


def test_one_voice_is_no_surge_and_a_second_voice_makes_one(anchors: Anchors) -> None:
    texts = ["checkout fails with error 500", "checkout still failing, error 500 again", "can't pay, checkout errors"]
    vectors = default_embedder().embed(texts)
    rule = SurgeRule(similarity=0.8, join_similarity=0.85)
    recent = [_seen(1, "U_A", 0), _seen(2, "U_A", 1)]
    assert decide(
        _seen(3, "U_A", 2), vectors[2], Window.of(recent, vectors[:2]), rule=rule, anchors=anchors
    ) == NoSurge("too few requesters")
    assert decide(
        _seen(3, "U_B", 2), vectors[2], Window.of(recent, vectors[:2]), rule=rule, anchors=anchors
    ) == NewSurge((1, 2, 3))


def test_a_look_alike_joins_the_live_surge_instead_of_starting_another(anchors: Anchors) -> None:
    texts = [
        "checkout fails with error 500",
        "payments fail at checkout",
        "checkout broken, nobody can pay",
        "checkout is failing for us too",
    ]
    vectors = default_embedder().embed(texts)
    recent = [_seen(1, "U_A", 0, surge=7), _seen(2, "U_B", 1, surge=7), _seen(3, "U_C", 2, surge=7)]
    decision = decide(_seen(4, "U_D", 3), vectors[3], Window.of(recent, vectors[:3]), rule=SurgeRule(), anchors=anchors)
    assert isinstance(decision, JoinSurge) and decision.surge == 7


def test_what_the_model_reads_of_odd_texts() -> None:
    assert prepare_text("") == " " and prepare_text("a\n\n  b") == "a b"
    assert len(prepare_text("x " * 40_000)) == EMBED_CHARS
    assert prepare_text("bad \ud800 surrogate") == "bad  surrogate"
    vectors = default_embedder().embed(["", "😡😡😡", "x" * 40_000, "bad \ud800 surrogate"])
    assert vectors.shape == (4, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
