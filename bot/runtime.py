"""Builds the process-wide dependencies from settings and config (one place, used by every CLI verb)."""

from __future__ import annotations

import os
import secrets
import socket
import threading
from collections.abc import Callable
from datetime import datetime

from bot.config import FrontlineConfig
from bot.context import Deps, utc_now
from bot.metrics import Metrics
from bot.services import bugs, cards, digests, escalations, home, incidents, intake, playbook_runs, surges
from bot.services.policy import Policy
from bot.settings import Settings
from bot.slack.channels import resolve_channel_names
from bot.slack.client import make_web_client
from bot.slack.delivery import OutboxSender
from bot.slack.pacing import ChannelPacer
from bot.slack.usergroups import load_group_members
from playbooks import load_playbooks
from store.db import create_db_engine, create_probe_engine
from store.migrate import ensure_migrated

__all__ = ["build_deps"]


def build_deps(
    settings: Settings,
    config: FrontlineConfig,
    *,
    require_migrated: bool = True,
    talks_to_slack: bool = True,
    clock: Callable[[], datetime] = utc_now,
) -> Deps:
    """Everything a process needs. `talks_to_slack` resolves channel names in the config to IDs and
    reads the members of user groups that roles name (Slack calls, and ConfigError for a name or
    group the bot cannot see); offline verbs skip it."""
    engine = create_db_engine(settings.database_url)
    if require_migrated:
        ensure_migrated(engine)
    metrics = Metrics()
    probe = create_probe_engine(settings.database_url)
    metrics.watch_database(probe, clock)
    stopping = threading.Event()  # set on shutdown: ends the sender's work and any retry wait in a Slack call
    client = make_web_client(
        settings.slack_bot_token.get_secret_value(),
        settings.slack_api_url,
        observe=metrics.slack_api_call,
        stopping=stopping,
    )
    if talks_to_slack:
        config = resolve_channel_names(config, client)
    # Host and pid say where to look; the suffix keeps two processes apart where those are equal
    # (containers on the host's network share its hostname, and each is pid 1): a shared id would
    # share one heartbeat row, which the first to stop removes.
    worker_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
    policy = Policy.from_config(config, load_playbooks(settings.frontline_playbooks))
    if talks_to_slack:
        load_group_members(client, policy)
    sender = OutboxSender(
        engine,
        client,
        worker_id=worker_id,
        clock=clock,
        after_sent=cards.AFTER_SENT
        | bugs.AFTER_SENT
        | intake.after_sent_hooks(policy)
        | escalations.AFTER_SENT
        | incidents.after_sent_hooks(policy)
        | digests.AFTER_SENT
        | surges.AFTER_SENT,
        prepare=cards.PREPARE
        | bugs.PREPARE
        | intake.PREPARE
        | home.PREPARE
        | escalations.PREPARE
        | playbook_runs.prepare_hooks(policy)
        | incidents.prepare_hooks(policy)
        | digests.prepare_hooks(policy)
        | surges.PREPARE,
        after_failed=escalations.AFTER_FAILED
        | playbook_runs.after_failed_hooks(policy)
        | incidents.after_failed_hooks(policy),
        accepted_errors=incidents.ACCEPTED_ERRORS,
        report_channel=policy.triage_channel,
        pacer=ChannelPacer(per_second=settings.slack_channel_rate) if settings.slack_channel_rate else None,
        stopping=stopping,
    )
    return Deps(
        settings=settings,
        config=config,
        policy=policy,
        engine=engine,
        client=client,
        sender=sender,
        metrics=metrics,
        probe=probe,
        clock=clock,
    )
