"""`frontline demo`: a short support story, played as real signed requests against Frontline and an
in-process stand-in for Slack, then the channels printed as a person would read them."""

from __future__ import annotations

import dataclasses
import json
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from bot.config import demo_config
from bot.context import utc_now
from bot.core.durations import parse_duration
from bot.core.text import decode_slack_text
from bot.sandbox import Sandbox
from bot.slack.standin import render_message
from bot.worker import run_due_work
from store.db import create_db_engine
from store.migrate import upgrade

__all__ = ["STORY", "Step", "StoryClock", "run_demo"]


@dataclass(frozen=True)
class Step:
    user: str
    channel: str  # an ID, or `#name` for a channel Slack creates during the story (an incident's)
    command: str  # a slash command, MESSAGE for a plain message (REPLY: in the last message's thread),
    # CLICK (text: "<ref> <button label>", on the newest message in `channel` naming that ticket or
    # incident and having that button), SUBMIT (text: the form's fields as JSON, for the last form
    # opened), REACT (text: the emoji, on the last message) or LATER (text: a duration: the simulated
    # clock moves on that much, and the worker's sweep runs)
    text: str
    caption: str


MESSAGE, REPLY, CLICK, SUBMIT, REACT, LATER = "message", "reply", "click", "submit", "react", "later"
INCIDENT_CHANNEL = "#inc-1-checkout-errors-for-eu-customers"  # what Frontline names INC-1's channel

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
        "4m",
        "At 16 minutes T-1 has breached: the L2 channel and the leads are told, and nobody has "
        "acknowledged its escalation within the P0 row's 15 minutes: L2 and the leads are nudged again. "
        "Tickets nobody has picked up for 15 minutes are pinged in triage.",
    ),
    Step(
        "U_LEAD",
        "C_TRIAGE",
        "/incident",
        "start Checkout errors for EU customers",
        "EU checkout keeps failing: the support lead starts an incident. Frontline creates its channel, "
        "invites the lead as its commander, announces it in #incidents and posts the incident playbook's "
        "first step there.",
    ),
    Step(
        "U_LEAD",
        INCIDENT_CHANNEL,
        CLICK,
        "INC-1 Done",
        "Engineering and management are on it: the commander clicks Done on the first step, and the next "
        "one is posted.",
    ),
    Step(
        "",
        "",
        LATER,
        "30m",
        "30 minutes on, nobody has touched the status page: the incident channel is reminded that the "
        "status page step is due, and that the status page is due again (every 30 minutes).",
    ),
    Step(
        "U_LEAD",
        INCIDENT_CHANNEL,
        "/incident",
        "update The payment provider is failing over to its backup; EU checkout is recovering. Next update "
        "in 30 minutes.",
        "The commander posts an update: in the incident channel and #incidents, and it resets the "
        "status page reminder.",
    ),
    Step(
        "U_LEAD",
        INCIDENT_CHANNEL,
        "/incident",
        "resolve",
        "EU checkout works again: the commander resolves INC-1, and its summary with the timeline is "
        "posted in its channel and #incidents.",
    ),
    Step(
        "U_LEAD",
        "C_TRIAGE",
        "/support",
        "digest",
        "The lead asks for the standup digest now: counts in #support-standup, the lists in its thread.",
    ),
)


@dataclass
class StoryClock:
    """The time as the story has it: the real time, moved on by every LATER so far. Everything reads
    it (requests, the worker), so what happens after a LATER happens later."""

    ahead: timedelta = timedelta(0)

    def __call__(self) -> datetime:
        return utc_now() + self.ahead


def run_demo(*, keep: bool = False, out: TextIO = sys.stdout) -> int:
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="frontline-demo-"))
    try:
        _tell_the_story(workdir / "frontline.db", out)
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.monotonic() - started
    out.write(f"\nDone in {elapsed:.1f} s." + (f" Database kept at {workdir / 'frontline.db'}" if keep else "") + "\n")
    return 0


def _tell_the_story(database: Path, out: TextIO) -> None:
    url = f"sqlite:///{database}"
    engine = create_db_engine(url)
    upgrade(engine)
    engine.dispose()
    clock = StoryClock()
    with Sandbox(database_url=url, config=demo_config(), clock=clock) as sandbox:
        out.write("Frontline demo: a stand-in Slack workspace on loopback, real signed requests.\n\n")
        last_message_ts: str | None = None
        for number, step in enumerate(STORY, 1):
            out.write(f"{number}. {step.caption}\n")
            last_message_ts = _play(sandbox, clock, step, out, last_message_ts)
        sandbox.wait_until_delivered()
        out.write("What the channels show now:\n\n")
        out.write(sandbox.standin.transcript() + "\n")


def _play(sandbox: Sandbox, clock: StoryClock, step: Step, out: TextIO, last_message_ts: str | None) -> str | None:
    """Play one step and write what the person did and saw; returns the last top-level message's ts."""
    users = sandbox.standin
    if step.command == LATER:
        _later(sandbox, clock, step.text, out)
        return last_message_ts
    step = dataclasses.replace(step, channel=_channel_id(sandbox, step.channel))
    who, where = users.user_name(step.user), users.channel_name(step.channel)
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
        forms = len(users.calls_to("views.open"))
        response = sandbox.simulator.slash_command(step.command, step.text, user_id=step.user, channel_id=step.channel)
        if not response.body:  # a form instead of an answer: it opens just after the ack
            users.wait_for_calls("views.open", forms + 1)
        out.write(f"   {who} in {where}: {step.command} {step.text}\n")
        sandbox.wait_until_delivered()  # cards land in story order
        answer = json.loads(response.body) if response.body else {}
        if answer:
            out.write(_indent(render_message(answer), "   ↳ (only you) ") + "\n")
        out.write("\n")
    sandbox.wait_until_delivered()
    return last_message_ts


def _channel_id(sandbox: Sandbox, channel: str) -> str:
    """A step's channel as Slack names it: `#name` is looked up, since an incident's channel gets its
    ID only when Frontline has Slack create it."""
    if not channel.startswith("#"):
        return channel
    found = sandbox.standin.channel_id(channel)
    if found is None:
        raise LookupError(f"the story plays in {channel}, which Slack has not created")
    return found


def _later(sandbox: Sandbox, clock: StoryClock, wait: str, out: TextIO) -> None:
    """Move the story's clock on by `wait`, run the worker's sweep as of then (what `frontline tick
    --now` does) and show what it posted."""
    sandbox.wait_until_delivered()
    posted_before = len(sandbox.standin.calls_to("chat.postMessage"))
    clock.ahead += parse_duration(wait)
    run_due_work(sandbox.deps, clock())
    sandbox.wait_until_delivered()  # and whatever the background worker's own sweep took from it
    out.write(f"   ({wait} later: the worker's sweep runs)\n")
    for call in sandbox.standin.calls_to("chat.postMessage")[posted_before:]:
        where = sandbox.standin.channel_name(str(call.response.get("channel", call.args.get("channel"))))
        shown = sandbox.standin.render({"text": str(call.args.get("text", ""))})  # names, not IDs
        out.write(f"   → {where}: {(shown.splitlines() or [''])[0]}\n")
    out.write("\n")


def _click(sandbox: Sandbox, user: str, channel: str, ref: str, label: str) -> None:
    """Click the button labelled `label` on the newest message in `channel` about `ref` that has one
    (a ticket's card or handoff, an incident's current step), as Slack would send it."""
    about = [
        (message, button)
        for message in sandbox.standin.messages(channel)
        if f"{ref} " in message.get("text", "")
        for button in _buttons(message)
        if button.get("text", {}).get("text") == label
    ]
    message, button = about[-1]
    sandbox.simulator.block_action(user_id=user, actions=[button], channel_id=channel, message=message)


def _buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in message.get("blocks", []) if b["type"] == "actions" for e in b["elements"]]


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
