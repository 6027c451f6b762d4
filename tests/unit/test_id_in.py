"""`id_in` writes integer ids into the SQL: only integers get through."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlmodel import Session

from store.db import id_in
from store.migrate import upgrade
from store.models import Timer


def test_id_in_selects_exactly_the_given_rows(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/ids.db")
    upgrade(engine)
    with Session(engine) as session:
        due = datetime(2026, 1, 1, tzinfo=UTC)
        for number in range(1, 6):
            session.add(Timer(key=f"k{number}", kind="ticket", subject_id=number, name="n", due_at=due))
        session.commit()
        found = session.execute(select(Timer.subject_id).where(id_in(Timer.id, [2, 4, 99]))).scalars().all()
    assert sorted(found) == [2, 4]


def test_id_in_refuses_anything_but_integers() -> None:
    with pytest.raises(ValueError):
        id_in(Timer.id, ["1); DROP TABLE tickets; --"])  # type: ignore[list-item]
