"""`frontline erase-user`: a person's words and ID, seeded through the real app over signed HTTP
(intake posts, thread replies, /ticket, a note, an escalation, a playbook run, an incident, a digest,
a CSAT comment, the surge check's vectors), are gone from every table and every export afterwards;
row counts and metrics are unchanged; a second run finds nothing; bad ids change nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import Engine, inspect, text

from bot.config import parse_config
from bot.sandbox import Sandbox
from bot.worker import run_due_work
from store.db import read_scope, session_scope
from store.metrics import measure
from tests.e2e.clocks import Clock

NY = ZoneInfo("America/New_York")
JANE, BOB, AGENT, LEAD, ADMIN = "U0JANE42", "U0BOB777", "U_AGENT1", "U_LEAD", "U_ADMIN"
CONFIG: dict[str, Any] = {
    "timezone": "America/New_York",
    "channels": {
        "triage": "C_TRIAGE",
        "intake": ["C_HELP"],
        "escalation": {"L2": "C_L2"},
        "incidents": "C_INCIDENTS",
        "standup": "C_STANDUP",
    },
    "roles": {"agents": [AGENT], "l2": ["U_AGENT2"], "leads": [LEAD], "admins": [ADMIN]},
}
# Jane's words (and words about her) as they enter, and what must be gone afterwards.
JANE_TEXT = "Zanzibarquux exporter crashed for jane.doe@example.org, call me on +44 20 7946 0958 please"
JANE_TRACES = (
    JANE,
    "zanzibarquux",
    "jane.doe@example.org",
    "7946 0958",
    "quokkablimp",
    "frobnitzwhistle",
    "plimsoll",
    "yodelbanjo",
    "wombatfizzle",
    "marmaladeprotocol",
)
BOB_TEXT = "Kettlefrost printer on floor 3 is jammed again since this morning"


def _at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, 7, hour, minute, tzinfo=NY)


@pytest.fixture
def clock() -> Clock:
    return Clock(_at(10))


@pytest.fixture
def box(database_url: str, clock: Clock) -> Iterator[Sandbox]:
    with Sandbox(database_url=database_url, config=parse_config(CONFIG), clock=clock, with_worker=False) as sandbox:
        sandbox.standin.add_user(JANE, "jane", email="jane.doe@example.org")
        sandbox.standin.add_user(BOB, "bob")
        yield sandbox


@pytest.fixture
def env(box: Sandbox, database_url: str, tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "frontline.yaml"
    config.write_text(yaml.safe_dump(CONFIG))
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FRONTLINE_", "DATABASE_"))}
    return base | {
        "DATABASE_URL": database_url,
        "FRONTLINE_CONFIG": str(config),
        "SLACK_BOT_TOKEN": box.standin.bot_token,
        "SLACK_SIGNING_SECRET": "erase-test",
        "SLACK_API_URL": box.standin.api_url,
        "LOG_LEVEL": "WARNING",
    }


def frontline(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _tick(box: Sandbox, clock: Clock, at: datetime) -> None:
    clock.now = at
    report = run_due_work(box.deps, at)
    assert (report.timers_failed, report.dead, report.notes) == (0, 0, []), report


def _post(box: Sandbox, clock: Clock, at: datetime, user: str, words: str, *, thread_ts: str | None = None) -> str:
    clock.now = at
    event = box.standin.post_as_user("C_HELP", user, words, thread_ts=thread_ts)
    assert box.simulator.event(event, event_id=f"Ev{event['ts']}").status == 200
    _tick(box, clock, at)
    return str(event["ts"])


def _command(box: Sandbox, clock: Clock, at: datetime, command: str, words: str, *, user: str) -> str:
    clock.now = at
    response = box.simulator.slash_command(command, words, user_id=user, channel_id="C_TRIAGE")
    assert response.status == 200, response.body
    _tick(box, clock, at)
    return str(response.json().get("text", "")) if response.body else ""


def _button(message: dict[str, Any], starts: str) -> dict[str, Any]:
    return next(
        element
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["text"]["text"].startswith(starts)
    )


def _rate_with_comment(box: Sandbox, clock: Clock, comment: str) -> None:
    dm = box.standin.dm_channel(JANE)
    assert dm is not None
    (prompt,) = [m for m in box.standin.messages(dm) if m["text"].startswith("How did we do on")]
    box.simulator.block_action(user_id=JANE, actions=[_button(prompt, "2")], channel_id=dm, message=prompt)
    _tick(box, clock, clock.now)
    (prompt,) = [m for m in box.standin.messages(dm) if m["text"].startswith("How did we do on")]
    box.simulator.block_action(user_id=JANE, actions=[_button(prompt, "Add a comment")], channel_id=dm, message=prompt)
    deadline = time.monotonic() + 5
    while not box.standin.views():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    form = box.standin.views()[-1]
    state = {"comment": {"value": {"type": "plain_text_input", "value": comment}}}
    assert box.simulator.view_submission(user_id=JANE, view={**form, "state": {"values": state}}).body == ""


def _seed(box: Sandbox, clock: Clock) -> None:
    """Jane's data through every path that stores words, and Bob's ticket beside it."""
    t1 = _post(box, clock, _at(10), JANE, JANE_TEXT)  # T-1
    assert "Created *T-2*" in _command(
        box, clock, _at(10, 5), "/ticket", "Frobnitzwhistle invoices vanished from my account", user=JANE
    )
    t3 = _post(box, clock, _at(10, 10), BOB, BOB_TEXT)  # T-3
    _post(
        box, clock, _at(10, 20), JANE, "Still failing with the Quokkablimp error, my colleague saw it too", thread_ts=t1
    )
    _post(box, clock, _at(10, 25), AGENT, "Hi there, looking at the Quokkablimp error for you now", thread_ts=t1)
    _post(box, clock, _at(10, 30), JANE, "Same Yodelbanjo trouble here, it is really annoying", thread_ts=t3)
    _command(
        box, clock, _at(10, 35), "/ticket", "note T-1 Jane Plimsoll-Frobisher is their finance contact", user=AGENT
    )
    _command(
        box, clock, _at(10, 40), "/ticket", "escalate T-1 L2 Restarted the Marmaladeprotocol sync twice", user=AGENT
    )
    _command(box, clock, _at(10, 45), "/playbook", "run angry-customer T-1", user=LEAD)
    _command(box, clock, _at(10, 50), "/incident", "start Checkout export outage T-1 T-3", user=LEAD)
    _command(box, clock, _at(11), "/ticket", "solve T-2", user=AGENT)
    _rate_with_comment(box, clock, "Gloriously slow Wombatfizzle support, jane.doe@example.org")
    _command(box, clock, _at(11, 10), "/support", "digest", user=AGENT)
    _tick(box, clock, _at(11, 15))


def _dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table in the database (as the database has it, not as the models say)."""
    with engine.connect() as connection:
        return {
            name: [tuple(row) for row in connection.execute(text(f'SELECT * FROM "{name}"'))]
            for name in sorted(inspect(connection).get_table_names())
        }


def _words(dump: dict[str, list[tuple[Any, ...]]]) -> str:
    """Every text and JSON value of the dump, lower-cased, one long string."""
    values = (value for rows in dump.values() for row in rows for value in row if not isinstance(value, bytes))
    return "\n".join(
        (value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)).lower()
        for value in values
        if value is not None
    )


def _where(dump: dict[str, list[tuple[Any, ...]]], trace: str) -> list[tuple[str, Any]]:
    """The rows holding `trace`, to say where a failure is."""
    return [(name, row) for name, rows in dump.items() for row in rows if trace.lower() in _words({name: [row]})]


def _exports(env: dict[str, str]) -> str:
    outputs = []
    for args in (
        ("export", "tickets", "--format", "jsonl"),
        ("export", "tickets", "--format", "csv"),
        ("export", "tickets", "--include-pii", "--as", ADMIN),
        ("export", "bugs", "--format", "csv"),
        ("export", "incident", "INC-1"),
    ):
        result = frontline(*args, env=env)
        assert result.returncode == 0, (args, result.stderr)
        outputs.append(result.stdout)
    return "\n".join(outputs).lower()


def _metrics(engine: Engine) -> Any:
    with read_scope(engine) as session:
        return measure(session, start=_at(0) - timedelta(days=7), end=_at(23))


def test_erase_user_leaves_no_trace_and_keeps_counts(box: Sandbox, clock: Clock, env: dict[str, str]) -> None:
    _seed(box, clock)
    engine = box.deps.engine
    exported = _exports(env)  # first: an export with personal data is itself audited
    before = _dump(engine)
    words = _words(before)
    for trace in JANE_TRACES:  # the test can fail: every trace is there to begin with
        assert trace.lower() in words, trace
    assert "zanzibarquux" in exported and "[email]" in exported and "jane.doe@example.org" in exported
    vectors_before = len(before["ticket_vectors"])
    assert vectors_before == 3
    metrics_before = _metrics(engine)

    erased = frontline("erase-user", JANE, env=env)
    assert erased.returncode == 0, erased.stderr
    assert erased.stdout.startswith(f"erased the personal data of {JANE}: 2 of their tickets emptied, ")
    erasure_id = erased.stdout.split("erasure id ")[1].split()[0]

    exported = _exports(env)
    after = _dump(engine)
    words = _words(after)
    for trace in JANE_TRACES:
        assert trace.lower() not in words, (trace, _where(after, trace))
        assert trace.lower() not in exported, trace
    assert "kettlefrost" in words and "kettlefrost" in exported  # Bob's ticket is his
    assert {name: len(rows) for name, rows in after.items()} == {
        # Two audit rows more: that the erasure ran, and the admin's export with personal data.
        name: len(rows) + 2 * (name == "audit_events")
        for name, rows in before.items()
    }
    assert _metrics(engine) == metrics_before
    with engine.connect() as connection:
        vectors = dict(connection.execute(text("SELECT ticket_id, vector FROM ticket_vectors")).all())
        # Jane's two tickets' embeddings are zeroed (the rows stay: they say "checked"); Bob's is his.
        assert sorted(ticket for ticket, vector in vectors.items() if not any(bytes(vector))) == [1, 2]
        recorded = connection.execute(
            text(
                "SELECT actor, entity_type, action, field, before, after FROM audit_events"
                " WHERE entity_type = 'erasure'"
            )
        ).all()
    assert [tuple(row) for row in recorded] == [("frontline", "erasure", "erased", None, None, erasure_id)]

    again = frontline("erase-user", JANE, env=env)
    assert (again.returncode, again.stdout) == (
        0,
        f"nothing left to erase for {JANE}: Frontline holds none of their data\n",
    )
    assert _dump(engine) == after


def test_unknown_and_malformed_ids_change_nothing(box: Sandbox, clock: Clock, env: dict[str, str]) -> None:
    _post(box, clock, _at(10), JANE, JANE_TEXT)
    before = _dump(box.deps.engine)
    unknown = frontline("erase-user", "U0NOBODY1", env=env)
    assert unknown.returncode == 1 and "Traceback" not in unknown.stderr
    assert unknown.stderr == (
        "erase-user: Slack knows no user U0NOBODY1 and Frontline holds nothing of theirs; nothing was changed\n"
    )
    # Slack cannot be asked (nothing listens there): a mistyped id must not read as "done".
    unreachable = frontline("erase-user", "U0NOBODY1", env=env | {"SLACK_API_URL": "http://127.0.0.1:9/api/"})
    assert unreachable.returncode == 1 and "Traceback" not in unreachable.stderr
    assert unreachable.stderr.splitlines()[-1] == (
        "erase-user: Frontline holds nothing of U0NOBODY1, and Slack could not be asked whether U0NOBODY1"
        " exists (check SLACK_BOT_TOKEN and SLACK_API_URL), so a mistyped id cannot be told from an erased"
        " one; nothing was changed"
    )
    for malformed in ("jane", "u0jane42", "C0123ABCD", "U0JANE42; DROP TABLE tickets", ""):
        result = frontline("erase-user", malformed, env=env)
        assert result.returncode == 2 and "Traceback" not in result.stderr, malformed
        assert result.stderr.startswith(f"erase-user: '{malformed}' is not a Slack user ID"), result.stderr
        assert result.stderr.endswith("; nothing was changed\n")
    assert _dump(box.deps.engine) == before


def test_an_erased_agents_tickets_become_unowned_and_their_nudges_go_to_triage(
    box: Sandbox, clock: Clock, env: dict[str, str]
) -> None:
    from store import outbox

    _post(box, clock, _at(10), BOB, BOB_TEXT)
    _command(box, clock, _at(10, 5), "/ticket", "take T-1", user=AGENT)
    with session_scope(box.deps.engine) as session:  # a DM to the agent, not sent yet
        outbox.enqueue(
            session, key="dm:agent", method="chat.postMessage", args={"channel": AGENT, "text": "psst"},
            purpose="test", now=_at(10, 6),
        )  # fmt: skip
    erased = frontline("erase-user", AGENT, env=env)
    assert erased.returncode == 0, erased.stderr
    with read_scope(box.deps.engine) as session:
        assert session.execute(text("SELECT owner_id FROM tickets")).scalars().all() == [None]
        assert session.execute(text("SELECT count(*) FROM outbox WHERE key = 'dm:agent'")).scalar() == 0
    _tick(box, clock, _at(16))  # past P2's first-response nudges: none dead (asserted in _tick)
    posted = [call.args for call in box.standin.calls_to("chat.postMessage")]
    assert any("first response" in str(args).lower() and args["channel"] == "C_TRIAGE" for args in posted), posted
    assert all(args["channel"] not in ("[erased]", AGENT) for args in posted)
    # Triage sees it too: the card no longer names an owner, and its thread says why.
    [card] = box.standin.messages("C_TRIAGE")
    assert AGENT not in json.dumps(card["blocks"]) and "[erased]" not in json.dumps(card["blocks"])
    assert "Unassigned: its owner's personal data was erased." in [reply["text"] for reply in card["replies"]]
    with read_scope(box.deps.engine) as session:
        audited = session.execute(
            text(
                "SELECT actor, field, before, after FROM audit_events WHERE actor = 'frontline' AND field = 'owner_id'"
            )
        ).all()
    assert [tuple(row) for row in audited] == [("frontline", "owner_id", "[erased]", None)]


def test_unique_values_that_named_the_person_stay_unique(engine: Engine) -> None:
    from bot.services.erasure import erase_user
    from store import outbox
    from store.db import session_scope

    now = _at(9)
    with session_scope(engine) as session:
        # Two keys that differ only by whose they are: erasing both people must not make them one.
        for key in (f"home:{JANE}:Ev1", "home:U0OTHER1:Ev1"):
            outbox.enqueue(session, key=key, method="views.publish", args={"user_id": key[5:13]}, purpose="x", now=now)
    first = erase_user(engine, JANE, now=now)
    second = erase_user(engine, "U0OTHER1", now=now)
    assert first.erasure_id and second.erasure_id and first.erasure_id != second.erasure_id
    with engine.connect() as connection:
        keys = [row[0] for row in connection.execute(text("SELECT key FROM outbox ORDER BY id"))]
    assert len(set(keys)) == 2 and all(key.startswith("home:[erased]:Ev1~") for key in keys), keys
