"""The surge check's in-process window cache gives the same window as reading the table afresh: as
vectors arrive (past its first capacity), as old ones age out, and after the table is emptied."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import Engine, delete, insert, text
from sqlmodel import Session

from bot.services.surges import _WindowCache
from store.models import Ticket, TicketVector

START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _add(engine: Engine, numbers: range, rng: np.random.Generator) -> None:
    """Tickets numbered `numbers`, created a minute apart from START, each with its vector."""
    tickets, vectors = [], []
    for number in numbers:
        created = START + timedelta(minutes=number)
        tickets.append({
            "id": number, "number": number, "title": f"t{number}", "description": "", "status": "NEW",
            "priority": "P2", "priority_reason": "", "tags": [], "attachments": [], "requester_id": f"U{number % 7}",
            "created_by": f"U{number % 7}", "source_kind": "command", "created_at": created, "updated_at": created,
        })  # fmt: skip
        vector = rng.standard_normal(8).astype(np.float32)
        vectors.append({"ticket_id": number, "model": "m", "topic": f"c{number % 3}", "vector": vector.tobytes(),
                        "created_at": created})  # fmt: skip
    with engine.begin() as connection:
        connection.execute(insert(Ticket), tickets)
        connection.execute(insert(TicketVector), vectors)


def _window_of(cache: _WindowCache, engine: Engine, minute: int) -> tuple[list[int], list[str], list[str], bytes]:
    now = START + timedelta(minutes=minute)
    with Session(engine) as session:
        window = cache.window(session, start=now - timedelta(hours=1), end=now, exclude=minute, dimensions=8, now=now)
    return window.ticket_ids.tolist(), window.requesters.tolist(), window.categories.tolist(), window.matrix.tobytes()


def test_the_cached_window_matches_a_fresh_read_as_vectors_come_and_age(engine: Engine) -> None:
    rng = np.random.default_rng(3)
    cache = _WindowCache("m")
    _add(engine, range(1, 200), rng)
    first = _window_of(cache, engine, 199)
    assert first[0] == list(range(139, 199))  # the last hour, without the ticket being checked
    # Past the first capacity (1,024 rows), and past the six hours after which rows are dropped.
    for begin, end in ((200, 900), (900, 1500), (1500, 2600)):
        _add(engine, range(begin, end), rng)
        assert _window_of(cache, engine, end - 1) == _window_of(_WindowCache("m"), engine, end - 1)
    assert cache.size <= 6 * 60 * 4 // 3 + 1  # aged-out rows went: at most a quarter of what it holds
    assert cache.created.min() >= (START + timedelta(minutes=2599) - timedelta(hours=6, minutes=90)).timestamp()


def test_an_emptied_table_starts_the_cache_again(engine: Engine) -> None:
    rng = np.random.default_rng(4)
    cache = _WindowCache("m")
    _add(engine, range(1, 50), rng)
    assert len(_window_of(cache, engine, 49)[0]) == 48
    with engine.begin() as connection:  # as the test suite empties it between tests: ids start again
        if engine.dialect.name == "postgresql":
            connection.execute(text("TRUNCATE ticket_vectors, tickets RESTART IDENTITY CASCADE"))
        else:
            connection.execute(delete(TicketVector))
            connection.execute(delete(Ticket))
    _add(engine, range(1, 10), rng)
    assert _window_of(cache, engine, 9) == _window_of(_WindowCache("m"), engine, 9)
