"""Accuracy of auto-priority, sentiment and category on the hand-labelled support messages in
`tests/data/priority_labelled.jsonl`, with the default rules (`demo_config()`).

    python tests/bench/priority_accuracy.py [--data PATH]

Prints accuracy per field, a priority confusion table (expected down, decided across) and every
misclassified line with the decision's reason. `tests/unit/test_priority.py` holds the priority
accuracy to at least 0.9 and every line marked `trap` to exact priority and sentiment.

How the lines are labelled (one JSON object per line): `text`; optional `tier` and
`affected_users`; `priority` as a triager applying seed 001's matrix and auto-priority rules would
set it (how-to questions and cosmetic issues stay P2, the rules' default; a billing problem is P1,
a billing question P2; negative or urgent wording lifts P2 to P1, see `bot.core.priority`);
`sentiment` (positive, neutral, negative, urgent); `category` and `subcategory` from seed 001's
taxonomy, null when none fits; `trap` names what makes the line hard, when something does.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.config import demo_config
from bot.core.priority import PRIORITIES, PriorityDecision, PriorityRules, decide_priority
from bot.services.policy import Policy

DATA = Path(__file__).resolve().parents[1] / "data" / "priority_labelled.jsonl"
FIELDS = ("priority", "sentiment", "category", "subcategory")


@dataclass(frozen=True)
class Case:
    line: int
    text: str
    priority: str
    sentiment: str
    category: str | None
    subcategory: str | None = None
    tier: str | None = None
    affected_users: int | None = None
    trap: str | None = None


@dataclass(frozen=True)
class Outcome:
    case: Case
    decision: PriorityDecision

    def got(self, field: str) -> str | None:
        return getattr(self.decision, field)  # type: ignore[no-any-return]

    def expected(self, field: str) -> str | None:
        return getattr(self.case, field)  # type: ignore[no-any-return]

    def wrong(self) -> list[str]:
        return [field for field in FIELDS if self.got(field) != self.expected(field)]


def load_cases(path: Path = DATA) -> list[Case]:
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            cases.append(Case(line=number, **json.loads(line)))
    return cases


def default_rules() -> PriorityRules:
    return Policy.from_config(demo_config()).priority_rules


def evaluate(cases: Sequence[Case], rules: PriorityRules) -> list[Outcome]:
    return [
        Outcome(case, decide_priority(case.text, rules, tier=case.tier, affected_users=case.affected_users))
        for case in cases
    ]


def accuracy(outcomes: Sequence[Outcome], field: str) -> float:
    return sum(outcome.got(field) == outcome.expected(field) for outcome in outcomes) / len(outcomes)


def _confusion(outcomes: Sequence[Outcome]) -> str:
    counts = Counter((outcome.case.priority, outcome.decision.priority) for outcome in outcomes)
    rows = ["expected \\ got  " + "  ".join(f"{p:>4}" for p in PRIORITIES)]
    for expected in PRIORITIES:
        rows.append(f"{expected:<15} " + "  ".join(f"{counts[(expected, got)]:>4}" for got in PRIORITIES))
    return "\n".join(rows)


def _misses(outcomes: Sequence[Outcome]) -> list[str]:
    lines = []
    for outcome in outcomes:
        wrong = outcome.wrong()
        if wrong:
            diffs = ", ".join(f"{field} {outcome.expected(field)} → {outcome.got(field)}" for field in wrong)
            case, reason = outcome.case, outcome.decision.reason
            lines.append(f"  line {case.line}: {diffs}\n      {case.text!r}\n      {reason}")
    return lines


def report(outcomes: Sequence[Outcome]) -> str:
    parts = [f"{len(outcomes)} labelled messages"]
    parts += [f"  {field:<12} accuracy {accuracy(outcomes, field):.3f}" for field in FIELDS]
    parts += ["", "priority confusion:", _confusion(outcomes), "", "misclassified:", *_misses(outcomes)]
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    print(report(evaluate(load_cases(args.data), default_rules())))


if __name__ == "__main__":
    main()
