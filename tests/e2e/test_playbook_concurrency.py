"""Three `frontline tick` processes at once on one PostgreSQL database over 200 playbook runs whose
first step's reminder is due: every reminder is posted, and posted once (issue 7, "exactly-once
reminders with concurrent ticks")."""

from __future__ import annotations

import os
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlmodel import Session, col, select

from bot.config import parse_config
from bot.services import playbook_runs
from bot.services.policy import Policy
from bot.slack.standin import SlackStandIn
from store.db import create_db_engine, session_scope
from store.models import OutboxMessage, Timer
from tests.e2e.test_sla_concurrency import _ticks

CONFIG = {"channels": {"social": "C_SOCIAL"}, "roles": {"leads": ["U_LEAD"]}}
RUNS = 200


@pytest.mark.postgres_only
def test_three_ticks_post_each_playbook_reminder_exactly_once(database_url: str, tmp_path: Path) -> None:
    config_file = tmp_path / "frontline.yaml"
    config_file.write_text(yaml.safe_dump(CONFIG))
    policy = Policy.from_config(parse_config(CONFIG))
    engine = create_db_engine(database_url)
    started = datetime.now(UTC) - timedelta(minutes=31)  # "Acknowledge publicly" was due at 30 minutes
    playbook = policy.playbooks["social-crisis"]
    with session_scope(engine) as session:
        for n in range(RUNS):
            title = f"Thread {n}"
            playbook_runs.start_in(
                session, policy, playbook, title=title, actor="U_LEAD", channel="C_SOCIAL", now=started
            )
    with SlackStandIn(retry_after=0) as standin:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_", "FRONTLINE_"))}
        env |= {
            "DATABASE_URL": database_url,
            "FRONTLINE_CONFIG": str(config_file),
            "SLACK_BOT_TOKEN": standin.bot_token,
            "SLACK_SIGNING_SECRET": "secret",
            "SLACK_API_URL": standin.api_url,
            "LOG_LEVEL": "WARNING",
            "SLACK_CHANNEL_RATE": "0",
        }
        now = datetime.now(UTC)
        for result in _ticks(env, now):
            assert result.returncode == 0, result.stderr[-2000:]
        for result in _ticks(env, now, processes=2):  # and again: nothing more
            assert result.returncode == 0, result.stderr[-2000:]
        reminded = Counter(
            message["text"].split("(run ", 1)[1].split(")", 1)[0]
            for message in standin.messages("C_SOCIAL")
            if message["text"].startswith(":alarm_clock:")
        )
    assert len(reminded) == RUNS and set(reminded.values()) == {1}
    with Session(engine) as session:
        fired = session.exec(select(Timer).where(Timer.kind == "playbook", col(Timer.fired_at).is_not(None))).all()
        undelivered = session.exec(select(OutboxMessage).where(col(OutboxMessage.status) != "sent")).all()
    assert len(fired) == RUNS and {timer.outcome for timer in fired} == {"queued"}
    assert undelivered == []
    engine.dispose()
