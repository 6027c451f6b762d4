"""The `frontline` command line (Typer). Every verb loads settings and config the same way and
turns a configuration problem into one line per problem and exit code 2, never a traceback."""

from __future__ import annotations

import errno
import itertools
import os
import re
import signal
import sys
import time
import urllib.error
import urllib.parse
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, Protocol, TextIO

import structlog
import typer

from bot.config import ConfigError, FrontlineConfig, load_config
from bot.logs import configure_logging
from bot.settings import Settings, load_settings
from store.migrate import NotMigratedError

if TYPE_CHECKING:  # imported lazily at run time: `frontline check-config` should not load Slack or the database
    from sqlalchemy import Engine

    from bot.context import Deps

app = typer.Typer(
    help="Frontline: support operations in Slack.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
export_app = typer.Typer(help="Export records for reporting and migration.", no_args_is_help=True)
app.add_typer(export_app, name="export")

EXIT_CONFIG = 2


def _fail(lines: list[str], code: int = EXIT_CONFIG) -> NoReturn:
    for line in lines:
        typer.echo(line, err=True)
    raise typer.Exit(code)


def _load() -> tuple[Settings, FrontlineConfig]:
    try:
        settings = load_settings()
        config = load_config(settings.frontline_config)
    except ConfigError as error:
        _fail(error.problems)
    configure_logging(settings.log_level)
    return settings, config


def _require_slack_credentials(settings: Settings, *, socket_mode: bool = False) -> None:
    missing = [
        name
        for name, value in (
            ("SLACK_BOT_TOKEN", settings.slack_bot_token),
            ("SLACK_SIGNING_SECRET", None if socket_mode else settings.slack_signing_secret),
            ("SLACK_APP_TOKEN", settings.slack_app_token if socket_mode else None),
        )
        if value is not None and not value.get_secret_value()
    ]
    if missing:
        _fail([f"env {name}: required (see README, 'Slack app set-up')" for name in missing])


def _deps(settings: Settings, config: FrontlineConfig, *, talks_to_slack: bool = True) -> Deps:
    from bot.runtime import build_deps

    try:
        return build_deps(settings, config, talks_to_slack=talks_to_slack)
    except NotMigratedError as error:
        _fail([str(error)])
    except ConfigError as error:
        _fail(error.problems)


@app.command("check-config")
def check_config() -> None:
    """Validate the environment, frontline.yaml and the playbooks: prints `ok` or one line per
    problem (exit 2)."""
    from playbooks import load_playbooks

    settings, _ = _load()
    try:
        load_playbooks(settings.frontline_playbooks)
    except ConfigError as error:
        _fail(error.problems)
    typer.echo("ok")


@app.command()
def migrate() -> None:
    """Bring the database schema to the latest revision (Alembic upgrade head)."""
    from store.db import create_db_engine
    from store.migrate import current_revision, upgrade

    settings, config = _load()
    engine = create_db_engine(settings.database_url)
    before = current_revision(engine)
    try:
        upgrade(engine)
    except NotMigratedError as error:
        _fail([str(error)])
    after = current_revision(engine)
    typer.echo(f"database at revision {after}" + ("" if before == after else f" (was {before or 'empty'})"))
    if before is not None and before < "0004" <= (after or ""):
        # Tickets opened before SLA timers existed get theirs now, so their nudges are not lost.
        from bot.context import utc_now
        from bot.services.policy import Policy
        from bot.services.sla import replan_unfinished

        planned = replan_unfinished(engine, Policy.from_config(config), now=utc_now())
        typer.echo(f"planned SLA and stage timers for {planned} unfinished tickets")


@app.command()
def replan() -> None:
    """Re-plan every unfinished ticket's SLA and stage timers against frontline.yaml as it is now
    (after changing `sla` or `lifecycle`)."""
    from bot.services.sla import replan_unfinished

    settings, config = _load()
    deps = _deps(settings, config, talks_to_slack=False)
    planned = replan_unfinished(deps.engine, deps.policy, now=deps.clock())
    typer.echo(f"re-planned the SLA and stage timers of {planned} unfinished tickets")


_METRICS_PORT_HELP = "Serve this process's Prometheus /metrics on this port too."


@app.command()
def serve(  # noqa: PLR0917 - Typer options, passed by name
    socket: Annotated[bool, typer.Option("--socket", help="Socket Mode (needs SLACK_APP_TOKEN).")] = False,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="HTTP port (default $PORT or 3000).")] = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "0.0.0.0",
    threads: Annotated[int, typer.Option(min=1, max=64, help="HTTP worker threads.")] = 8,
    with_worker: Annotated[bool, typer.Option("--with-worker", help="Also run the scheduler here.")] = False,
    metrics_port: Annotated[int | None, typer.Option(min=1, max=65535, help=_METRICS_PORT_HELP)] = None,
) -> None:
    """Serve Slack traffic: HTTP on POST /slack/events (GET /healthz, /readyz, /metrics), or Socket Mode."""
    from apscheduler.schedulers.background import BackgroundScheduler

    from bot.app import build_app, fetch_identity
    from bot.slack.usergroups import schedule_refresh
    from bot.web import make_server, ops_for
    from bot.worker import (
        SHUTDOWN_SECONDS,
        exit_by_deadline,
        start_background_worker,
        start_metrics_server,
        stop_worker,
    )

    settings, config = _load()
    _require_slack_credentials(settings, socket_mode=socket)
    deps = _deps(settings, config)
    bolt_app = build_app(deps, fetch_identity(deps.client))
    worker = start_background_worker(deps) if with_worker else None
    if worker is None and deps.policy.group_ids:
        # The worker refreshes user groups in its process; this one needs them too.
        refresher = BackgroundScheduler(timezone="UTC")
        schedule_refresh(refresher, deps.client, deps.policy)
        refresher.start()
    if metrics_port:
        start_metrics_server(deps, metrics_port)
    if socket:
        from bot.socket_mode import MeteredSocketModeHandler

        handler = MeteredSocketModeHandler(bolt_app, settings.slack_app_token.get_secret_value(), metrics=deps.metrics)
        handler.start()  # type: ignore[no-untyped-call]
        return
    server = make_server(bolt_app, host=host, port=port or settings.port, threads=threads, ops=ops_for(deps))
    # SIGTERM (a deploy, `docker stop`): stop taking requests, let the ones in progress finish, then
    # stop the in-process worker (which gives back what it claimed and did not send).
    signalled: list[float] = []

    def stop(_signum: int, _frame: object) -> None:
        signalled.append(time.monotonic())
        exit_by_deadline()
        server.stop()

    signal.signal(signal.SIGTERM, stop)
    typer.echo(f"frontline listening on http://{host}:{server.port}/slack/events")
    structlog.get_logger("bot.web").info(
        "web_started", host=host, port=server.port, threads=threads, with_worker=with_worker
    )
    server.run()
    if worker is not None:
        # Requests in progress may have taken some of the 10 s; the worker gets what is left.
        spent = time.monotonic() - signalled[0] if signalled else 0.0
        stop_worker(worker, deadline_seconds=max(SHUTDOWN_SECONDS - spent, 1.0))


@app.command()
def worker(
    sweep_seconds: Annotated[float, typer.Option(min=1, max=60, help="Seconds between sweeps.")] = 30,
    metrics_port: Annotated[int | None, typer.Option(min=1, max=65535, help=_METRICS_PORT_HELP)] = None,
) -> None:
    """Run the scheduler: outbox delivery and every time-based job, until SIGTERM (then stop within 10 s)."""
    from bot.app import fetch_identity
    from bot.worker import run_worker

    settings, config = _load()
    _require_slack_credentials(settings)
    deps = _deps(settings, config)
    # As serve does: a wrong token stops the start with one line, instead of a worker that runs and
    # fails every message it sends.
    fetch_identity(deps.client)
    run_worker(deps, sweep_seconds=sweep_seconds, metrics_port=metrics_port)


def _parse_now(text: str | None) -> datetime:
    from bot.context import utc_now

    if text is None:
        return utc_now()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        _fail([f"--now: '{text}' is not an ISO 8601 time (e.g. 2026-12-07T14:30:00Z)"])
    if parsed.tzinfo is None:
        _fail([f"--now: '{text}' has no time zone; add Z or an offset such as -05:00"])
    if not 1970 <= parsed.year <= 9000:
        _fail([f"--now: '{text}' is outside the years 1970 to 9000"])
    return parsed


@app.command()
def tick(
    now: Annotated[str | None, typer.Option(help="ISO 8601 time to run as (default: the real clock).")] = None,
) -> None:
    """Run every piece of due time-based work once, as of --now, then exit."""
    from bot.worker import run_due_work

    at = _parse_now(now)
    settings, config = _load()
    _require_slack_credentials(settings)
    report = run_due_work(_deps(settings, config), at)
    typer.echo(report.summary())


@app.command()
def outbox() -> None:
    """List Slack messages not yet delivered (pending, retrying or failed permanently)."""
    from bot.core.pii import mask_pii
    from store import outbox as outbox_store
    from store.db import read_scope

    settings, config = _load()
    deps = _deps(settings, config, talks_to_slack=False)
    with read_scope(deps.engine) as session:
        rows = outbox_store.undelivered(session)
        if not rows:
            typer.echo("outbox empty: every decided message was delivered")
            return
        for row in rows:
            if row.status == outbox_store.SENDING and row.claimed_at is not None:
                # Being sent: by whom, and when another process may take it over if that one died.
                when = f"claimed by {row.claimed_by} until {(row.claimed_at + outbox_store.CLAIM_LEASE).isoformat()}"
            else:
                when = f"next={row.next_attempt_at.isoformat()}"
            typer.echo(
                f"{row.id}\t{row.status}\t{row.method}\t{row.key}\tattempts={row.attempts}\t"
                f"{when}\t{mask_pii(row.last_error or '')}"
            )


@app.command("erase-user")
def erase_user(
    user: Annotated[str, typer.Argument(metavar="USER_ID", help="The person's Slack user ID, e.g. U0123ABCD.")],
) -> None:
    """Erase one person's personal data from every table: the words of the tickets they asked for, what
    they wrote, and their ID wherever it was copied. Tickets, times and metrics stay. Prints a random
    erasure id; the audit log records it and the time, not the person."""
    from bot.services.erasure import InvalidUserIdError
    from bot.services.erasure import erase_user as erase

    settings, config = _load()
    deps = _deps(settings, config, talks_to_slack=False)
    user = user.strip()
    try:
        report = erase(deps.engine, user, now=deps.clock())
    except InvalidUserIdError as error:
        _fail([f"erase-user: {error}; nothing was changed"])
    if report.erasure_id is not None:
        typer.echo(
            f"erased the personal data of {user}: {report.tickets} of their tickets emptied, "
            f"{report.rows} rows changed; erasure id {report.erasure_id} (in the audit log, without the user)"
        )
        return
    known = _slack_knows_user(settings, deps, user)
    if known is False:
        _fail([f"erase-user: Slack knows no user {user} and Frontline holds nothing of theirs; nothing was changed"], 1)
    if known is None:
        # A mistyped id looks just like an erased one here; without Slack's word, do not say "done".
        _fail(
            [
                f"erase-user: Frontline holds nothing of {user}, and Slack could not be asked whether {user} "
                "exists (check SLACK_BOT_TOKEN and SLACK_API_URL), so a mistyped id cannot be told from an "
                "erased one; nothing was changed"
            ],
            1,
        )
    typer.echo(f"nothing left to erase for {user}: Frontline holds none of their data")


def _slack_knows_user(settings: Settings, deps: Deps, user: str) -> bool | None:
    """Whether Slack knows the user (a deactivated one too); None when Slack cannot be asked."""
    from slack_sdk.errors import SlackApiError

    if not settings.slack_bot_token.get_secret_value():
        return None
    try:
        deps.client.users_info(user=user)
    except SlackApiError as error:
        return False if error.response.get("error") == "user_not_found" else None
    except OSError:
        return None
    return True


class ExportFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"


IncludePii = Annotated[
    bool,
    typer.Option(
        "--include-pii", help="Keep e-mail addresses, phone and card numbers and tokens (admins only, with --as)."
    ),
]
AsUser = Annotated[
    str | None, typer.Option("--as", metavar="USER_ID", help="Your Slack user ID, listed in roles.admins.")
]


@export_app.command("tickets")
def export_tickets(
    fmt: Annotated[ExportFormat, typer.Option("--format", help="jsonl or csv.", case_sensitive=False)] = (
        ExportFormat.jsonl
    ),
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default stdout).")] = None,
    include_pii: IncludePii = False,
    as_user: AsUser = None,
) -> None:
    """Every ticket, one record each (times in ISO 8601 UTC), personal data masked unless an admin
    asks for it with --include-pii --as <their Slack user ID>."""
    from bot.export import write_tickets

    _export(write_tickets, "tickets", fmt, output, include_pii=include_pii, as_user=as_user)


@export_app.command("bugs")
def export_bugs(
    fmt: Annotated[ExportFormat, typer.Option("--format", help="jsonl or csv.", case_sensitive=False)] = (
        ExportFormat.jsonl
    ),
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default stdout).")] = None,
    include_pii: IncludePii = False,
    as_user: AsUser = None,
) -> None:
    """Every bug, one record each, with its linked tickets (times in ISO 8601 UTC), personal data
    masked unless an admin asks for it with --include-pii --as <their Slack user ID>."""
    from bot.export import write_bugs

    _export(write_bugs, "bugs", fmt, output, include_pii=include_pii, as_user=as_user)


# As `/incident` reads it (INC-3, inc3); the bare number is accepted too, as `/ticket` accepts 42.
_INCIDENT_REF = re.compile(r"^(?:INC-?)?([0-9]{1,9})$", re.IGNORECASE)


def _require_admin(deps: Deps, user: str | None) -> None:
    """The CLI has no Slack identity: personal data goes only to someone naming themselves with --as
    who is in roles.admins (its user groups read from Slack only when needed)."""
    from bot.core.permissions import Role
    from bot.services.policy import is_group

    if not user:
        _fail(["--include-pii: personal data is for admins; add --as <your Slack user ID> (listed in roles.admins)"])
    user = user.strip()
    if Role.ADMIN not in deps.policy.roles_of(user) and any(is_group(ref) for ref in deps.policy.config.roles.admins):
        from bot.slack.usergroups import load_group_members

        load_group_members(deps.client, deps.policy)
    if Role.ADMIN not in deps.policy.roles_of(user):
        _fail([f"--as: {user[:40]} is not in roles.admins; only admins may export personal data (--include-pii)"])


def _incident_number(ref: str) -> int:
    match = _INCIDENT_REF.match(ref.strip())
    if match is None:
        _fail([f"incident: '{ref[:40]}' is not an incident reference; use INC-<n>, e.g. INC-3"])
    number = int(match.group(1))
    if number < 1:
        _fail([f"incident: '{ref[:40]}' does not exist; incident numbers start at INC-1"])
    return number


@export_app.command("incident")
def export_incident(
    incident: Annotated[str, typer.Argument(metavar="INCIDENT", help="The incident: INC-<n>, e.g. INC-3.")],
    fmt: Annotated[str, typer.Option("--format", help="markdown (the only format for an incident).")] = "markdown",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default stdout).")] = None,
) -> None:
    """A post-incident review draft in Markdown: the facts, the full timeline (times in the configured
    timezone) and empty sections to fill in (summary, impact, root cause, action items, …)."""
    # Checked here rather than by an enum, so a wrong format is one line, not a usage box.
    if fmt.strip().lower() != "markdown":
        _fail([f"--format: '{fmt[:40]}' is not a format for an incident; only markdown is"])
    number = _incident_number(incident)
    from bot.export import IncidentExportError, incident_review
    from bot.services.incidents import IncidentNotFoundError

    settings, config = _load()
    deps = _deps(settings, config, talks_to_slack=False)
    try:
        review = incident_review(deps.engine, deps.policy, number)
    except (IncidentNotFoundError, IncidentExportError) as error:
        _fail([str(error)], code=1)
    if output is None:
        sys.stdout.write(review)
        return
    output.write_text(review, encoding="utf-8")
    typer.echo(f"wrote INC-{number}'s review draft to {output}", err=True)


class _Writer(Protocol):
    def __call__(self, engine: Engine, out: TextIO, fmt: str, *, include_pii: bool = False) -> int: ...


def _export(
    write: _Writer, noun: str, fmt: ExportFormat, output: Path | None, *, include_pii: bool, as_user: str | None
) -> None:
    if as_user is not None and not include_pii:
        _fail(["--as: only needed with --include-pii (an export without it is masked for anyone)"])
    settings, config = _load()
    deps = _deps(settings, config, talks_to_slack=False)
    if include_pii:
        _require_admin(deps, as_user)
    if output is None:
        _audit_pii_export(deps, as_user, noun, "stdout", include_pii=include_pii)
        write(deps.engine, sys.stdout, fmt.value, include_pii=include_pii)
        return
    # Owner-only when it holds personal data: the umask's 0644 would let every local user read it.
    mode = 0o600 if include_pii else 0o644
    descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    if include_pii:
        os.chmod(output, mode)  # an existing file keeps its mode through O_CREAT
    # Recorded once the file is open (a path that cannot be written takes nothing out) and before
    # any record is written (an export cut short still took some out).
    _audit_pii_export(deps, as_user, noun, str(output.resolve()), include_pii=include_pii)
    with open(descriptor, "w", encoding="utf-8", newline="") as out:
        count = write(deps.engine, out, fmt.value, include_pii=include_pii)
    typer.echo(f"wrote {count} {noun} to {output}", err=True)


def _audit_pii_export(deps: Deps, as_user: str | None, noun: str, where: str, *, include_pii: bool) -> None:
    """Who took personal data out, what and where to."""
    from store import audit
    from store.db import session_scope

    if not include_pii:
        return
    with session_scope(deps.engine) as session:
        audit.record(
            session, at=deps.clock(), actor=as_user or "", entity_type="export", entity_id=0,
            action="exported_with_pii", after=f"{noun} to {where}",
        )  # fmt: skip


@app.command()
def manifest(
    request_url: Annotated[str, typer.Option(help="Public URL of POST /slack/events.")] = (
        "https://frontline.example.com/slack/events"
    ),
    socket: Annotated[bool, typer.Option("--socket", help="Manifest for Socket Mode.")] = False,
    name: Annotated[str, typer.Option(help="App name shown in Slack.")] = "Frontline",
) -> None:
    """Print the Slack app manifest (YAML) to paste into api.slack.com/apps."""
    from bot.manifest import manifest_yaml

    if not socket and not _public_https_url(request_url):
        example = "https://bot.example.com/slack/events"
        _fail([f"--request-url: Slack needs a public https URL like {example} (got {request_url!r})"])
    try:
        typer.echo(manifest_yaml(app_name=name, request_url=request_url, socket_mode=socket), nl=False)
    except ValueError as error:
        _fail([f"--name: {error}"])


@app.command()
def demo(
    keep: Annotated[bool, typer.Option(help="Keep the temporary database and print its path.")] = False,
) -> None:
    """Play a short scripted story against an in-process stand-in for Slack and print the channels."""
    from bot.demo import run_demo

    configure_logging("WARNING")
    raise typer.Exit(run_demo(keep=keep))


def _public_https_url(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    unsafe = any(char.isspace() or char in "\"'<>`" for char in url)
    return parts.scheme == "https" and bool(parts.hostname) and "." in (parts.hostname or "") and not unsafe


def _explain(error: BaseException) -> str | None:
    """One line for the failures an operator causes or can fix; None for real bugs (traceback)."""
    from slack_sdk.errors import SlackApiError
    from sqlalchemy.exc import InterfaceError, OperationalError

    if isinstance(error, OperationalError | InterfaceError):
        reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        return f"database error: {reason} (check DATABASE_URL and that the server is running)"
    if isinstance(error, SlackApiError):
        code = error.response.get("error") or f"HTTP {error.response.status_code}"
        if error.response.status_code >= 500 or code in {"service_unavailable", "fatal_error", "internal_error"}:
            # Slack's side is down, not the token: the supervisor's restart will try again.
            return f"Slack is not answering properly ({code!r}); try again shortly (see https://slack-status.com)"
        return f"Slack answered {code!r}: check SLACK_BOT_TOKEN and SLACK_API_URL"
    if isinstance(error, urllib.error.URLError):
        return f"cannot reach Slack: {error.reason} (check SLACK_API_URL)"
    if isinstance(error, TimeoutError):  # socket.timeout: no strerror to show
        return "cannot reach Slack: timed out (check SLACK_API_URL; Slack may be slow or down)"
    if isinstance(error, OSError) and error.errno == errno.EADDRINUSE:
        return (
            "the port is already in use (choose another: --port or PORT for the web port, --metrics-port for metrics)"
        )
    if isinstance(error, OSError) and error.strerror:
        where = f": {error.filename}" if error.filename else ""
        return f"{error.strerror}{where}"
    return None


def main() -> None:
    try:
        # Not standalone: Click's own handling draws a usage error as a boxed, multi-line panel;
        # here it becomes one line like every other error of the CLI.
        code = app(prog_name="frontline", standalone_mode=False)
    except typer.TyperException as error:  # Click's usage errors: an unknown verb or option, a bad value
        message = error.format_message()
        if not message.strip():  # a verb given no arguments: Typer has shown its help already
            sys.exit(error.exit_code)
        if "\n" not in message:
            context = getattr(error, "ctx", None)
            # Some errors (an option missing its value) come without a context: the verbs typed say where.
            verbs = list(itertools.takewhile(lambda arg: not arg.startswith("-"), sys.argv[1:3]))
            where = context.command_path if context else " ".join(["frontline", *verbs])
            message = f"{where}: {message.rstrip('.')} (see '{where} --help')"
        typer.echo(message, err=True)
        sys.exit(error.exit_code)
    except typer.Abort:  # end of input at a prompt
        typer.echo("frontline: aborted", err=True)
        sys.exit(1)
    except BrokenPipeError:
        # `frontline export tickets | head`: the reader stopped reading, which is not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    except Exception as error:  # an operator's problem gets one line; anything else stays a traceback
        explained = _explain(error)
        if explained is None:
            raise
        typer.echo(f"frontline: {explained}", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
