from __future__ import annotations

import itertools

import pytest

from bot.core.lifecycle import IllegalTransitionError, Status, check_transition, legal_targets


def test_main_path_is_legal() -> None:
    path = [Status.NEW, Status.OPEN, Status.PENDING, Status.OPEN, Status.SOLVED, Status.CLOSED]
    for current, target in itertools.pairwise(path):
        check_transition(current, target)


def test_escalated_from_open_and_pending_and_back() -> None:
    for source in (Status.OPEN, Status.PENDING):
        check_transition(source, Status.ESCALATED)
    check_transition(Status.ESCALATED, Status.OPEN)


def test_illegal_transition_lists_legal_ones() -> None:
    with pytest.raises(IllegalTransitionError) as error:
        check_transition(Status.SOLVED, Status.PENDING)
    assert str(error.value) == "cannot go from SOLVED to PENDING; from SOLVED it can go to OPEN, CLOSED"


def test_same_status_is_refused() -> None:
    with pytest.raises(IllegalTransitionError, match="already OPEN"):
        check_transition(Status.OPEN, Status.OPEN)


def test_closed_only_reopens() -> None:
    assert legal_targets(Status.CLOSED) == [Status.OPEN]
