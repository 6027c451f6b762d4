"""Three `frontline tick` processes at once on one PostgreSQL database: 1,000 tickets with a nudge
due, and separately a Slack that answers 30% of calls with 429 or 5xx (slack_sdk's retry handlers
sleep a jittered second or so on each, hence fewer tickets there): every nudge is sent, and sent
once (SPEC §4; field case F11's kind)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlmodel import Session, col, select

from bot.config import parse_config
from bot.services.policy import Policy
from bot.services.tickets import NewTicket, create_ticket
from bot.slack.standin import SlackStandIn
from store.db import create_db_engine
from store.models import OutboxMessage, Timer

AGENTS = [f"U_AGENT{n}" for n in range(1, 3)]  # the stand-in's seeded agents
# No triage channel, so no cards: the only messages are the nudges. The next alert after the 50 %
# first-response nudge is its breach, 30 minutes later: the retry ticks below stay before it.
CONFIG = {
    "sla": {"P2": {"first_response": "1h", "resolution": "100h", "calendar": "24x7"}, "warn_at": [0.5]},
    "roles": {"agents": AGENTS},
}


def _ticks(env: dict[str, str], now: datetime, processes: int = 3) -> list[subprocess.CompletedProcess[str]]:
    running = [
        subprocess.Popen(
            [sys.executable, "-m", "bot", "tick", "--now", now.isoformat()],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    results = []
    for process in running:
        stdout, stderr = process.communicate(timeout=600)
        results.append(subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr))
    return results


@pytest.mark.postgres_only
@pytest.mark.parametrize(("tickets", "failure_rate"), [(1000, 0.0), (200, 0.3)])
def test_three_ticks_send_each_nudge_exactly_once(
    database_url: str, tmp_path: Path, tickets: int, failure_rate: float
) -> None:
    config_file = tmp_path / "frontline.yaml"
    config_file.write_text(yaml.safe_dump(CONFIG))
    policy = Policy.from_config(parse_config(CONFIG))
    engine = create_db_engine(database_url)
    opened = datetime.now(UTC) - timedelta(minutes=31)  # the 50 % nudge (at 30 min) is due now
    for n in range(tickets):
        owner = AGENTS[n % len(AGENTS)]
        request = NewTicket(f"Question {n} about reports", f"Question {n}", owner, "command", owner_id=owner)
        create_ticket(engine, policy, request, now=opened)
    flaky = SlackStandIn(failure_rate=failure_rate, failure_kinds=("429", "500"), retry_after=0, seed=7)
    with flaky as standin:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_", "FRONTLINE_"))}
        env |= {
            "DATABASE_URL": database_url,
            "FRONTLINE_CONFIG": str(config_file),
            "SLACK_BOT_TOKEN": standin.bot_token,
            "SLACK_SIGNING_SECRET": "secret",
            "SLACK_API_URL": standin.api_url,
            "LOG_LEVEL": "WARNING",
            "SLACK_CHANNEL_RATE": "0",  # 500 DMs to each agent: paced, they would take 8 minutes
        }
        now = datetime.now(UTC)
        for result in _ticks(env, now):
            assert result.returncode == 0, result.stderr[-2000:]
        # What failed past the client's own retries waits for its backoff; later ticks send it.
        for later in (timedelta(minutes=5), timedelta(minutes=12), timedelta(minutes=25)):
            for result in _ticks(env, now + later, processes=2):
                assert result.returncode == 0, result.stderr[-2000:]
        failed_calls = [call for call in standin.calls_to("chat.postMessage") if call.status != 200]
        nudges = [
            message["text"].split("'", 1)[0].split()[-1]
            for agent in AGENTS
            for message in standin.messages(agent)
            if message["text"].startswith(":hourglass_flowing_sand:")
        ]
    sent = Counter(nudges)
    assert len(failed_calls) >= tickets * failure_rate / 2  # the stand-in did fail its share of the calls
    assert len(sent) == tickets and set(sent.values()) == {1}  # every ticket nudged, none twice
    with Session(engine) as session:
        fired = session.exec(select(Timer).where(col(Timer.fired_at).is_not(None))).all()
        undelivered = session.exec(select(OutboxMessage).where(col(OutboxMessage.status) != "sent")).all()
    assert len(fired) == tickets and {timer.outcome for timer in fired} == {"queued"}
    assert undelivered == []
    engine.dispose()
