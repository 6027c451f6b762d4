"""The Slack request simulator: signed requests shaped as Slack sends them, over real loopback HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from bot.slack.simulator import SlackResponse, SlackSimulator, sign
from bot.slack.standin import SlackStandIn

SECRET = "test-signing-secret"


@dataclass
class Captured:
    headers: dict[str, str]
    body: bytes
    client_port: int


@dataclass
class Capture:
    """A loopback endpoint that records what it receives and answers `reply(body)`."""

    url: str
    requests: list[Captured] = field(default_factory=list)

    def last(self) -> Captured:
        return self.requests[-1]

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.last().body.decode(), keep_blank_values=True).items()}

    def payload(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.form()["payload"])
        return parsed


def serve(
    reply: Callable[[bytes, dict[str, str]], tuple[int, bytes]],
    on_request: Callable[[Captured], None] | None = None,
    *,
    drop_silently: bool = False,
) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            if on_request is not None:
                on_request(Captured(headers, body, self.client_address[1]))
            status, answer = reply(body, headers)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
            # Promises keep-alive, then hangs up: what an idle-timeout on a real server does to a client.
            self.close_connection = drop_silently

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/slack/events"


@pytest.fixture
def capture() -> Iterator[Capture]:
    lock = threading.Lock()
    holder = Capture(url="")

    def record(request: Captured) -> None:
        with lock:
            holder.requests.append(request)

    server, holder.url = serve(lambda body, headers: (200, b""), record)
    yield holder
    server.shutdown()
    server.server_close()


@pytest.fixture
def simulator(capture: Capture) -> Iterator[SlackSimulator]:
    with SlackSimulator(capture.url, SECRET, response_url_base="http://127.0.0.1:9/response_url/") as sim:
        yield sim


def verified(request: Captured) -> bool:
    return SignatureVerifier(SECRET).is_valid_request(request.body, request.headers)


# --- signing and transport ------------------------------------------------------------------------------


def test_every_kind_of_request_is_signed_as_slack_signs(simulator: SlackSimulator, capture: Capture) -> None:
    message = {"ts": "1796655600.000100", "text": "card"}
    simulator.slash_command("/ticket", "help", user_id="U_AGENT1", channel_id="C_TRIAGE")
    simulator.event({"type": "app_mention", "user": "U_AGENT1", "text": "<@U_FRONTLINE> hi", "channel": "C_HELP"})
    simulator.block_action(
        user_id="U_AGENT1", channel_id="C_TRIAGE", message=message, actions=[{"action_id": "assign", "value": "T-1"}]
    )
    simulator.view_submission(
        user_id="U_AGENT1", view={"id": "V1", "callback_id": "c", "private_metadata": "", "state": {"values": {}}}
    )
    simulator.message_shortcut(callback_id="to_ticket", user_id="U_AGENT1", channel_id="C_HELP", message=message)
    simulator.global_shortcut(callback_id="new_ticket", user_id="U_AGENT1")
    simulator.url_verification("challenge-1")
    assert len(capture.requests) == 7
    assert all(verified(request) for request in capture.requests)
    assert all(r.headers["x-slack-signature"].startswith("v0=") for r in capture.requests)
    assert {r.headers["content-type"] for r in capture.requests} == {
        "application/json",
        "application/x-www-form-urlencoded",
    }


def test_signature_matches_the_documented_recipe() -> None:
    # Slack's published example: secret, timestamp and body from the "Verifying requests" guide.
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
        b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
        b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
        b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    expected = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    assert sign("8f742231b10e8888abcd99yyyzzz85a5", 1531420618, body) == expected


def test_bad_signature_and_stale_timestamp_via_send_raw(simulator: SlackSimulator, capture: Capture) -> None:
    simulator.send_raw(b"payload=%7B%7D", "application/x-www-form-urlencoded", signature="v0=deadbeef")
    assert capture.last().headers["x-slack-signature"] == "v0=deadbeef"
    assert not verified(capture.last())
    stale = int(time.time()) - 600
    simulator.send_raw(b"{}", "application/json", timestamp=stale, headers={"X-Extra": "1"})
    request = capture.last()
    assert request.headers["x-slack-request-timestamp"] == str(stale)
    assert request.headers["x-slack-signature"] == sign(SECRET, stale, b"{}")  # correct, but too old
    assert request.headers["x-extra"] == "1"
    assert not verified(request)


def test_one_keep_alive_connection_per_thread(simulator: SlackSimulator, capture: Capture) -> None:
    for _ in range(20):
        simulator.global_shortcut(callback_id="x", user_id="U_AGENT1")
    assert len({r.client_port for r in capture.requests}) == 1

    def burst() -> None:
        for _ in range(10):
            simulator.global_shortcut(callback_id="x", user_id="U_AGENT1")

    threads = [threading.Thread(target=burst) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(capture.requests) == 100
    assert len({r.client_port for r in capture.requests[20:]}) == 8
    assert all(verified(request) for request in capture.requests)


def test_response_carries_status_body_headers_and_time() -> None:
    server, url = serve(lambda body, headers: (418, b'{"text": "short and stout"}'))
    try:
        with SlackSimulator(url, SECRET) as sim:
            response = sim.url_verification("c")
        assert isinstance(response, SlackResponse)
        assert response.status == 418
        assert response.json() == {"text": "short and stout"}
        assert response.headers["content-type"] == "application/json"
        assert 0 < response.elapsed < 5
        assert SlackResponse(200, "", {}, 0.0).json() is None
    finally:
        server.shutdown()
        server.server_close()


def test_reconnects_when_the_server_drops_a_kept_alive_connection() -> None:
    ports: list[int] = []
    server, url = serve(lambda body, headers: (200, b""), lambda r: ports.append(r.client_port), drop_silently=True)
    try:
        with SlackSimulator(url, SECRET) as sim:
            assert [sim.url_verification(str(n)).status for n in range(3)] == [200, 200, 200]
        assert len(ports) == 3 and len(set(ports)) == 3  # each request after a hang-up went on a new connection
    finally:
        server.shutdown()
        server.server_close()


# --- payload shapes -----------------------------------------------------------------------------------------


def test_slash_command_fields(simulator: SlackSimulator, capture: Capture) -> None:
    simulator.slash_command("/ticket", "Printer jams customer:acme", user_id="U_REQUESTER", channel_id="C_HELP")
    first = capture.form()
    assert list(first) == [
        "token",
        "team_id",
        "team_domain",
        "channel_id",
        "channel_name",
        "user_id",
        "user_name",
        "command",
        "text",
        "api_app_id",
        "is_enterprise_install",
        "response_url",
        "trigger_id",
    ]
    assert (first["command"], first["text"]) == ("/ticket", "Printer jams customer:acme")
    assert (first["channel_name"], first["user_name"]) == ("help", "jordan.kim")
    assert (first["team_id"], first["api_app_id"], first["is_enterprise_install"]) == (
        "T_FRONTLINE",
        "A_FRONTLINE",
        "false",
    )
    assert first["response_url"].startswith("http://127.0.0.1:9/response_url/commands-")
    assert "channel=C_HELP" in first["response_url"] and "user=U_REQUESTER" in first["response_url"]
    simulator.slash_command("/ticket", "list", user_id="U_AGENT1", channel_id="G_PRIVATE", channel_name="privategroup")
    second = capture.form()
    assert second["channel_name"] == "privategroup"
    assert second["trigger_id"] != first["trigger_id"]
    assert second["response_url"] != first["response_url"]


def test_block_action_payload(simulator: SlackSimulator, capture: Capture) -> None:
    message = {
        "ts": "1796655600.000100",
        "text": "T-1",
        "blocks": [
            {
                "type": "actions",
                "block_id": "ticket_actions",
                "elements": [
                    {"type": "button", "action_id": "assign", "text": {"type": "plain_text", "text": "Assign"}}
                ],
            }
        ],
    }
    simulator.block_action(
        user_id="U_AGENT1", channel_id="C_TRIAGE", message=message, actions=[{"action_id": "assign", "value": "T-1"}]
    )
    payload = capture.payload()
    assert payload["type"] == "block_actions"
    assert payload["user"]["id"] == "U_AGENT1" and payload["user"]["username"] == "alex.rivera"
    assert payload["trigger_id"]
    assert payload["container"] == {
        "type": "message",
        "message_ts": "1796655600.000100",
        "channel_id": "C_TRIAGE",
        "is_ephemeral": False,
    }
    assert payload["channel"] == {"id": "C_TRIAGE", "name": "support-triage"}
    assert payload["message"] == message
    [action] = payload["actions"]
    assert action["block_id"] == "ticket_actions"  # looked up from the message, as Slack reports it
    assert action["type"] == "button" and action["value"] == "T-1" and action["action_ts"]
    assert "ts=1796655600.000100" in payload["response_url"]


def test_block_action_from_a_view(simulator: SlackSimulator, capture: Capture) -> None:
    view = {"id": "V123", "type": "modal", "blocks": [], "state": {"values": {}}}
    simulator.block_action(
        user_id="U_AGENT2",
        view=view,
        actions=[{"action_id": "pick", "type": "static_select", "selected_option": {"value": "P1"}}],
    )
    payload = capture.payload()
    assert payload["container"] == {"type": "view", "view_id": "V123"}
    assert payload["view"] == view
    assert "response_url" not in payload and "channel" not in payload


def test_view_submission_payload(simulator: SlackSimulator, capture: Capture) -> None:
    values = {"subject": {"subject_input": {"type": "plain_text_input", "value": "Printer"}}}
    simulator.view_submission(
        user_id="U_AGENT1",
        view={
            "id": "V9",
            "callback_id": "new_ticket",
            "private_metadata": '{"channel": "C_HELP"}',
            "state": {"values": values},
        },
    )
    payload = capture.payload()
    assert payload["type"] == "view_submission"
    assert payload["view"]["callback_id"] == "new_ticket"
    assert payload["view"]["state"]["values"] == values
    assert payload["view"]["root_view_id"] == "V9" and payload["view"]["type"] == "modal"
    assert payload["response_urls"] == [] and payload["trigger_id"]
    with pytest.raises(ValueError, match=r"state\.values"):
        simulator.view_submission(user_id="U_AGENT1", view={"id": "V9", "callback_id": "c", "private_metadata": ""})


def test_shortcut_payloads(simulator: SlackSimulator, capture: Capture) -> None:
    message = {"ts": "1796655600.000200", "text": "my laptop is on fire", "user": "U_REQUESTER"}
    simulator.message_shortcut(callback_id="to_ticket", user_id="U_AGENT1", channel_id="C_HELP", message=message)
    shortcut = capture.payload()
    assert (shortcut["type"], shortcut["callback_id"], shortcut["message_ts"]) == (
        "message_action",
        "to_ticket",
        "1796655600.000200",
    )
    assert shortcut["channel"]["id"] == "C_HELP" and shortcut["message"] == message and shortcut["response_url"]
    simulator.global_shortcut(callback_id="new_ticket", user_id="U_LEAD")
    global_payload = capture.payload()
    assert (global_payload["type"], global_payload["user"]["id"]) == ("shortcut", "U_LEAD")
    assert global_payload["trigger_id"] != shortcut["trigger_id"]


def test_event_envelope_and_retry_headers(simulator: SlackSimulator, capture: Capture) -> None:
    event = {"type": "message", "channel": "C_HELP", "user": "U_REQUESTER", "text": "help", "ts": "1.000001"}
    simulator.event(event, event_id="Ev1", event_time=1796655600)
    envelope = json.loads(capture.last().body)
    assert (envelope["type"], envelope["event_id"], envelope["event_time"]) == ("event_callback", "Ev1", 1796655600)
    assert envelope["event"]["text"] == "help" and envelope["event"]["event_ts"]
    assert envelope["authorizations"][0]["user_id"] == "U_FRONTLINE"
    assert "x-slack-retry-num" not in capture.last().headers
    simulator.event(event, event_id="Ev1", retry_num=1, retry_reason="http_timeout")
    headers = capture.last().headers
    assert (headers["x-slack-retry-num"], headers["x-slack-retry-reason"]) == ("1", "http_timeout")
    simulator.url_verification("abc")
    assert json.loads(capture.last().body) == {
        "token": json.loads(capture.requests[0].body)["token"],
        "challenge": "abc",
        "type": "url_verification",
    }


# --- against a real Bolt app and the stand-in ----------------------------------------------------------------


def test_bolt_app_accepts_the_requests_and_responds_through_the_standin() -> None:
    with SlackStandIn() as standin:
        app = App(signing_secret=SECRET, client=WebClient(token=standin.bot_token, base_url=standin.api_url))
        seen: list[str] = []

        @app.command("/ticket")
        def ticket(ack: Any, respond: Any, command: dict[str, Any]) -> None:
            ack()
            respond(f"Created ticket: {command['text']}")

        @app.action("assign")
        def assign(ack: Any, body: dict[str, Any]) -> None:
            ack()
            seen.append(f"action {body['actions'][0]['value']} by {body['user']['id']}")

        @app.view("new_ticket")
        def submit(ack: Any, view: dict[str, Any]) -> None:
            ack()
            seen.append(f"view {view['state']['values']['s']['i']['value']}")

        @app.event("app_mention")
        def mention(event: dict[str, Any]) -> None:
            seen.append(f"mention {event['text']}")

        def dispatch(body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
            response = app.dispatch(BoltRequest(body=body.decode(), headers={k: [v] for k, v in headers.items()}))
            return response.status, response.body.encode()

        server, url = serve(dispatch)
        try:
            sim = SlackSimulator(url, SECRET, response_url_base=standin.response_url_base)
            assert sim.slash_command("/ticket", "Printer jams", user_id="U_AGENT1", channel_id="C_HELP").status == 200
            assert (
                sim.block_action(
                    user_id="U_LEAD",
                    channel_id="C_HELP",
                    message={"ts": "1.2", "blocks": []},
                    actions=[{"action_id": "assign", "value": "T-1"}],
                ).status
                == 200
            )
            state = {"values": {"s": {"i": {"type": "plain_text_input", "value": "Printer"}}}}
            assert (
                sim.view_submission(
                    user_id="U_AGENT1",
                    view={"id": "V1", "callback_id": "new_ticket", "private_metadata": "", "state": state},
                ).status
                == 200
            )
            assert (
                sim.event(
                    {"type": "app_mention", "user": "U_AGENT1", "text": "hi", "channel": "C_HELP", "ts": "1.3"}
                ).status
                == 200
            )
            forged = SlackSimulator(url, "wrong-secret").slash_command(
                "/ticket", "x", user_id="U_A", channel_id="C_HELP"
            )
            assert forged.status == 401
            deadline = time.monotonic() + 3
            while (len(seen) < 3 or not standin.ephemerals("C_HELP")) and time.monotonic() < deadline:
                time.sleep(0.01)
            assert sorted(seen) == ["action T-1 by U_LEAD", "mention hi", "view Printer"]
            [reply] = standin.ephemerals("C_HELP")
            assert (reply["user"], reply["text"]) == ("U_AGENT1", "Created ticket: Printer jams")
        finally:
            server.shutdown()
            server.server_close()
