"""Delivers outbox rows to Slack: claim, call, record — each its own short transaction.

The Slack call happens outside any transaction so that a slow or failing Slack never holds a
database lock; a process killed between the call and the record leaves the row claimed, and the
lease in `store.outbox` hands it to another sender later (the one message that may repeat).
"""

from __future__ import annotations

import socket
import threading
import urllib.error
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse
from sqlalchemy import Engine
from sqlmodel import Session

from bot.slack.pacing import PACED_METHODS, ChannelPacer
from store import outbox
from store.db import read_scope, session_scope
from store.models import OutboxMessage

__all__ = [
    "AfterFailed",
    "AfterSent",
    "DeliveryReport",
    "NotReadyError",
    "OutboxSender",
    "Prepare",
    "is_transient",
    "where_posted",
]

log = structlog.get_logger(__name__)

MAX_ATTEMPTS = 12
_TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout", "timeout"}
)
# A bad or revoked token is the operator's to fix, not the message's fault: keep retrying (with
# backoff) so that fixing SLACK_BOT_TOKEN delivers everything that was decided meanwhile.
_CREDENTIAL_ERRORS = frozenset({"not_authed", "invalid_auth", "token_revoked", "token_expired", "account_inactive"})


@dataclass
class DeliveryReport:
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    dead: list[int] = field(default_factory=list)
    paced: list[int] = field(default_factory=list)  # held back for their channel's rate


def is_transient(error: Exception) -> bool:
    """Worth trying again later: rate limits, Slack-side 5xx, network trouble."""
    if isinstance(error, SlackApiError):
        status = getattr(error.response, "status_code", 200)
        code = error.response.get("error")
        return status == 429 or status >= 500 or code in _TRANSIENT_ERRORS or code in _CREDENTIAL_ERRORS
    return isinstance(error, urllib.error.URLError | socket.timeout | ConnectionError | TimeoutError)


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(10 * 2 ** max(attempts - 1, 0), 3600))


# What a use case records once a message of its purpose is delivered (e.g. the card's ts), in the
# same transaction that marks the row sent: (session, the row, Slack's response, now). Rows it
# enqueues (e.g. a reply in the thread that now exists) are due at once.
AfterSent = Callable[[Session, OutboxMessage, dict[str, Any], datetime], None]

# Renders a row's arguments when it is sent rather than when it was decided, so a card always shows
# the ticket as it is now: (session, the row) → the arguments, or None when there is nothing left to
# send. Raises NotReady when something it needs does not exist yet (the card a reply goes under).
Prepare = Callable[[Session, OutboxMessage], dict[str, Any] | None]

# What a use case does when a message of its purpose fails for good, in the transaction that marks
# it dead: (session, the row, Slack's error code, now) → whether it has told someone itself (then
# the generic "I could not post there" report is not made).
AfterFailed = Callable[[Session, OutboxMessage, str, datetime], bool]

NOT_READY_RETRY = timedelta(seconds=2)


class NotReadyError(Exception):
    """The message depends on another that has not been delivered yet; try again shortly."""


class GiveUpError(Exception):
    """The message depends on another that will never be delivered (it failed permanently)."""


def where_posted(
    session: Session, *, key: str, what: str, channel: str | None = None, ts: str | None = None
) -> tuple[str, str]:
    """Where a message that others depend on (a card, a handoff, a playbook step) landed, for
    updating it or replying under it: the `channel` and `ts` its owner recorded, else what Slack
    answered to its outbox row (`key`); NotReadyError while that row is on its way, GiveUpError once
    it has failed for good."""
    if channel and ts:
        return channel, ts
    posted = outbox.by_key(session, key)
    landed = posted.result if posted is not None and posted.status == outbox.SENT else None
    if landed and landed.get("channel") and landed.get("ts"):
        return str(landed["channel"]), str(landed["ts"])
    if posted is not None and posted.status == outbox.DEAD:
        raise GiveUpError(f"{what} could not be posted ({posted.last_error})")
    raise NotReadyError(f"{what} is not posted yet")


# Slack errors that say the bot cannot post to a place at all; the first one for a channel is
# reported to the triage channel (once per channel and error), since nobody reads worker logs.
PLACE_ERRORS = frozenset(
    {"channel_not_found", "not_in_channel", "is_archived", "restricted_action", "user_not_found", "cannot_dm_bot"}
)


# Multi-step uploads are a client helper in slack_sdk, not one Web API method.
FILES_UPLOAD_V2 = "files.upload_v2"


class OutboxSender:
    def __init__(
        self,
        engine: Engine,
        client: WebClient,
        *,
        worker_id: str,
        clock: Callable[[], datetime],
        after_sent: Mapping[str, AfterSent] | None = None,
        prepare: Mapping[str, Prepare] | None = None,
        after_failed: Mapping[str, AfterFailed] | None = None,
        accepted_errors: Mapping[str, frozenset[str]] | None = None,
        report_channel: str | None = None,
        pacer: ChannelPacer | None = None,
        stopping: threading.Event | None = None,
    ):
        self._engine, self._client, self._worker, self._clock = engine, client, worker_id, clock
        self._report_channel = report_channel
        self._pacer = pacer
        self._after_sent = dict(after_sent or {})
        self._prepare = dict(prepare or {})
        self._after_failed = dict(after_failed or {})
        # Errors that are answers a use case expects (an invite of someone already in the channel, a
        # channel name that is taken): recorded as sent, with the purpose's `after_sent` hook given
        # Slack's answer ({"ok": False, "error": …}), not as a failure someone must look at.
        self._accepted = dict(accepted_errors or {})
        # Shared with the WebClient's retry handlers (`make_web_client(stopping=…)`): a shutdown also
        # ends a Retry-After wait in the middle of a call.
        self._stop = stopping or threading.Event()

    @property
    def worker_id(self) -> str:
        return self._worker

    def request_stop(self) -> None:
        """Shutdown: finish the call in hand (a retry wait in it ends at once and the row goes back
        to pending), give back the rest of the batch unattempted, and claim no more."""
        self._stop.set()

    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def deliver_due(self, now: datetime, *, limit: int = 10) -> DeliveryReport:
        """Deliver every due row (the worker's sweep); returns what happened to each."""
        report = DeliveryReport()
        while not self._stop.is_set():
            with session_scope(self._engine) as session:
                batch = outbox.claim_due(session, worker=self._worker, now=now, limit=limit, lease_now=self._clock())
            if not batch:
                return report
            paced_before = len(report.paced)
            for index, message in enumerate(batch):
                if self._stop.is_set():  # shutting down: what is not attempted yet goes back at once
                    self._release(batch[index:])
                    return report
                self._send(message, report, now)  # follow-ups are due now: the next batch claims them
            if len(report.paced) - paced_before == len(batch):
                # Everything left is waiting for its channel's rate: a later pass sends it. (With a
                # `now` in the future, as `tick --now` may give, it would otherwise be claimed again
                # at once, round and round.)
                return report
        return report

    def _release(self, messages: list[OutboxMessage]) -> None:
        with session_scope(self._engine) as session:
            outbox.release(session, [message.id for message in messages if message.id is not None], worker=self._worker)
        log.info("outbox_released", rows=len(messages), worker=self._worker)

    def _later(self, now: datetime, delay: timedelta) -> datetime:
        """`delay` after this pass's `now` or the clock, whichever is later: a retry decided by
        `tick --now <future>` must not be due again within the same pass."""
        return max(now, self._clock()) + delay

    def _send(self, message: OutboxMessage, report: DeliveryReport, now: datetime) -> None:
        """Send one claimed row (claimed by a pass at `now`) and record the outcome."""
        assert message.id is not None
        try:
            args = self._prepared_args(message)
            if args is None:
                self._record_skip(message, report)
                return
            if self._held_back(message, args, report, now):
                return
            response = self._call(message.method, args)
        except NotReadyError as waiting:
            self._record_not_ready(message, str(waiting), report, now)
            return
        except Exception as error:  # classified below; nothing may escape and leave the row claimed
            self._record_failure(message, error, report, now)
            return
        data = dict(response.data) if isinstance(response.data, dict) else {}
        if data.get("warning"):
            log.warning(
                "slack_warning",
                method=message.method,
                warning=data["warning"],
                key=message.key,
                ticket_id=message.ticket_id,
            )
        with session_scope(self._engine) as session:
            now = self._clock()
            outbox.mark_sent(session, message.id, now=now, result=_result_of(data))
            after = self._after_sent.get(message.purpose)
            if after is not None:
                after(session, message, data, now)
        report.sent.append(message.id)

    def _held_back(self, message: OutboxMessage, args: dict[str, Any], report: DeliveryReport, now: datetime) -> bool:
        """Whether the message waits for its channel's rate (it goes back to pending, unattempted)."""
        channel = args.get("channel")
        if self._pacer is None or message.method not in PACED_METHODS or not isinstance(channel, str):
            return False
        wait = self._pacer.wait_for(channel, self._clock())
        if not wait:
            return False
        assert message.id is not None
        with session_scope(self._engine) as session:
            outbox.defer(session, message.id, until=self._later(now, wait))
        report.paced.append(message.id)
        return True

    def _prepared_args(self, message: OutboxMessage) -> dict[str, Any] | None:
        prepare = self._prepare.get(message.purpose)
        if prepare is None:
            return message.args
        with read_scope(self._engine) as session:
            return prepare(session, message)

    def _call(self, method: str, args: dict[str, Any]) -> SlackResponse:
        if method == FILES_UPLOAD_V2:
            return self._upload(args)
        return self._client.api_call(method, json=args)

    def _upload(self, args: dict[str, Any]) -> SlackResponse:
        """Files need channel membership, which `chat:write.public` posting does not: in a public
        channel the bot is not in, join and upload again (field case F13c). A channel it cannot
        join (private) keeps the first error."""
        try:
            return self._client.files_upload_v2(**args)
        except SlackApiError as error:
            if error.response.get("error") != "not_in_channel" or not str(args.get("channel", ""))[:1] == "C":
                raise
            try:
                self._client.conversations_join(channel=args["channel"])
            except SlackApiError:
                raise error from None
            return self._client.files_upload_v2(**args)

    def _record_skip(self, message: OutboxMessage, report: DeliveryReport) -> None:
        assert message.id is not None
        with session_scope(self._engine) as session:
            outbox.mark_sent(session, message.id, now=self._clock(), result={"skipped": True})
        report.sent.append(message.id)

    def _record_not_ready(self, message: OutboxMessage, why: str, report: DeliveryReport, now: datetime) -> None:
        assert message.id is not None
        with session_scope(self._engine) as session:
            if message.attempts < MAX_ATTEMPTS:
                outbox.mark_retry(
                    session, message.id, error=f"waiting: {why}", retry_at=self._later(now, NOT_READY_RETRY)
                )
                report.retrying.append(message.id)
            else:
                outbox.mark_dead(session, message.id, error=f"gave up waiting: {why}")
                report.dead.append(message.id)

    def _record_failure(self, message: OutboxMessage, error: Exception, report: DeliveryReport, now: datetime) -> None:
        assert message.id is not None
        code = _error_code(error)
        row = message
        with session_scope(self._engine) as session:
            if code in self._accepted.get(row.purpose, frozenset()):
                at = self._clock()
                outbox.mark_sent(session, message.id, now=at, result={"accepted_error": code})
                answered = self._after_sent.get(row.purpose)
                if answered is not None:
                    answered(session, row, {"ok": False, "error": code}, at)
                report.sent.append(message.id)
                return
            logged = {
                "key": row.key, "method": row.method, "slack_error": code,
                "attempts": row.attempts, "ticket_id": row.ticket_id,
            }  # fmt: skip
            if is_transient(error) and row.attempts < MAX_ATTEMPTS:
                retry_at = self._later(now, max(_backoff(row.attempts), _retry_after(error)))
                outbox.mark_retry(session, message.id, error=code, retry_at=retry_at)
                report.retrying.append(message.id)
                log.warning("outbox_retry", **logged)
            else:
                outbox.mark_dead(session, message.id, error=code)
                report.dead.append(message.id)
                log.error("outbox_dead", **logged)
                after = self._after_failed.get(row.purpose)
                if after is not None and after(session, row, code, self._clock()):
                    return
                if code in PLACE_ERRORS:
                    self._report_place_error(session, str(row.args.get("channel") or ""), code)

    def _report_place_error(self, session: Session, channel: str, code: str) -> None:
        """Tell the triage channel, once per channel and error, that the bot cannot post somewhere."""
        if not self._report_channel or not channel or channel == self._report_channel:
            return
        where = f"<#{channel}>" if channel[:1] in "CG" else f"<@{channel}>" if channel[:1] in "UW" else channel
        text = (
            f":warning: I could not post to {where}: Slack said `{code}`. Invite me there, or fix frontline.yaml; "
            "`frontline outbox` lists what was not delivered."
        )
        outbox.enqueue(
            session,
            key=f"delivery-failure:{channel}:{code}"[:255],
            method="chat.postMessage",
            args={"channel": self._report_channel, "text": text},
            purpose="delivery_failure",
            now=self._clock(),
        )


def _retry_after(error: Exception) -> timedelta:
    """Slack's Retry-After on a 429 that was too long to sleep through in the sending thread."""
    if isinstance(error, SlackApiError):
        value = error.response.headers.get("Retry-After") or error.response.headers.get("retry-after")
        if isinstance(value, list):
            value = value[0] if value else None
        if value is not None and str(value).isascii() and str(value).isdigit():
            return timedelta(seconds=int(value))
    return timedelta(0)


def _error_code(error: Exception) -> str:
    if isinstance(error, GiveUpError):
        return f"given up: {error}"
    if isinstance(error, SlackApiError):
        return str(error.response.get("error") or f"http_{getattr(error.response, 'status_code', '?')}")
    return f"{type(error).__name__}: {error}"


def _result_of(data: dict[str, Any]) -> dict[str, Any]:
    # Keep what later steps need (where the message landed), not the whole echo of the message.
    return {key: data[key] for key in ("channel", "ts", "warning") if key in data}
