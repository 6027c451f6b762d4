"""`/playbook` and `/incident` text → what was asked (pure). Anything that does not fit a verb's
shape is a UsageError naming the right usage."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.text import decode_slack_text

__all__ = [
    "INCIDENT_HELP",
    "PLAYBOOK_HELP",
    "AssignRole",
    "Help",
    "IncidentCommand",
    "LinkTickets",
    "ListPlaybooks",
    "OpenStartForm",
    "PlaybookCommand",
    "PlaybookStatus",
    "ResolveIncident",
    "RunPlaybook",
    "SetSeverity",
    "ShowIncident",
    "StartIncident",
    "UpdateIncident",
    "UsageError",
    "parse_incident_command",
    "parse_playbook_command",
]

TITLE_MAX = 150  # a header block's limit: the incident's title is its channel's header
UPDATE_MAX = 2800
INCIDENT_ROLES = ("commander", "comms", "scribe", "support")


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class UsageError:
    message: str


@dataclass(frozen=True)
class ListPlaybooks:
    pass


@dataclass(frozen=True)
class PlaybookStatus:
    pass


@dataclass(frozen=True)
class RunPlaybook:
    name: str
    ticket: int | None = None
    title: str = ""


@dataclass(frozen=True)
class OpenStartForm:
    pass


@dataclass(frozen=True)
class StartIncident:
    title: str
    severity: str | None = None
    tickets: tuple[int, ...] = ()


@dataclass(frozen=True)
class UpdateIncident:
    incident: int | None
    text: str


@dataclass(frozen=True)
class AssignRole:
    incident: int | None
    role: str
    user: str


@dataclass(frozen=True)
class ShowIncident:
    incident: int | None


@dataclass(frozen=True)
class ResolveIncident:
    incident: int | None


@dataclass(frozen=True)
class LinkTickets:
    incident: int | None
    tickets: tuple[int, ...]


@dataclass(frozen=True)
class SetSeverity:
    incident: int | None
    severity: str


PlaybookCommand = Help | UsageError | ListPlaybooks | PlaybookStatus | RunPlaybook
IncidentCommand = (
    Help
    | UsageError
    | OpenStartForm
    | StartIncident
    | UpdateIncident
    | AssignRole
    | ShowIncident
    | ResolveIncident
    | LinkTickets
    | SetSeverity
)

PLAYBOOK_HELP = (
    "*/playbook* runs a playbook step by step (Done · Skip on each step; its owner is reminded when it is due):\n"
    "• `/playbook list`: the playbooks\n"
    "• `/playbook run angry-customer T-42`: run one for a ticket (linked to it)\n"
    "• `/playbook run social-crisis Viral thread about the outage`: run one with a title\n"
    "• `/playbook status`: the runs in this channel (or all running ones)\n"
    "Starting a playbook is for leads and admins."
)
INCIDENT_HELP = (
    "*/incident* runs an incident in its own channel with the `incident` playbook:\n"
    "• `/incident start Checkout errors [P1] [T-12 T-14]`: INC-&lt;n&gt;, its channel, the announcement "
    "(`/incident start` alone opens a form)\n"
    "• `/incident role comms @dana`: commander, comms, scribe or support\n"
    "• `/incident update Payments recovering, monitoring`: posted here and in the incidents channel\n"
    "• `/incident link T-15 T-16` · `/incident severity P1` · `/incident status` · `/incident resolve`\n"
    "In an incident's channel the incident is implied; elsewhere name it: `/incident update INC-3 &lt;text&gt;`."
)
_RUN_USAGE = "usage: `/playbook run &lt;name&gt; [T-42|&lt;title&gt;]` (`/playbook list` shows the names)"
_TICKET = re.compile(r"^(?:T-?)?([1-9][0-9]{0,8})$", re.IGNORECASE)
_INCIDENT = re.compile(r"^INC-?([1-9][0-9]{0,8})$", re.IGNORECASE)
_SEVERITY = re.compile(r"^(?:sev:)?(P[0-3])$", re.IGNORECASE)
_USER = re.compile(r"^<@([UW][A-Z0-9_]+)(?:\|[^>]*)?>$")


def parse_playbook_command(text: str) -> PlaybookCommand:
    words = text.split()
    if not words or (words[0].lower() == "help" and len(words) == 1):
        return Help()
    verb, args = words[0].lower(), words[1:]
    if verb == "list" and not args:
        return ListPlaybooks()
    if verb == "status" and not args:
        return PlaybookStatus()
    if verb == "run":
        if not args:
            return UsageError(_RUN_USAGE)
        name, rest = args[0].lower(), args[1:]
        if len(rest) == 1 and _TICKET.match(rest[0]) and rest[0][:1] in "Tt":
            return RunPlaybook(name, ticket=int(_TICKET.match(rest[0]).group(1)))  # type: ignore[union-attr]
        title = decode_slack_text(" ".join(rest)).strip()
        if len(title) > TITLE_MAX:
            return UsageError(f"the title is {len(title)} characters; at most {TITLE_MAX}. {_RUN_USAGE}")
        return RunPlaybook(name, title=title)
    return UsageError(f"`/playbook {words[0][:30]}` is not a verb here. Verbs: list, run, status, help. {_RUN_USAGE}")


def parse_incident_command(text: str) -> IncidentCommand:
    words = text.split()
    if not words or words[0].lower() == "help":
        return Help()
    verb, args = words[0].lower(), words[1:]
    incident, args = _incident_ref(args)
    if isinstance(incident, UsageError):
        return incident
    if verb == "start":
        return (
            _parse_start(args)
            if incident is None
            else UsageError("`/incident start &lt;title&gt;` starts a new incident; it takes no INC-&lt;n&gt;.")
        )
    if verb == "update":
        body = decode_slack_text(" ".join(args)).strip()
        if not body:
            return UsageError("usage: `/incident update [INC-3] &lt;what changed, what is next&gt;`")
        if len(body) > UPDATE_MAX:
            return UsageError(f"the update is {len(body):,} characters; at most {UPDATE_MAX:,}.")
        return UpdateIncident(incident, body)
    if verb == "role":
        return _parse_role(incident, args)
    if verb == "status" and not args:
        return ShowIncident(incident)
    if verb == "resolve" and not args:
        return ResolveIncident(incident)
    if verb == "link":
        numbers = [_TICKET.match(word) for word in args]
        if not args or not all(numbers):
            return UsageError("usage: `/incident link [INC-3] T-42 [T-43 …]`")
        return LinkTickets(incident, tuple(dict.fromkeys(int(m.group(1)) for m in numbers if m)))
    if verb == "severity":
        match = _SEVERITY.match(args[0]) if len(args) == 1 else None
        if match is None:
            return UsageError("usage: `/incident severity [INC-3] P0|P1|P2|P3`")
        return SetSeverity(incident, match.group(1).upper())
    usage = {"status": "`/incident status [INC-3]`", "resolve": "`/incident resolve [INC-3]`"}.get(verb)
    if usage:
        return UsageError(f"usage: {usage}")
    return UsageError(
        f"`/incident {words[0][:30]}` is not a verb here. Verbs: start, update, role, link, severity, status, "
        "resolve, help (`/incident help`)."
    )


def _incident_ref(args: list[str]) -> tuple[int | UsageError | None, list[str]]:
    """An `INC-<n>` right after the verb names the incident; the rest is the verb's."""
    if args and _INCIDENT.match(args[0]):
        return int(_INCIDENT.match(args[0]).group(1)), args[1:]  # type: ignore[union-attr]
    if args and re.match(r"^INC-", args[0], re.IGNORECASE):
        return UsageError(f"'{args[0][:20]}' is not an incident reference (use INC-3)."), args
    return None, args


def _parse_start(args: list[str]) -> IncidentCommand:
    if not args:
        return OpenStartForm()
    severity: str | None = None
    tickets: list[int] = []
    title_words: list[str] = []
    for word in args:
        severity_match, ticket_match = _SEVERITY.match(word), _TICKET.match(word)
        if severity_match and severity is None:
            severity = severity_match.group(1).upper()
        elif ticket_match and word[:2] in {"T-", "t-"}:  # "T1 line down" is a title
            tickets.append(int(ticket_match.group(1)))
        else:
            title_words.append(word)
    title = decode_slack_text(" ".join(title_words)).strip()
    if not title:
        return UsageError("usage: `/incident start &lt;title&gt; [P0-P3] [T-42 …]`: the title says what is broken.")
    if len(title) > TITLE_MAX:
        return UsageError(f"the title is {len(title)} characters; at most {TITLE_MAX}.")
    return StartIncident(title, severity, tuple(dict.fromkeys(tickets)))


def _parse_role(incident: int | None, args: list[str]) -> IncidentCommand:
    usage = f"usage: `/incident role [INC-3] &lt;{'|'.join(INCIDENT_ROLES)}&gt; @user`"
    if len(args) != 2:
        return UsageError(usage)
    role, user = args[0].lower(), _USER.match(args[1])
    if role not in INCIDENT_ROLES:
        return UsageError(f"'{args[0][:20]}' is not an incident role. {usage}")
    if user is None:
        return UsageError(f"'{args[1][:40]}' is not a person: mention them (@name). {usage}")
    return AssignRole(incident, role, user.group(1))
