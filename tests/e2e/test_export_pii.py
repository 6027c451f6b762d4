"""`frontline export tickets|bugs` masks personal data unless an admin, named with --as, asks for it."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.config import demo_config
from bot.services.policy import Policy
from bot.services.tickets import NewTicket, create_ticket
from store.db import create_db_engine
from tests.e2e.test_cli import frontline

WORDS = "Refund to jane@acme.io, card 4111 1111 1111 1111, call +1 (415) 555-0132, key xoxb-1234567890-abcdef"


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    config = tmp_path / "frontline.yaml"
    config.write_text("roles: {agents: [U_AGENT1], admins: [U_ADMIN], leads: [U_LEAD]}\n")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FRONTLINE_", "DATABASE_"))}
    engine = create_db_engine(database_url)
    policy = Policy.from_config(demo_config())
    now = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
    create_ticket(engine, policy, NewTicket(WORDS, WORDS, "U_A", "command"), now=now)
    engine.dispose()
    return base | {"DATABASE_URL": database_url, "FRONTLINE_CONFIG": str(config), "LOG_LEVEL": "WARNING"}


def test_exports_are_masked_by_default(env: dict[str, str]) -> None:
    for fmt in ("jsonl", "csv"):
        result = frontline("export", "tickets", "--format", fmt, env=env)
        assert result.returncode == 0, result.stderr
        for secret in ("jane@acme.io", "4111", "555-0132", "xoxb-"):
            assert secret not in result.stdout, (fmt, secret)
        assert "Refund to [email], card [card], call [phone], key [token]" in result.stdout
    record = json.loads(frontline("export", "tickets", env=env).stdout)
    assert (record["id"], record["created_at"], record["created_by"]) == ("T-1", "2026-12-07T15:00:00Z", "U_A")


def test_an_admin_named_with_as_gets_the_words_whole(env: dict[str, str]) -> None:
    result = frontline("export", "tickets", "--include-pii", "--as", "U_ADMIN", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["title"] == WORDS


def test_include_pii_is_refused_without_an_admin(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "tickets.jsonl"
    anonymous = frontline("export", "tickets", "--include-pii", "-o", str(out), env=env)
    assert anonymous.returncode == 2 and anonymous.stdout == "" and not out.exists()
    assert anonymous.stderr == (
        "--include-pii: personal data is for admins; add --as <your Slack user ID> (listed in roles.admins)\n"
    )
    for verb, who in (("tickets", "U_LEAD"), ("tickets", "<script>"), ("bugs", "U_NOBODY")):
        refused = frontline("export", verb, "--include-pii", "--as", who, "-o", str(out), env=env)
        assert refused.returncode == 2 and refused.stdout == "" and not out.exists(), (verb, who)
        assert refused.stderr == (
            f"--as: {who} is not in roles.admins; only admins may export personal data (--include-pii)\n"
        )


def test_a_file_with_personal_data_is_owner_only_and_the_export_is_audited(
    env: dict[str, str], tmp_path: Path, database_url: str
) -> None:
    out, masked = tmp_path / "pii.jsonl", tmp_path / "masked.jsonl"
    out.write_text("old")
    out.chmod(0o644)  # an existing file is tightened too
    result = frontline("export", "tickets", "--include-pii", "--as", "U_ADMIN", "-o", str(out), env=env)
    assert result.returncode == 0, result.stderr
    assert out.stat().st_mode & 0o777 == 0o600 and WORDS in out.read_text()
    assert frontline("export", "tickets", "-o", str(masked), env=env).returncode == 0  # masked: not audited
    engine = create_db_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT actor, action, after FROM audit_events WHERE entity_type = 'export'")
        ).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [("U_ADMIN", "exported_with_pii", f"tickets to {out.resolve()}")]


def test_an_export_that_cannot_be_written_is_not_audited_and_stray_options_are_refused(
    env: dict[str, str], tmp_path: Path, database_url: str
) -> None:
    nowhere = frontline(
        "export", "tickets", "--include-pii", "--as", "U_ADMIN", "-o", str(tmp_path / "no" / "x.jsonl"), env=env
    )
    assert nowhere.returncode == 1 and nowhere.stderr.startswith("frontline: No such file or directory")
    stray = frontline("export", "tickets", "--as", "U_ADMIN", env=env)
    assert (stray.returncode, stray.stdout) == (2, "")
    assert stray.stderr == "--as: only needed with --include-pii (an export without it is masked for anyone)\n"
    engine = create_db_engine(database_url)
    with engine.connect() as connection:
        audited = connection.execute(text("SELECT count(*) FROM audit_events WHERE entity_type = 'export'")).scalar()
    engine.dispose()
    assert audited == 0
    upper = frontline("export", "tickets", "--format", "CSV", env=env)
    assert upper.returncode == 0 and upper.stdout.startswith("id,"), upper.stderr
