"""Playbook runs and incidents: lookups, locks, linked tickets and incident channel names."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, func, select

from store.db import insert_if_absent
from store.models import Incident, IncidentChannelName, PlaybookRun, RunTicket, Ticket

__all__ = [
    "incident_by_channel",
    "incident_by_channel_name",
    "incident_by_number",
    "incident_of_run",
    "incidents_in_channel",
    "link_ticket",
    "linked_tickets",
    "names_tried",
    "open_incidents",
    "reserve_channel_name",
    "run_by_id",
    "running_run_ids_for_ticket",
    "running_runs",
    "runs_in",
    "set_name_outcome",
]


def run_by_id(session: Session, run_id: int, *, for_update: bool = False) -> PlaybookRun | None:
    """`for_update` locks the run until commit (PostgreSQL; SQLite's single writer gives the same) and
    reads it fresh: every change to a run's state is made under this lock."""
    statement = select(PlaybookRun).where(PlaybookRun.id == run_id)
    if for_update and session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update()
    return session.exec(statement.execution_options(populate_existing=for_update)).first()


def runs_in(session: Session, channel: str) -> list[PlaybookRun]:
    """The running runs that post in `channel`, oldest first."""
    statement = select(PlaybookRun).where(PlaybookRun.channel == channel, PlaybookRun.status == "running")
    return list(session.exec(statement.order_by(col(PlaybookRun.id))).all())


def running_runs(session: Session, *, limit: int = 20) -> list[PlaybookRun]:
    statement = select(PlaybookRun).where(PlaybookRun.status == "running").order_by(col(PlaybookRun.id).desc())
    return list(session.exec(statement.limit(limit)).all())


def running_run_ids_for_ticket(session: Session, ticket_id: int) -> list[int]:
    statement = (
        select(PlaybookRun.id)
        .join(RunTicket, col(RunTicket.run_id) == col(PlaybookRun.id))
        .where(RunTicket.ticket_id == ticket_id, PlaybookRun.status == "running")
        .order_by(col(PlaybookRun.id))
    )
    return [run_id for run_id in session.exec(statement).all() if run_id is not None]


def link_ticket(session: Session, *, run_id: int, ticket_id: int, actor: str, now: datetime) -> bool:
    """Link a ticket to a run; False if it was linked already."""
    values = {"run_id": run_id, "ticket_id": ticket_id, "linked_by": actor, "linked_at": now}
    return insert_if_absent(session, RunTicket, values, unique=("run_id", "ticket_id")) is not None


def linked_tickets(session: Session, run_id: int) -> list[Ticket]:
    statement = (
        select(Ticket)
        .join(RunTicket, col(RunTicket.ticket_id) == col(Ticket.id))
        .where(RunTicket.run_id == run_id)
        .order_by(col(Ticket.number))
    )
    return list(session.exec(statement).all())


def incident_by_number(session: Session, number: int) -> Incident | None:
    return session.exec(select(Incident).where(Incident.number == number)).first()


def incident_by_channel(session: Session, channel: str) -> Incident | None:
    return session.exec(select(Incident).where(Incident.channel_id == channel)).first()


def incidents_in_channel(session: Session, channel: str) -> list[Incident]:
    """The open incidents whose channel `channel` is (several only when they fell back to a shared
    one), or, with none open, the latest resolved one."""
    found = list(
        session.exec(select(Incident).where(Incident.channel_id == channel).order_by(col(Incident.number))).all()
    )
    still_open = [incident for incident in found if incident.status == "open"]
    return still_open or found[-1:]


def incident_by_channel_name(session: Session, name: str) -> Incident | None:
    return session.exec(select(Incident).where(Incident.channel_name == name)).first()


def names_tried(session: Session, incident_id: int) -> int:
    """How many channel names the incident has reserved (asked of Slack or about to be)."""
    statement = (
        select(func.count()).select_from(IncidentChannelName).where(IncidentChannelName.incident_id == incident_id)
    )
    return int(session.exec(statement).one())


def incident_of_run(session: Session, run_id: int) -> Incident | None:
    return session.exec(select(Incident).where(Incident.run_id == run_id)).first()


def open_incidents(session: Session) -> list[Incident]:
    statement = select(Incident).where(Incident.status == "open").order_by(col(Incident.number))
    return list(session.exec(statement).all())


def reserve_channel_name(session: Session, name: str, *, incident_id: int) -> bool:
    """Claim `name` for the incident; False if any incident ever used or tried it. A concurrent
    claim of the same name waits for the other transaction and then loses."""
    values = {"name": name, "incident_id": incident_id, "outcome": "reserved"}
    return insert_if_absent(session, IncidentChannelName, values, unique="name") is not None


def set_name_outcome(session: Session, name: str, outcome: str) -> None:
    row = session.get(IncidentChannelName, name)
    if row is not None:
        row.outcome = outcome
        session.add(row)
