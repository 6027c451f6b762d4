"""Surge detection (issue 11 §4): each new ticket's vector is computed once, after the request that
created it was answered, and compared with the recent tickets'; a surge gets one alert in triage,
which later members join (updated in place, a line in its thread), and whose "Start incident"
button starts the incident playbook with the members linked, once.

The check runs in the worker's sweep (`run_due_work`), never in a request: embedding takes
milliseconds but a first model load takes a fraction of a second, and Slack's 3 s belong to the
ack. Tickets are embedded in batches outside any transaction; then each ticket is decided in a
transaction of its own that first takes the surge-check lock, so checks across workers run one at
a time, and the ticket's vector, its surge membership and the alert's messages commit together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

import numpy as np
import numpy.typing as npt
import structlog
from sqlalchemy import Engine
from sqlmodel import Session

from bot.config import SurgeConfig
from bot.core.permissions import PermissionDeniedError
from bot.core.surge import Anchors, Embedder, JoinSurge, NewSurge, Seen, SurgeRule, Vectors, Window, decide, topic_of
from bot.core.text import truncate
from bot.services import incidents, playbook_runs
from bot.services.policy import Policy
from bot.slack import surge_blocks
from bot.slack.delivery import AfterSent, NotReadyError, Prepare, where_posted
from store import outbox
from store import surges as store
from store.db import read_scope, session_scope
from store.models import Incident, OutboxMessage, Surge

__all__ = [
    "AFTER_SENT",
    "CATCH_UP",
    "PREPARE",
    "CheckReport",
    "StartOutcome",
    "check_new",
    "rule_of",
    "start_incident",
]

log = structlog.get_logger(__name__)

ALERT, REFRESH, NOTE = "surge_alert", "surge_alert_refresh", "surge_thread_note"
# Tickets older than this that were never checked (the worker was down) are not checked any more:
# an alert hours late tells triage nothing new.
CATCH_UP = timedelta(hours=2)
EMBED_BATCH = 64

_anchors: dict[int, Anchors] = {}


def rule_of(config: SurgeConfig) -> SurgeRule:
    return SurgeRule(
        min_tickets=config.min_tickets,
        min_requesters=config.min_requesters,
        window=config.window,
        similarity=config.similarity,
        join_similarity=config.join_similarity,
        report_margin=config.report_margin,
        category_bonus=config.category_bonus,
        category_penalty=config.category_penalty,
    )


def _anchors_of(embedder: Embedder) -> Anchors:
    key = id(embedder)
    if key not in _anchors:
        _anchors[key] = Anchors.of(embedder)
    return _anchors[key]


# Looking for unchecked tickets scans the tickets created since the look-back: the whole CATCH_UP
# every FULL_SCAN (and at a process's first check), otherwise only the last RECENT_SCAN. A ticket is
# committed within its request (Slack gives up after 3 s), so a minute finds every one; at 10,000
# tickets in half an hour it reads about 330 rows (five minutes read 1,700: 2.8 ms on PostgreSQL).
FULL_SCAN, RECENT_SCAN = timedelta(minutes=10), timedelta(minutes=1)
_full_scans: WeakKeyDictionary[Engine, datetime] = WeakKeyDictionary()


def _look_back(engine: Engine, now: datetime) -> datetime:
    last = _full_scans.get(engine)
    if last is None or not (last <= now < last + FULL_SCAN):
        _full_scans[engine] = now
        return now - CATCH_UP
    return now - RECENT_SCAN


@dataclass
class CheckReport:
    checked: int = 0
    surges: int = 0  # new alerts
    joined: int = 0


def check_new(engine: Engine, policy: Policy, embedder: Embedder, *, now: datetime, limit: int = 500) -> CheckReport:
    """Check every ticket created since `now - CATCH_UP` that has not been checked, oldest first."""
    report = CheckReport()
    config = policy.config.surge
    if not config.enabled:
        return report
    with read_scope(engine) as session:
        pending = store.unchecked(session, since=_look_back(engine, now), limit=limit)
    if not pending:
        return report
    rule, anchors = rule_of(config), _anchors_of(embedder)
    for start in range(0, len(pending), EMBED_BATCH):
        batch = pending[start : start + EMBED_BATCH]
        vectors = embedder.embed([ticket.text for ticket in batch])
        for ticket, vector in zip(batch, vectors, strict=True):
            with session_scope(engine) as session:
                outcome = _check_one(
                    session, policy, ticket, vector, model=embedder.name, rule=rule, anchors=anchors, now=now
                )
            report.checked += outcome != "skipped"
            report.surges += outcome == "new"
            report.joined += outcome == "joined"
    return report


def _check_one(
    session: Session,
    policy: Policy,
    ticket: store.Unchecked,
    vector: Vectors,
    *,
    model: str,
    rule: SurgeRule,
    anchors: Anchors,
    now: datetime,
) -> str:
    store.serialise_checks(session)
    if store.has_vector(session, ticket.ticket_id):
        return "skipped"  # another worker checked it meanwhile
    window = _cache_for(session, model).window(
        session, start=ticket.created_at - rule.window, end=ticket.created_at + rule.window,
        exclude=ticket.ticket_id, dimensions=len(vector), now=now,
    )  # fmt: skip
    topic = topic_of(ticket.text, ticket.category)
    me = Seen(ticket.ticket_id, ticket.requester, topic, ticket.created_at)
    decision = decide(me, vector, window, rule=rule, anchors=anchors)
    raw = vector.astype(np.float32).tobytes()
    store.add_vector(session, ticket_id=ticket.ticket_id, model=model, topic=topic, vector=raw, now=now)
    if isinstance(decision, NewSurge):
        surge = store.create(session, now=now, last_member_at=ticket.created_at)
        for member in decision.members:
            store.add_member(session, surge, member, now=now)
        _enqueue_alert(session, policy, surge, now=now)
        log.info("surge_new", surge=surge.number, tickets=len(decision.members))
        return "new"
    if isinstance(decision, JoinSurge):
        joined = store.by_id(session, decision.surge, for_update=True)
        assert joined is not None and joined.id is not None
        store.add_member(session, joined, ticket.ticket_id, now=now)
        store.touch(session, joined, ticket.created_at)
        _enqueue_join(session, policy, joined, ticket.ticket_id, now=now)
        return "joined"
    return "checked"


class _WindowCache:
    """The stored vectors of recent tickets, kept in this process between checks: a check reads only
    the vectors stored since the last one (by any process) and the few surge memberships in its
    window, instead of thousands of rows. Vectors never change once stored, so the cache is only
    ever behind, never wrong. Rows live in arrays with room to grow (appending copies nothing);
    rows older than `KEEP` are dropped once they are a quarter of the rows."""

    KEEP = timedelta(hours=6)

    def __init__(self, model: str) -> None:
        self.model = model
        self._reset(0)

    def _reset(self, dimensions: int, capacity: int = 0) -> None:
        self.last_id, self.size = 0, 0
        self._ticket_ids = np.zeros(capacity, dtype=np.int64)
        self._requesters = np.zeros(capacity, dtype=object)
        self._categories = np.zeros(capacity, dtype=object)
        self._created = np.zeros(capacity, dtype=np.float64)
        self._matrix = np.zeros((capacity, dimensions), dtype=np.float32)

    @property
    def ticket_ids(self) -> npt.NDArray[np.int64]:
        return self._ticket_ids[: self.size]

    @property
    def created(self) -> npt.NDArray[np.float64]:
        return self._created[: self.size]

    @property
    def matrix(self) -> Vectors:
        return self._matrix[: self.size]

    def _refresh(self, session: Session, *, since: datetime) -> None:
        if self.last_id and store.last_vector_id(session) < self.last_id:  # the table was emptied: start again
            self._reset(self._matrix.shape[1])
        rows = store.vectors_after(session, after_id=self.last_id, model=self.model, since=since)
        if rows:
            self._append(rows)
        stale = self.created < since.timestamp()
        if stale.sum() > self.size // 4:
            self._keep(~stale)

    def _append(self, rows: list[store.StoredVector]) -> None:
        added = np.frombuffer(b"".join(r.vector for r in rows), dtype=np.float32).reshape(len(rows), -1)
        if added.shape[1] != self._matrix.shape[1]:  # another model size: the old rows compare with nothing
            last_id = self.last_id
            self._reset(added.shape[1])
            self.last_id = last_id
        end = self.size + len(rows)
        if end > len(self._ticket_ids):
            self._grow(max(end, 2 * len(self._ticket_ids), 1024))
        self._matrix[self.size : end] = added
        self._ticket_ids[self.size : end] = [r.ticket_id for r in rows]
        self._requesters[self.size : end] = [r.requester for r in rows]
        self._categories[self.size : end] = [r.topic or "" for r in rows]
        self._created[self.size : end] = [r.created_at.timestamp() for r in rows]
        self.size, self.last_id = end, rows[-1].vector_id

    def _grow(self, capacity: int) -> None:
        for name in ("_ticket_ids", "_requesters", "_categories", "_created", "_matrix"):
            old = getattr(self, name)
            new = np.zeros((capacity, *old.shape[1:]), dtype=old.dtype)
            new[: self.size] = old[: self.size]
            setattr(self, name, new)

    def _keep(self, keep: npt.NDArray[np.bool_]) -> None:
        for name in ("_ticket_ids", "_requesters", "_categories", "_created", "_matrix"):
            old = getattr(self, name)
            new = np.zeros_like(old)
            kept = old[: self.size][keep]
            new[: len(kept)] = kept
            setattr(self, name, new)
        self.size = int(keep.sum())

    def window(
        self, session: Session, *, start: datetime, end: datetime, exclude: int, dimensions: int, now: datetime
    ) -> Window:
        self._refresh(session, since=min(start, now - self.KEEP))
        inside = (self.created >= start.timestamp()) & (self.created <= end.timestamp()) & (self.ticket_ids != exclude)
        if not inside.any() or self.matrix.shape[1] != dimensions:
            return Window.of([], np.zeros((0, dimensions), dtype=np.float32))
        ticket_ids = self.ticket_ids[inside]
        members = store.surges_between(session, start=start, end=end)
        surges = np.array([members.get(int(t), -1) for t in ticket_ids], dtype=np.int64) if members else None
        return Window(
            ticket_ids,
            self._requesters[: self.size][inside],  # object arrays: sliced here, not typed as properties
            self._categories[: self.size][inside],
            self.created[inside],
            surges if surges is not None else np.full(len(ticket_ids), -1, dtype=np.int64),
            self.matrix[inside],
        )


_caches: WeakKeyDictionary[Engine, dict[str, _WindowCache]] = WeakKeyDictionary()


def _cache_for(session: Session, model: str) -> _WindowCache:
    """One cache per engine and model in this process."""
    by_model = _caches.setdefault(session.get_bind().engine, {})
    if model not in by_model:
        by_model[model] = _WindowCache(model)
    return by_model[model]


# --------------------------------------------------------------------------------------------
# The alert
# --------------------------------------------------------------------------------------------


def _enqueue_alert(session: Session, policy: Policy, surge: Surge, *, now: datetime) -> None:
    if not policy.triage_channel:
        return
    outbox.enqueue(
        session, key=f"surge:{surge.id}:alert", method="chat.postMessage",
        args={"channel": policy.triage_channel, "surge_id": surge.id}, purpose=ALERT, now=now,
    )  # fmt: skip


def _has_alert(session: Session, surge: Surge) -> bool:
    return bool(surge.alert_ts) or outbox.by_key(session, f"surge:{surge.id}:alert") is not None


def _enqueue_refresh(session: Session, surge: Surge, *, change: str, note: str | None, now: datetime) -> None:
    """Update the alert in place and (with `note`) add a line to its thread."""
    if not _has_alert(session, surge):
        return
    outbox.enqueue(
        session, key=f"surge:{surge.id}:refresh:{change}", method="chat.update",
        args={"surge_id": surge.id}, purpose=REFRESH, now=now,
    )  # fmt: skip
    if note is not None:
        outbox.enqueue(
            session, key=f"surge:{surge.id}:note:{change}", method="chat.postMessage",
            args={"surge_id": surge.id, "text": note}, purpose=NOTE, now=now,
        )  # fmt: skip


def _enqueue_join(session: Session, policy: Policy, surge: Surge, ticket_id: int, *, now: datetime) -> None:
    assert surge.id is not None
    [joined] = store.members_of(session, surge.id, ticket_id=ticket_id)
    note = surge_blocks.joined_note(joined.number, joined.title) + _link_to_incident(
        session, policy, surge, joined, now
    )
    _enqueue_refresh(session, surge, change=f"ticket:{ticket_id}", note=note, now=now)


def _link_to_incident(session: Session, policy: Policy, surge: Surge, joined: store.Member, now: datetime) -> str:
    """A ticket that joins a surge after its incident was started is linked to the incident (its
    requester is told when it is resolved), by whoever started it; what happened, for the thread."""
    if surge.incident_id is None:
        return ""
    incident = session.get(Incident, surge.incident_id)
    if incident is None:
        return ""
    try:
        incidents.link_in(
            session, policy, ref=incidents.Ref(number=incident.number), numbers=(joined.number,),
            actor=surge.incident_by or "", now=now,
        )  # fmt: skip
    except (incidents.IncidentError, incidents.IncidentNotFoundError, PermissionDeniedError) as error:
        log.info("surge_joiner_not_linked", surge=surge.number, incident=incident.ref, reason=str(error))
        return f" · not linked to {incident.ref}: {error}"
    return f" · linked to {incident.ref}"


def _surge_of(session: Session, message: OutboxMessage) -> Surge:
    surge = store.by_id(session, int(message.args.get("surge_id") or 0))
    if surge is None:
        raise NotReadyError(f"surge {message.args.get('surge_id')} not found")
    return surge


def _render(session: Session, surge: Surge) -> dict[str, Any]:
    assert surge.id is not None
    members = [
        surge_blocks.SurgeLine(m.number, m.title, m.requester, m.created_at)
        for m in store.members_of(session, surge.id)
    ]
    incident = session.get(Incident, surge.incident_id) if surge.incident_id is not None else None
    return surge_blocks.surge_alert(
        surge.id, surge.number, members, incident=incident.ref if incident else None, incident_by=surge.incident_by
    )


def _where(session: Session, surge: Surge) -> tuple[str, str]:
    return where_posted(
        session, channel=surge.alert_channel, ts=surge.alert_ts, key=f"surge:{surge.id}:alert",
        what=f"the alert of surge {surge.number}",
    )  # fmt: skip


def _prepare_alert(session: Session, message: OutboxMessage) -> dict[str, Any]:
    return {"channel": message.args["channel"], "unfurl_links": False, **_render(session, _surge_of(session, message))}


def _prepare_refresh(session: Session, message: OutboxMessage) -> dict[str, Any]:
    surge = _surge_of(session, message)
    channel, ts = _where(session, surge)
    return {"channel": channel, "ts": ts, **_render(session, surge)}


def _prepare_note(session: Session, message: OutboxMessage) -> dict[str, Any]:
    channel, ts = _where(session, _surge_of(session, message))
    return {"channel": channel, "thread_ts": ts, "text": message.args["text"], "unfurl_links": False}


def _alert_posted(session: Session, message: OutboxMessage, response: dict[str, Any], now: datetime) -> None:
    store.set_alert(session, int(message.args["surge_id"]), str(response["channel"]), str(response["ts"]))


AFTER_SENT: dict[str, AfterSent] = {ALERT: _alert_posted}
PREPARE: dict[str, Prepare] = {ALERT: _prepare_alert, REFRESH: _prepare_refresh, NOTE: _prepare_note}


# --------------------------------------------------------------------------------------------
# Start incident
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StartOutcome:
    changed: bool
    message: str


def start_incident(engine: Engine, policy: Policy, *, surge_id: int, actor: str, now: datetime) -> StartOutcome:
    """The alert's button: the incident playbook with every member linked, once per surge (a second
    click, or a click racing it, is told which incident was started). Leads and admins only."""
    playbook_runs.check_may_run(policy, actor, "start incidents")
    with read_scope(engine) as session:
        surge = store.by_id(session, surge_id)
        if surge is None or surge.id is None:
            return StartOutcome(False, "That surge no longer exists.")
        if surge.incident_id is not None:
            return StartOutcome(False, _already(session, surge))
        members = store.members_of(session, surge.id)
        number = surge.number
    title = truncate(f"Surge {number}: {members[0].title}" if members else f"Surge {number}", 80)
    try:
        incident = incidents.start(
            engine, policy, title=title, actor=actor, request_key=f"surge:{surge_id}:incident", now=now,
            ticket_numbers=tuple(m.number for m in members),
        )  # fmt: skip
    except playbook_runs.DuplicateRequestError:
        with read_scope(engine) as session:
            again = store.by_id(session, surge_id)
            assert again is not None
            return StartOutcome(False, _already(session, again))
    assert incident.id is not None
    with session_scope(engine) as session:
        locked = store.by_id(session, surge_id, for_update=True)
        assert locked is not None
        store.set_incident(session, surge_id, incident_id=incident.id, actor=actor)
        note = f"{incident.ref} started by <@{actor}> with {len(members)} tickets linked"
        _enqueue_refresh(session, locked, change=f"incident:{incident.id}", note=note, now=now)
    return StartOutcome(True, f"{incident.ref} started with {len(members)} tickets linked.")


def _already(session: Session, surge: Surge) -> str:
    incident = session.get(Incident, surge.incident_id) if surge.incident_id is not None else None
    which = incident.ref if incident else "an incident"
    return f"{which} was already started from surge {surge.number}; nothing more was started."
