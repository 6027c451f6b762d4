"""What the soak checks at the end, comparing the database with what the requests sent and what the
Slack stand-in recorded. Each check gives figures to print and the violations it found."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, text

from bot.slack.standin import SlackStandIn
from tests.bench.harness import percentile
from tests.soak.load import INTAKE_CHANNEL, Sent

__all__ = ["Findings", "check_all"]

ACK_LIMIT = 3.0  # seconds: Slack's limit for answering a request


@dataclass
class Findings:
    figures: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def fact(self, line: str) -> None:
        self.figures.append(line)

    def fail(self, line: str) -> None:
        self.violations.append(line)


def check_all(engine: Engine, standin: SlackStandIn, sent: Sent, *, swept_at: datetime, killed: bool) -> Findings:
    """`swept_at`: when the last sweep began (every timer due by then must have fired)."""
    findings = Findings()
    _answers(sent, findings)
    with engine.connect() as db:
        _tickets(db, sent, findings)
        timer_keys = _timers(db, swept_at, findings)
        rows = [dict(row._mapping) for row in db.execute(text("SELECT * FROM outbox ORDER BY id"))]
    _outbox(rows, findings)
    _delivered_once(rows, standin, killed, timer_keys, findings)
    return findings


def _answers(sent: Sent, findings: Findings) -> None:
    for error in sent.errors[:10]:
        findings.fail(f"request failed: {error}")
    if len(sent.errors) > 10:
        findings.fail(f"… and {len(sent.errors) - 10} more failed requests")
    answers = sent.answers
    if not answers:
        findings.fail("no request was answered")
        return
    latencies = [a.elapsed for a in answers]
    by_kind = Counter(a.kind for a in answers)
    by_server = Counter(a.server for a in answers)
    findings.fact(
        f"requests answered: {len(answers)} ({', '.join(f'{k} {n}' for k, n in sorted(by_kind.items()))}); "
        f"per serve process {dict(sorted(by_server.items()))}"
    )
    findings.fact(
        f"latency: p50 {percentile(latencies, 0.5) * 1000:.0f} ms, p99 {percentile(latencies, 0.99) * 1000:.0f} ms, "
        f"max {max(latencies) * 1000:.0f} ms"
    )
    for kind in sorted(by_kind):
        of_kind = [a.elapsed for a in answers if a.kind == kind]
        findings.notes.append(
            f"  {kind}: p99 {percentile(of_kind, 0.99) * 1000:.0f} ms, max {max(of_kind) * 1000:.0f} ms"
        )
    slow = [a for a in answers if a.elapsed >= ACK_LIMIT]
    if slow:
        findings.fail(f"{len(slow)} answers took {ACK_LIMIT:.0f} s or more (Slack would have retried them)")
    bad = Counter(a.status for a in answers if a.status != 200)
    if bad:
        findings.fail(f"answers other than 200: {dict(bad)}")
    findings.fact(f"sent: {dict(sorted(sent.counts.items()))}")


def _tickets(db: Any, sent: Sent, findings: Findings) -> None:
    per_ts = Counter(
        ts
        for (ts,) in db.execute(
            text("SELECT source_ts FROM tickets WHERE source_channel = :c AND source_kind = 'intake'"),
            {"c": INTAKE_CHANNEL},
        )
    )
    missing = [ts for ts in sent.intake_ts if per_ts[ts] == 0]
    doubled = [ts for ts, n in per_ts.items() if n > 1]
    strays = [ts for ts in per_ts if ts not in sent.intake_ts]
    findings.fact(
        f"intake: {len(sent.intake_ts)} messages (retries included once) -> {sum(per_ts.values())} tickets; "
        f"missing {len(missing)}, doubled {len(doubled)}, not asked for {len(strays)}"
    )
    if missing:
        findings.fail(f"{len(missing)} intake messages made no ticket, e.g. ts {missing[:3]}")
    if doubled or strays:
        findings.fail(f"intake tickets doubled {doubled[:3]} or made from nothing sent {strays[:3]}")
    commands = db.execute(text("SELECT count(*) FROM tickets WHERE source_kind = 'command'")).scalar_one()
    findings.fact(f"/ticket commands answered: {sent.counts['commands']} -> {commands} tickets")
    if commands != sent.counts["commands"]:
        findings.fail(f"{sent.counts['commands']} /ticket commands made {commands} tickets")
    events = db.execute(text("SELECT count(*) FROM slack_events")).scalar_one()
    findings.notes.append(f"slack_events recorded: {events}")


def _timers(db: Any, swept_at: datetime, findings: Findings) -> set[str]:
    """Checks the timers; returns the keys of those that queued a message."""
    rows = [dict(r._mapping) for r in db.execute(text("SELECT key, name, outcome, due_at, fired_at FROM timers"))]
    fired = [r for r in rows if r["fired_at"] is not None]
    by_name = Counter(_timer_family(r["name"]) for r in fired if r["outcome"] == "queued")
    outcomes = Counter(r["outcome"] for r in fired)
    findings.fact(f"timers fired: {len(fired)} of {len(rows)}; queued a message: {dict(sorted(by_name.items()))}")
    findings.notes.append(f"timer outcomes: {dict(outcomes.most_common())}")
    late = [r for r in rows if r["fired_at"] is None and _utc(r["due_at"]) < swept_at]
    if late:
        findings.fail(f"{len(late)} timers due before the last sweep never fired, e.g. {late[0]['key']}")
    # While the load ran (sweeps every second); the drain's workers sweep once a minute.
    lag = [(_utc(r["fired_at"]) - _utc(r["due_at"])).total_seconds() for r in fired if _utc(r["fired_at"]) < swept_at]
    if lag:
        findings.fact(
            f"timer lag during the load (fired - due): p50 {percentile(lag, 0.5):.1f} s, max {max(lag):.1f} s"
        )
    keys = {key for (key,) in db.execute(text("SELECT key FROM outbox"))}
    unqueued = [
        r["key"]
        for r in fired
        if r["outcome"] == "queued" and r["key"] not in keys and not any(k.startswith(r["key"] + ":") for k in keys)
    ]
    if unqueued:
        findings.fail(f"{len(unqueued)} timers say 'queued' but have no outbox row, e.g. {unqueued[:3]}")
    return {r["key"] for r in fired if r["outcome"] == "queued"}


def _timer_family(name: str) -> str:
    # "sla:first_response:warn:0.5" -> "sla warn", "sla:resolution:breach" -> "sla breach", "stage:…" as is
    parts = name.split(":")
    return f"sla {parts[2]}" if parts[0] == "sla" and len(parts) > 2 else name


def _outbox(rows: list[dict[str, Any]], findings: Findings) -> None:
    status = Counter(r["status"] for r in rows)
    findings.fact(f"outbox: {len(rows)} rows {dict(sorted(status.items()))}")
    attempts = Counter(min(r["attempts"], 4) for r in rows if r["status"] == "sent")
    findings.notes.append(f"outbox attempts of sent rows (4 = 4 or more): {dict(sorted(attempts.items()))}")
    claimed = [r for r in rows if r["status"] == "sending" or (r["claimed_by"] and r["status"] == "pending")]
    if claimed:
        findings.fail(
            f"{len(claimed)} outbox rows stuck claimed, e.g. {claimed[0]['key']} by {claimed[0]['claimed_by']}"
        )
    pending = [r for r in rows if r["status"] == "pending"]
    if pending:
        findings.fail(f"{len(pending)} outbox rows still pending at the end, e.g. {pending[0]['key']}")
    for row in pending[:8]:
        findings.notes.append(
            f"pending: #{row['id']} {row['key']} ticket {row['ticket_id']}, {row['attempts']} attempts, "
            f"next {row['next_attempt_at']:%H:%M:%S}, last error {row['last_error']}"
        )
    dead = [r for r in rows if r["status"] == "dead"]
    for row in dead[:5]:
        findings.notes.append(f"dead: {row['key']} ({row['method']}): {row['last_error']}")
    if any(not r["last_error"] for r in dead):
        findings.fail("an outbox row is dead without a reason")


def _delivered_once(
    rows: list[dict[str, Any]], standin: SlackStandIn, killed: bool, timer_keys: set[str], findings: Findings
) -> None:
    """Every message the outbox says it posted is in Slack once; every message in Slack is one row's."""
    posts = [c for c in standin.calls_to("chat.postMessage") if c.status == 200 and c.response.get("ok")]
    in_slack = Counter((str(c.response.get("channel")), str(c.response.get("ts"))) for c in posts)
    recorded = {
        (str(r["result"]["channel"]), str(r["result"]["ts"])): r
        for r in rows
        if r["status"] == "sent" and r["method"] == "chat.postMessage" and (r["result"] or {}).get("ts")
    }
    lost = [r["key"] for where, r in recorded.items() if where not in in_slack]
    if lost:
        findings.fail(f"{len(lost)} outbox rows marked sent are not in Slack, e.g. {lost[:3]}")
    duplicates = [c for c in posts if (str(c.response.get("channel")), str(c.response.get("ts"))) not in recorded]
    # A breach's messages are keyed `<timer key>:owner` and `<timer key>:escalation`.
    timed = [r for r in rows if r["key"] in timer_keys or r["key"].rsplit(":", 1)[0] in timer_keys]
    timed_in_slack = [r for r in timed if r["status"] == "sent" and _where(r) in in_slack]
    findings.fact(
        f"posted to Slack: {len(posts)} messages for {len(recorded)} sent rows; of them nudges, breach alerts and "
        f"stage pings {len(timed_in_slack)} of {len(timed)} decided; duplicates {len(duplicates)}"
    )
    for call in duplicates:
        twin = next((r for r in recorded.values() if _same_message(r, call.args)), None)
        what = f"{twin['purpose']} {twin['key']}" if twin else f"unmatched text {str(call.args.get('text'))[:60]!r}"
        findings.notes.append(f"duplicate in Slack: {what} (channel {call.args.get('channel')})")
    allowed = 1 if killed else 0
    if len(duplicates) > allowed:
        findings.fail(f"{len(duplicates)} messages reached Slack twice (allowed: {allowed}, the killed worker's)")
    failures = Counter(c.status for c in standin.calls if c.status != 200)
    findings.fact(
        f"Slack stand-in: {len(standin.calls)} Web API calls, injected failures {dict(sorted(failures.items()))}"
    )


def _where(row: dict[str, Any]) -> tuple[str, str]:
    result = row["result"] or {}
    return str(result.get("channel")), str(result.get("ts"))


def _same_message(row: dict[str, Any], args: dict[str, Any]) -> bool:
    mine = row["args"] or {}
    return (
        bool(mine.get("text")) and mine.get("text") == args.get("text") and mine.get("channel") == args.get("channel")
    )


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
