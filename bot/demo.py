"""`frontline demo`: a short support story, played as real signed requests against Frontline and an
in-process stand-in for Slack, then the channels printed as a person would read them."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from bot.config import demo_config
from bot.core.durations import parse_duration
from bot.core.text import decode_slack_text
from bot.sandbox import Sandbox
from bot.slack.standin import render_message
from bot.worker import run_due_work
from store.db import create_db_engine
from store.migrate import upgrade

__all__ = ["STORY", "Step", "run_demo"]


@dataclass(frozen=True)
class Step:
    user: str
    channel: str
    command: str  # a slash command, MESSAGE for a plain message (REPLY: in the last message's thread),
    # CLICK (text: "<ticket ref> <button label>", on the newest message in `channel` naming that
    # ticket), SUBMIT (text: the form's fields as JSON, for the last form opened), REACT (text: the
    # emoji, on the last message) or LATER (text: a duration: the worker's sweep runs that much later
    # than now, on a simulated clock)
    text: str
    caption: str


MESSAGE, REPLY, CLICK, SUBMIT, REACT, LATER = "message", "reply", "click", "submit", "react", "later"

HANDOFF = {
    "tier": "L2",
    "sentiment": "frustrated",
    "tried_1": "Cleared the SSO session and had their admin log in again",
    "result_1": "Same redirect loop",
    "tried_2": "Compared their IdP metadata with ours",
    "result_2": "The signing certificate changed on their side yesterday",
    "needed": "Someone who can check the SAML assertion in our logs and confirm the fix",
    "expectation": "Their admins can log in before their payroll run",
    "needed_by": "2026-12-31",
    "urgency": "Enterprise account; 40 admins locked out",
}
BUG = {
    "title": "CSV export fails with error 500 for reports over 10,000 rows",
    "severity": "major",
    "impact": "Every customer exporting a large report; no workaround but smaller date ranges",
    "area": "Reports / export",
    "steps": "1. Open a report with more than 10,000 rows\n2. Click Export, then CSV",
    "expected": "A CSV file downloads",
    "actual": "Error 500 after about 30 seconds",
    "environment": "Chrome 131 and Firefox 133, EU and US regions",
}


STORY: tuple[Step, ...] = (
    Step("U_AGENT1", "C_TRIAGE", "/ticket", "help", "An agent asks what the bot can do."),
    Step(
        "U_REQUESTER",
        "C_HELP",
        "/ticket",
        "Checkout is down for all EU users customer:acme users:300",
        "An enterprise customer reports an outage: P0 on three triggers.",
    ),
    Step(
        "U_AGENT2",
        "C_HELP",
        "/ticket",
        "Export to CSV is broken since this morning customer:globex",
        "A business-tier bug: P1.",
    ),
    Step("U_REQUESTER", "C_HELP", "/ticket", "Feature request: dark mode for the dashboard", "A suggestion: P3."),
    Step("U_AGENT1", "C_TRIAGE", "/ticket", "show T-1", "An agent looks at the outage ticket."),
    Step("U_AGENT1", "C_TRIAGE", "/ticket", "show T-99", "Bad input gets a clear answer and changes nothing."),
    Step("U_REQUESTER", "C_HELP", "/ticket", "Printer jams customer:acmee", "A typo in a customer name."),
    Step(
        "U_REQUESTER",
        "C_HELP",
        MESSAGE,
        "The EU checkout page shows error 500 since 9am &amp; orders fail",
        "A customer simply posts in the intake channel: it becomes a ticket, acknowledged in its thread.",
    ),
    Step(
        "U_AGENT1",
        "C_HELP",
        REPLY,
        "Looking into it now, sorry about this.",
        "An agent answers in the thread: the ticket's first response is recorded.",
    ),
    Step("U_AGENT1", "C_TRIAGE", CLICK, "T-4 Take", "The agent clicks Take on T-4's card: owner set, card updated."),
    Step("U_AGENT1", "C_TRIAGE", "/ticket", "pending T-4", "Waiting on the customer: the ticket goes PENDING."),
    Step(
        "U_REQUESTER",
        "C_HELP",
        REPLY,
        "It works again after I cleared the cache, thanks!",
        "The customer replies in the thread: the ticket is OPEN again.",
    ),
    Step(
        "U_AGENT1", "C_TRIAGE", "/ticket", "solve T-4", "The agent solves it; the card and its thread tell the story."
    ),
    Step(
        "U_AGENT2",
        "C_TRIAGE",
        "/ticket",
        "take T-4",
        "Another agent tries to take over T-4: that needs a lead, and the answer says who.",
    ),
    Step(
        "U_AGENT2",
        "C_L2",
        MESSAGE,
        "FYI smallco says the invoices page times out when they filter by year",
        "A teammate mentions a customer problem in #support-l2, which is not an intake channel.",
    ),
    Step(
        "U_AGENT1",
        "C_L2",
        REACT,
        "ticket",
        "An agent reacts with :ticket: on it: it becomes T-5, linked to that message.",
    ),
    Step(
        "U_REQUESTER",
        "C_HELP",
        "/ticket",
        "SSO login loops for our admins after the IdP change customer:acme P1",
        "An enterprise customer's login problem, marked P1 by hand (the tier alone would make it P0).",
    ),
    Step("U_AGENT1", "C_TRIAGE", "/ticket", "take T-6", "An agent takes it and tries what L1 can."),
    Step(
        "U_AGENT1",
        "C_TRIAGE",
        "/ticket",
        "escalate T-6",
        "It needs L2: `/ticket escalate` opens the handoff form, pre-filled from the ticket.",
    ),
    Step(
        "U_AGENT1",
        "",
        SUBMIT,
        json.dumps(HANDOFF),
        "The agent fills in what was tried, what is needed and why it is urgent: the handoff card goes to L2.",
    ),
    Step(
        "U_AGENT2",
        "C_L2",
        CLICK,
        "T-6 Acknowledge",
        "An L2 specialist acknowledges it on the handoff card (only L2 and leads may).",
    ),
    Step(
        "U_AGENT1",
        "C_TRIAGE",
        "/ticket",
        "bug T-2",
        "T-2's CSV export failure is a product bug: `/ticket bug T-2` opens the bug form.",
    ),
    Step(
        "U_AGENT1",
        "",
        SUBMIT,
        json.dumps(BUG),
        "The agent files what they see (severity, impact, area, steps, expected vs actual): BUG-1, "
        "linked to T-2, its card in the L3 channel.",
    ),
    Step(
        "U_REQUESTER",
        "C_HELP",
        MESSAGE,
        "Exporting our big quarterly report to CSV gives an error page",
        "Another customer hits the same bug: T-7.",
    ),
    Step(
        "U_AGENT2",
        "C_HELP",
        "/ticket",
        "CSV download of the yearly report errors out customer:smallco",
        "And another: T-8.",
    ),
    Step("U_AGENT1", "C_TRIAGE", "/ticket", "link T-7 BUG-1", "Three tickets about one bug are one bug, not three."),
    Step("U_AGENT1", "C_TRIAGE", "/ticket", "link T-8 BUG-1", "The bug card counts its tickets, updated in place."),
    Step(
        "",
        "",
        LATER,
        "12m",
        "12 minutes pass and nobody has answered T-1, a P0 (first response within 15 min, 24x7): "
        "the triage channel gets a nudge, since nobody owns it. The escalation matrix sent it to L2 "
        "at once, with L3 and management told. The sweep also put the new tickets through the surge "
        "check: the three CSV export failures, worded three ways by two people, raise one alert in triage.",
    ),
    Step(
        "",
        "",
        LATER,
        "16m",
        "At 16 minutes T-1 has breached: the L2 channel and the leads are told, and nobody has "
        "acknowledged its escalation within the P0 row's 15 minutes: L2 and the leads are nudged again. "
        "Tickets nobody has picked up for 15 minutes are pinged in triage.",
    ),
)


def run_demo(*, keep: bool = False, out: TextIO = sys.stdout) -> int:
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="frontline-demo-"))
    url = f"sqlite:///{workdir / 'frontline.db'}"
    engine = create_db_engine(url)
    upgrade(engine)
    engine.dispose()
    with Sandbox(database_url=url, config=demo_config()) as sandbox:
        out.write("Frontline demo: a stand-in Slack workspace on loopback, real signed requests.\n\n")
        last_message_ts: str | None = None
        for number, step in enumerate(STORY, 1):
            out.write(f"{number}. {step.caption}\n")
            last_message_ts = _play(sandbox, step, out, last_message_ts)
        sandbox.wait_until_delivered()
        out.write("What the channels show now:\n\n")
        out.write(sandbox.standin.transcript() + "\n")
    elapsed = time.monotonic() - started
    out.write(f"\nDone in {elapsed:.1f} s." + (f" Database kept at {workdir}" if keep else "") + "\n")
    return 0


def _play(sandbox: Sandbox, step: Step, out: TextIO, last_message_ts: str | None) -> str | None:
    """Play one step and write what the person did and saw; returns the last top-level message's ts."""
    users = sandbox.standin
    who, where = users.user_name(step.user), users.channel_name(step.channel)
    if step.command == LATER:
        _later(sandbox, step.text, out)
        return last_message_ts
    if step.command == CLICK:
        ref, _, label = step.text.partition(" ")
        _click(sandbox, step.user, step.channel, ref, label)
        out.write(f"   {who} in {where}: clicks [{label}] on {ref}\n\n")
    elif step.command == SUBMIT:
        title = _submit(sandbox, step.user, json.loads(step.text))
        out.write(f"   {who}: fills in and submits the form “{title}”\n\n")
    elif step.command == REACT:
        assert last_message_ts is not None, "a reaction needs a message before it"
        sandbox.simulator.event(users.react_as_user(step.channel, step.user, last_message_ts, step.text))
        out.write(f"   {who} in {where}: reacts :{step.text}: on the message\n\n")
    elif step.command in {MESSAGE, REPLY}:
        thread = last_message_ts if step.command == REPLY else None
        event = users.post_as_user(step.channel, step.user, step.text, thread_ts=thread)
        last_message_ts = last_message_ts if thread else event["ts"]
        sandbox.simulator.event(event)
        typed = decode_slack_text(step.text)
        out.write(f"   {who} in {where}{' (in the thread)' if thread else ''}: {typed}\n\n")
    else:
        response = sandbox.simulator.slash_command(step.command, step.text, user_id=step.user, channel_id=step.channel)
        out.write(f"   {who} in {where}: {step.command} {step.text}\n")
        sandbox.wait_until_delivered()  # cards land in story order
        answer = json.loads(response.body) if response.body else {}
        if answer:
            out.write(_indent(render_message(answer), "   ↳ (only you) ") + "\n")
        out.write("\n")
    sandbox.wait_until_delivered()
    return last_message_ts


def _later(sandbox: Sandbox, wait: str, out: TextIO) -> None:
    """Run the worker's sweep as of `wait` from now (what `frontline tick --now` does) and show what
    it posted."""
    sandbox.wait_until_delivered()
    posted_before = len(sandbox.standin.calls_to("chat.postMessage"))
    run_due_work(sandbox.deps, sandbox.deps.clock() + parse_duration(wait))
    out.write(f"   ({wait} later: the worker's sweep runs)\n")
    for call in sandbox.standin.calls_to("chat.postMessage")[posted_before:]:
        where = sandbox.standin.channel_name(str(call.response.get("channel", call.args.get("channel"))))
        first_line = decode_slack_text(str(call.args.get("text", ""))).splitlines()[0]
        out.write(f"   → {where}: {first_line}\n")
    out.write("\n")


def _click(sandbox: Sandbox, user: str, channel: str, ref: str, label: str) -> None:
    """Click the button labelled `label` on the newest message in `channel` about `ref` (its card,
    or its handoff), as Slack would send it."""
    about = [m for m in sandbox.standin.messages(channel) if f"{ref} " in m.get("text", "")]
    message = about[-1]
    buttons = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    button = next(e for e in buttons if e.get("text", {}).get("text") == label)
    sandbox.simulator.block_action(user_id=user, actions=[button], channel_id=channel, message=message)


def _submit(sandbox: Sandbox, user: str, values: dict[str, str]) -> str:
    """Submit the last form opened with `values` (by block id), shaped as Slack sends each element."""
    view = sandbox.standin.calls_to("views.open")[-1].response["view"]
    state: dict[str, dict[str, Any]] = {}
    for block in view["blocks"]:
        value = values.get(block.get("block_id", ""))
        if block["type"] != "input" or value is None:
            continue
        kind = block["element"]["type"]
        shaped = (
            {"selected_option": {"value": value}} if kind == "static_select"
            else {"selected_date": value} if kind == "datepicker"
            else {"value": value}
        )  # fmt: skip
        state[block["block_id"]] = {block["element"]["action_id"]: {"type": kind, **shaped}}
    sandbox.simulator.view_submission(user_id=user, view={**view, "state": {"values": state}})
    return str(view["title"]["text"])


def _indent(text: str, first: str) -> str:
    pad = " " * len(first)
    lines = text.splitlines() or [""]
    return "\n".join([first + lines[0], *(pad + line for line in lines[1:])])
