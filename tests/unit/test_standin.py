"""The Slack Web API stand-in, driven over real loopback HTTP by a real slack_sdk WebClient."""

from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.slack.standin import METHOD_SPECS, SlackStandIn, render_message, validate_blocks

TOKEN = "xoxb-standin"
TS_FORMAT = re.compile(r"^\d{10}\.\d{6}$")
METHODS_JSON = Path(__file__).resolve().parents[3] / "shared" / "slack" / "methods.json"


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn(retry_after=0, seed=1) as server:
        yield server


@pytest.fixture
def client(standin: SlackStandIn) -> WebClient:
    return WebClient(token=TOKEN, base_url=standin.api_url)


def api_error(call: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """The `{"ok": false, ...}` body of a call that must fail."""
    with pytest.raises(SlackApiError) as raised:
        call(*args, **kwargs)
    data: dict[str, Any] = raised.value.response.data
    return data


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def post_json(url: str, payload: dict[str, Any]) -> tuple[int, str]:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


# --- messages -----------------------------------------------------------------------------------------


def test_post_reply_update_and_read_back(standin: SlackStandIn, client: WebClient) -> None:
    parent = client.chat_postMessage(channel="#support-triage", text="Checkout 500s", blocks=[section("*T-1*")])
    assert parent["channel"] == "C_TRIAGE"
    assert TS_FORMAT.match(parent["ts"])
    assert parent["message"]["bot_id"] == "B_FRONTLINE"
    assert parent["message"]["blocks"][0]["block_id"]  # Slack assigns a block_id when none is sent

    reply = client.chat_postMessage(channel="C_TRIAGE", text="On it", thread_ts=parent["ts"])
    assert reply["ts"] > parent["ts"]
    assert reply["message"]["thread_ts"] == parent["ts"]

    updated = client.chat_update(channel="C_TRIAGE", ts=parent["ts"], text="Checkout 500s (assigned)")
    assert updated["text"] == "Checkout 500s (assigned)"
    assert updated["message"]["blocks"][0]["text"]["text"] == "*T-1*"  # blocks kept when not sent

    thread = client.conversations_replies(channel="C_TRIAGE", ts=parent["ts"])["messages"]
    assert [m["ts"] for m in thread] == [parent["ts"], reply["ts"]]
    assert thread[0]["reply_count"] == 1
    assert thread[0]["reply_users"] == ["U_FRONTLINE"]

    [message] = standin.messages("C_TRIAGE")
    assert message["text"] == "Checkout 500s (assigned)"
    assert message["edited"]["user"] == "U_FRONTLINE"
    assert [r["text"] for r in message["replies"]] == ["On it"]
    history = client.conversations_history(channel="C_TRIAGE")["messages"]
    assert [m["ts"] for m in history] == [parent["ts"]]  # replies are not top-level history


def test_ephemeral_permalink_and_delete(standin: SlackStandIn, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="C_HELP", text="hello")
    ephemeral = client.chat_postEphemeral(channel="C_HELP", user="U_AGENT1", text="only you")
    assert TS_FORMAT.match(ephemeral["message_ts"])
    [seen] = standin.ephemerals("#help")
    assert (seen["user"], seen["text"], seen["source"]) == ("U_AGENT1", "only you", "chat.postEphemeral")
    assert standin.messages("C_HELP")[0]["text"] == "hello"  # the ephemeral is not a channel message

    link = client.chat_getPermalink(channel="C_HELP", message_ts=posted["ts"])["permalink"]
    assert link == f"https://frontline-demo.slack.com/archives/C_HELP/p{posted['ts'].replace('.', '')}"

    assert client.chat_delete(channel="C_HELP", ts=posted["ts"])["ts"] == posted["ts"]
    assert standin.messages("C_HELP") == []
    assert (
        api_error(client.chat_getPermalink, channel="C_HELP", message_ts=posted["ts"])["error"] == "message_not_found"
    )


def test_timestamps_strictly_increase_under_concurrent_clients(standin: SlackStandIn) -> None:
    stamps: list[str] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        own = WebClient(token=TOKEN, base_url=standin.api_url)
        for i in range(15):
            ts = own.chat_postMessage(channel="C_L2", text=f"{n}-{i}")["ts"]
            with lock:
                stamps.append(ts)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(stamps)) == 120
    stored = [m["ts"] for m in standin.messages("C_L2")]
    assert stored == sorted(stored) and len(stored) == 120
    assert len(standin.calls_to("chat.postMessage")) == 120


# --- Block Kit and text limits --------------------------------------------------------------------------


def button(text: str, action_id: str = "go", value: str = "v") -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": action_id, "value": value}


def option(text: str, value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text}, "value": value}


BAD_BLOCKS: dict[str, tuple[list[dict[str, Any]], str]] = {
    "51 blocks": ([section("x")] * 51, "no more than 50 items allowed [json-pointer:/blocks]"),
    "3001-char section": (
        [section("x" * 3001)],
        "must be less than 3001 characters [json-pointer:/blocks/0/text/text]",
    ),
    "151-char header": (
        [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
        "must be less than 151 characters [json-pointer:/blocks/0/text/text]",
    ),
    "duplicate block_id": (
        [{**section("a"), "block_id": "card"}, {**section("b"), "block_id": "card"}],
        "[json-pointer:/blocks/1/block_id]",
    ),
    "11 fields": (
        [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
        "no more than 10 items allowed [json-pointer:/blocks/0/fields]",
    ),
    "2001-char field": (
        [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}],
        "must be less than 2001 characters [json-pointer:/blocks/0/fields/0/text]",
    ),
    "mrkdwn header": (
        [{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}],
        "[json-pointer:/blocks/0/text/type]",
    ),
    "empty text": ([section("")], "must be more than 0 characters [json-pointer:/blocks/0/text/text]"),
    "11 context elements": (
        [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}],
        "no more than 10 items allowed [json-pointer:/blocks/0/elements]",
    ),
    "26 actions": (
        [{"type": "actions", "elements": [button("b", f"a{i}") for i in range(26)]}],
        "no more than 25 items allowed [json-pointer:/blocks/0/elements]",
    ),
    "duplicate action_id": (
        [{"type": "actions", "elements": [button("one", "same"), button("two", "same")]}],
        "[json-pointer:/blocks/0/elements/1/action_id]",
    ),
    "76-char button": (
        [{"type": "actions", "elements": [button("b" * 76)]}],
        "must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]",
    ),
    "2001-char button value": (
        [{"type": "actions", "elements": [button("b", value="v" * 2001)]}],
        "[json-pointer:/blocks/0/elements/0/value]",
    ),
    "256-char block_id": ([{**section("a"), "block_id": "b" * 256}], "[json-pointer:/blocks/0/block_id]"),
    "151-char option value": (
        [
            {
                "type": "actions",
                "elements": [{"type": "static_select", "action_id": "s", "options": [option("o", "v" * 151)]}],
            }
        ],
        "must be less than 151 characters [json-pointer:/blocks/0/elements/0/options/0/value]",
    ),
    "76-char option text": (
        [
            {
                "type": "actions",
                "elements": [{"type": "static_select", "action_id": "s", "options": [option("o" * 76, "v")]}],
            }
        ],
        "[json-pointer:/blocks/0/elements/0/options/0/text/text]",
    ),
    "101 options": (
        [
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "static_select",
                        "action_id": "s",
                        "options": [option(f"o{i}", f"v{i}") for i in range(101)],
                    }
                ],
            }
        ],
        "no more than 100 items allowed [json-pointer:/blocks/0/elements/0/options]",
    ),
    "initial option not among options": (
        [
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "static_select",
                        "action_id": "s",
                        "options": [option("a", "a")],
                        "initial_option": option("b", "b"),
                    }
                ],
            }
        ],
        "[json-pointer:/blocks/0/elements/0/initial_option]",
    ),
    "unknown block type": ([{"type": "sectoin", "text": {"type": "mrkdwn", "text": "x"}}], "[json-pointer:/blocks/0]"),
}


@pytest.mark.parametrize("case", list(BAD_BLOCKS))
def test_block_kit_limits_answer_invalid_blocks(standin: SlackStandIn, client: WebClient, case: str) -> None:
    blocks, expected = BAD_BLOCKS[case]
    body = api_error(client.chat_postMessage, channel="C_TRIAGE", text="fallback", blocks=blocks)
    assert body["error"] == "invalid_blocks"
    assert any(expected in message for message in body["response_metadata"]["messages"]), body
    assert standin.messages("C_TRIAGE") == []  # a rejected call changes nothing


def test_limits_at_the_boundary_are_accepted(client: WebClient) -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 150}},
        section("s" * 3000),
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2000}] * 10},
        {"type": "actions", "elements": [button("b" * 75, f"a{i}", "v" * 2000) for i in range(25)]},
    ] + [{"type": "divider"}] * 46
    assert len(blocks) == 50
    assert client.chat_postMessage(channel="C_TRIAGE", text="ok", blocks=blocks)["ok"]
    assert validate_blocks(blocks) == []


def test_blocks_that_are_not_an_array_answer_invalid_blocks_format(client: WebClient) -> None:
    body = api_error(
        client.api_call,
        "chat.postMessage",
        params={"channel": "C_TRIAGE", "text": "x", "blocks": '{"type": "section"}'},
    )
    assert body["error"] == "invalid_blocks_format"
    body = api_error(client.api_call, "chat.postMessage", params={"channel": "C_TRIAGE", "blocks": "not json"})
    assert body["error"] == "invalid_blocks_format"


def test_long_text_is_truncated_with_a_warning(standin: SlackStandIn, client: WebClient) -> None:
    response = client.chat_postMessage(channel="C_HELP", text="x" * 45_000)
    assert response["ok"] is True
    assert response["warning"] == "message_truncated"
    assert response["response_metadata"]["warnings"] == ["message_truncated"]
    assert len(standin.messages("C_HELP")[0]["text"]) == 40_000
    assert "warning" not in client.chat_postMessage(channel="C_HELP", text="y" * 40_000).data


def test_update_longer_than_4000_is_msg_too_long(standin: SlackStandIn, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="C_HELP", text="short")
    assert api_error(client.chat_update, channel="C_HELP", ts=posted["ts"], text="x" * 4001)["error"] == "msg_too_long"
    assert standin.messages("C_HELP")[0]["text"] == "short"
    assert client.chat_update(channel="C_HELP", ts=posted["ts"], text="x" * 4000)["ok"]


def test_chat_update_with_empty_blocks_removes_them(standin: SlackStandIn, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="C_HELP", text="t", blocks=[section("card")])
    client.chat_update(channel="C_HELP", ts=posted["ts"], text="plain now", blocks=[])
    assert "blocks" not in standin.messages("C_HELP")[0]


def test_message_without_content_is_no_text(client: WebClient) -> None:
    with pytest.warns(UserWarning):  # slack_sdk warns about the missing text before sending
        body = api_error(client.chat_postMessage, channel="C_HELP")
    assert body["error"] == "no_text"


def test_markdown_text_conflicts_with_text(client: WebClient) -> None:
    body = api_error(
        client.api_call, "chat.postMessage", json={"channel": "C_HELP", "text": "a", "markdown_text": "**b**"}
    )
    assert body["error"] == "markdown_text_conflict"


# --- protocol errors ---------------------------------------------------------------------------------


def test_unknown_method(standin: SlackStandIn, client: WebClient) -> None:
    body = api_error(client.api_call, "chat.postMessages", params={"channel": "C_HELP", "text": "x"})
    assert body["error"] == "unknown_method"
    assert standin.calls[-1].method == "chat.postMessages"
    assert standin.calls[-1].status == 200


def test_token_problems(standin: SlackStandIn) -> None:
    assert api_error(WebClient(token="xoxb-wrong", base_url=standin.api_url).auth_test)["error"] == "invalid_auth"
    assert api_error(WebClient(base_url=standin.api_url).auth_test)["error"] == "not_authed"
    info = WebClient(token=TOKEN, base_url=standin.api_url).auth_test()
    assert (info["user_id"], info["bot_id"], info["team_id"]) == ("U_FRONTLINE", "B_FRONTLINE", "T_FRONTLINE")


def test_missing_required_argument_is_invalid_arguments(client: WebClient) -> None:
    body = api_error(client.api_call, "conversations.info", params={})
    assert body["error"] == "invalid_arguments"
    assert body["response_metadata"]["messages"] == ["[ERROR] missing required field: channel"]


def test_form_and_json_bodies_are_both_understood(standin: SlackStandIn, client: WebClient) -> None:
    client.chat_postMessage(channel="C_HELP", text="form", blocks=[section("a")])
    client.api_call("chat.postMessage", json={"channel": "C_HELP", "text": "json", "blocks": [section("b")]})
    form_call, json_call = standin.calls_to("chat.postMessage")
    assert form_call.args["blocks"] == [section("a")]  # the form's JSON string was decoded
    assert json_call.args["blocks"] == [section("b")]
    assert "token" not in form_call.args


def test_method_table_matches_slack_reference() -> None:
    from bot.slack import standin as module

    assert set(METHOD_SPECS) == set(module._HANDLERS)
    if METHODS_JSON.exists():  # the reference sits beside the repository; the table is what ships
        reference = json.loads(METHODS_JSON.read_text())
        for method, spec in METHOD_SPECS.items():
            assert set(spec.required) == set(reference[method]["required"]) - {"token"}, method
            assert [set(group) for group in spec.one_of] == [set(g) for g in reference[method].get("one_of", [])]


# --- channels and membership ---------------------------------------------------------------------------


def test_channel_not_found_and_not_in_channel() -> None:
    with SlackStandIn(chat_write_public=False) as standin:
        standin.add_channel("G_PRIVATE", "privategroup", is_private=True, bot_member=False)
        standin.add_channel("C_TIER2", "support-tier2", bot_member=False)
        client = WebClient(token=TOKEN, base_url=standin.api_url)
        assert api_error(client.chat_postMessage, channel="C_NOPE", text="x")["error"] == "channel_not_found"
        assert api_error(client.chat_postMessage, channel="G_PRIVATE", text="x")["error"] == "channel_not_found"
        assert api_error(client.conversations_info, channel="G_PRIVATE")["error"] == "channel_not_found"
        assert api_error(client.chat_postMessage, channel="C_TIER2", text="x")["error"] == "not_in_channel"
        assert api_error(client.conversations_history, channel="C_TIER2")["error"] == "not_in_channel"
        assert client.conversations_join(channel="C_TIER2")["channel"]["is_member"] is True
        assert client.chat_postMessage(channel="C_TIER2", text="now I can")["ok"]


def test_chat_write_public_posts_without_joining(standin: SlackStandIn, client: WebClient) -> None:
    standin.add_channel("C_TIER2", "support-tier2", bot_member=False)
    assert client.chat_postMessage(channel="#support-tier2", text="escalation")["channel"] == "C_TIER2"
    assert [m["text"] for m in standin.messages("C_TIER2")] == ["escalation"]


def test_conversations_create_rules(standin: SlackStandIn, client: WebClient) -> None:
    created = client.conversations_create(name="inc-2026-checkout")["channel"]
    assert created["id"].startswith("C") and created["is_member"] is True
    assert api_error(client.conversations_create, name="support-triage")["error"] == "name_taken"
    client.conversations_archive(channel=created["id"])
    assert api_error(client.conversations_create, name="inc-2026-checkout")["error"] == "name_taken"
    assert api_error(client.conversations_create, name="Bad Name")["error"] == "invalid_name_specials"
    assert api_error(client.conversations_create, name="x" * 81)["error"] == "invalid_name_maxlength"
    assert api_error(client.conversations_create, name="---")["error"] == "invalid_name_punctuation"
    assert api_error(client.chat_postMessage, channel=created["id"], text="x")["error"] == "is_archived"


def test_invite_members_and_list(standin: SlackStandIn, client: WebClient) -> None:
    channel = client.conversations_create(name="war-room", is_private=True)["channel"]
    client.conversations_invite(channel=channel["id"], users="U_AGENT1,U_ENG")
    members = client.conversations_members(channel=channel["id"])["members"]
    assert members == ["U_FRONTLINE", "U_AGENT1", "U_ENG"]
    assert (
        api_error(client.conversations_invite, channel=channel["id"], users="U_AGENT1")["error"] == "already_in_channel"
    )
    assert api_error(client.conversations_invite, channel=channel["id"], users="U_GHOST")["error"] == "user_not_found"
    listed = client.conversations_list(types="private_channel")["channels"]
    assert [c["name"] for c in listed] == ["war-room"]
    page = client.conversations_list(limit=3)
    assert len(page["channels"]) == 3 and page["response_metadata"]["next_cursor"]
    rest = client.conversations_list(limit=100, cursor=page["response_metadata"]["next_cursor"])
    assert len(rest["channels"]) == 5


def test_dm_open_and_post(standin: SlackStandIn, client: WebClient) -> None:
    opened = client.conversations_open(users="U_AGENT2")["channel"]["id"]
    assert opened.startswith("D")
    again = client.conversations_open(users="U_AGENT2")
    assert again["channel"]["id"] == opened and again["already_open"] is True
    client.chat_postMessage(channel="U_AGENT2", text="your ticket breached")  # a user id posts into the DM
    assert [m["text"] for m in standin.messages(opened)] == ["your ticket breached"]
    assert standin.dm_channel("U_AGENT2") == opened


def test_users_info_and_lookup(standin: SlackStandIn, client: WebClient) -> None:
    user = client.users_info(user="U_AGENT2")["user"]
    assert user["tz"] == "Europe/London" and isinstance(user["tz_offset"], int)
    assert user["profile"]["real_name"] == "Priya Natarajan"
    assert user["profile"]["email"] == "priya.natarajan@frontline.example.com"
    standin.add_user("U_NEW", "new.hire", tz="Asia/Tokyo", real_name="New Hire", email="new@example.com")
    assert client.users_lookupByEmail(email="new@example.com")["user"]["tz_offset"] == 9 * 3600
    assert api_error(client.users_info, user="U_GHOST")["error"] == "user_not_found"
    assert api_error(client.users_lookupByEmail, email="ghost@example.com")["error"] == "users_not_found"
    assert client.users_info(user="U_FRONTLINE")["user"]["is_bot"] is True


def test_reactions(standin: SlackStandIn, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C_HELP", text="x")["ts"]
    client.reactions_add(channel="C_HELP", timestamp=ts, name="eyes")
    assert api_error(client.reactions_add, channel="C_HELP", timestamp=ts, name="eyes")["error"] == "already_reacted"
    assert standin.messages("C_HELP")[0]["reactions"] == [{"name": "eyes", "users": ["U_FRONTLINE"], "count": 1}]
    client.reactions_remove(channel="C_HELP", timestamp=ts, name="eyes")
    assert "reactions" not in standin.messages("C_HELP")[0]
    assert api_error(client.reactions_remove, channel="C_HELP", timestamp=ts, name="eyes")["error"] == "no_reaction"


# --- views ---------------------------------------------------------------------------------------------


def modal(title: str = "New ticket", **extra: Any) -> dict[str, Any]:
    return {"type": "modal", "title": {"type": "plain_text", "text": title}, "blocks": [section("hi")], **extra}


def test_views_open_update_publish(standin: SlackStandIn, client: WebClient) -> None:
    view = client.views_open(trigger_id="1.2.a", view=modal(callback_id="new_ticket"))["view"]
    assert view["id"].startswith("V") and view["hash"] and view["callback_id"] == "new_ticket"
    assert api_error(client.views_open, trigger_id="1.2.a", view=modal())["error"] == "exchanged_trigger_id"
    updated = client.views_update(view_id=view["id"], hash=view["hash"], view=modal("Step 2"))["view"]
    assert updated["id"] == view["id"] and updated["hash"] != view["hash"]
    assert (
        api_error(client.views_update, view_id=view["id"], hash=view["hash"], view=modal())["error"] == "hash_conflict"
    )
    assert api_error(client.views_update, view_id="V_NOPE", view=modal())["error"] == "not_found"
    home = client.views_publish(user_id="U_AGENT1", view={"type": "home", "blocks": [section("queue")]})["view"]
    assert home["type"] == "home"
    assert {v["id"] for v in standin.views()} == {view["id"], home["id"]}


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        (modal("t" * 25), "must be less than 25 characters [json-pointer:/view/title/text]"),
        (
            {
                "type": "modal",
                "title": {"type": "plain_text", "text": "x"},
                "blocks": [
                    {
                        "type": "input",
                        "label": {"type": "plain_text", "text": "Subject"},
                        "element": {"type": "plain_text_input", "action_id": "subject"},
                    }
                ],
            },
            "must provide a submit property when using input blocks [json-pointer:/view]",
        ),
        (modal(blocks=[section("x")] * 101), "no more than 100 items allowed [json-pointer:/view/blocks]"),
        (modal(private_metadata="m" * 3001), "[json-pointer:/view/private_metadata]"),
        (modal(callback_id="c" * 256), "[json-pointer:/view/callback_id]"),
    ],
)
def test_view_limits_answer_invalid_arguments(client: WebClient, view: dict[str, Any], expected: str) -> None:
    body = api_error(client.views_open, trigger_id="t", view=view)
    assert body["error"] == "invalid_arguments"
    assert any(expected in message for message in body["response_metadata"]["messages"]), body


# --- files -----------------------------------------------------------------------------------------------


def test_files_upload_v2_end_to_end(standin: SlackStandIn, client: WebClient) -> None:
    parent = client.chat_postMessage(channel="C_L3", text="escalation")["ts"]
    result = client.files_upload_v2(
        channel="C_L3",
        thread_ts=parent,
        content="line 1\nline 2",
        filename="transcript.txt",
        title="Transcript",
        initial_comment="full log",
    )
    file_id = result["file"]["id"]
    assert result["file"]["title"] == "Transcript"
    assert standin.file_content(file_id) == b"line 1\nline 2"
    [reply] = standin.messages("C_L3")[0]["replies"]
    assert reply["text"] == "full log"
    assert [f["id"] for f in reply["files"]] == [file_id]
    assert [c.method for c in standin.calls[-3:]] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    with urllib.request.urlopen(result["file"]["url_private"], timeout=5) as download:
        assert download.read() == b"line 1\nline 2"


def test_file_upload_to_a_channel_the_bot_is_not_in(standin: SlackStandIn, client: WebClient) -> None:
    standin.add_channel("C_TIER2", "support-tier2", bot_member=False)
    assert client.chat_postMessage(channel="C_TIER2", text="P1 escalation")["ok"]  # chat:write.public
    body = api_error(client.files_upload_v2, channel="C_TIER2", content="log", filename="t.txt")
    assert body["error"] == "not_in_channel"
    client.conversations_join(channel="C_TIER2")
    assert client.files_upload_v2(channel="C_TIER2", content="log", filename="t.txt")["ok"]
    assert [m["text"] for m in standin.messages("C_TIER2")] == ["P1 escalation", ""]


# --- failure injection ---------------------------------------------------------------------------------


def test_injected_429_is_retried_by_slack_sdk(standin: SlackStandIn, client: WebClient) -> None:
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    standin.fail_next("chat.postMessage", "ratelimited", status=429)
    assert client.chat_postMessage(channel="C_HELP", text="once")["ok"]
    first, second = standin.calls_to("chat.postMessage")
    assert (first.status, first.response) == (429, {"ok": False, "error": "ratelimited"})
    assert (second.status, second.response["ok"]) == (200, True)
    assert [m["text"] for m in standin.messages("C_HELP")] == ["once"]


def test_failure_rate_answers_429_with_retry_after_and_changes_nothing() -> None:
    with SlackStandIn(failure_rate=1.0, failure_kinds=("429",), retry_after=7, seed=3) as standin:
        request = urllib.request.Request(
            f"{standin.api_url}chat.postMessage",
            data=b"channel=C_HELP&text=x",
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        with pytest.raises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(request, timeout=5)
        assert raised.value.code == 429
        assert raised.value.headers["Retry-After"] == "7"
        assert json.loads(raised.value.read()) == {"ok": False, "error": "ratelimited"}
        assert standin.messages("C_HELP") == []
        assert standin.calls[0].status == 429


def test_failure_rate_is_seeded_and_500s_surface_in_slack_sdk() -> None:
    def statuses(seed: int) -> list[int]:
        with SlackStandIn(failure_rate=0.3, failure_kinds=("500", "503"), seed=seed) as standin:
            client = WebClient(token=TOKEN, base_url=standin.api_url)
            for _ in range(60):
                try:
                    client.auth_test()
                except SlackApiError as error:
                    assert error.response.status_code in (500, 503)
            return [call.status for call in standin.calls]

    first = statuses(11)
    assert first == statuses(11)  # same seed, same failures
    failures = sum(status != 200 for status in first)
    assert 5 <= failures <= 35
    assert {500, 503} >= {status for status in first if status != 200}


def test_fail_next_answers_the_given_error_once(standin: SlackStandIn, client: WebClient) -> None:
    standin.fail_next("chat.postMessage", "channel_not_found")
    assert api_error(client.chat_postMessage, channel="C_HELP", text="x")["error"] == "channel_not_found"
    assert client.chat_postMessage(channel="C_HELP", text="y")["ok"]
    assert [m["text"] for m in standin.messages("C_HELP")] == ["y"]


# --- response_url -----------------------------------------------------------------------------------------


def test_response_url_posts_are_recorded(standin: SlackStandIn, client: WebClient) -> None:
    url = standin.response_url("cmd-1", channel="C_HELP", user="U_REQUESTER")
    assert post_json(url, {"text": "Created T-1"}) == (200, "ok")
    [ephemeral] = standin.ephemerals("C_HELP")
    assert (ephemeral["user"], ephemeral["text"], ephemeral["source"]) == ("U_REQUESTER", "Created T-1", "response_url")
    assert post_json(url, {"response_type": "in_channel", "text": "Everyone: T-1"}) == (200, "ok")
    assert [m["text"] for m in standin.messages("C_HELP")] == ["Everyone: T-1"]
    assert post_json(url, {"blocks": [section("x" * 3001)]}) == (400, "invalid_blocks")
    assert post_json(url, {"response_type": "ephemeral"}) == (400, "no_text")
    assert [call.status for call in standin.calls_to("response_url")] == [200, 200, 400, 400]


def test_response_url_replaces_and_deletes_the_original(standin: SlackStandIn, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C_TRIAGE", text="card v1")["ts"]
    url = standin.response_url("act-1", channel="C_TRIAGE", user="U_AGENT1", message_ts=ts)
    assert post_json(url, {"replace_original": True, "text": "card v2"})[0] == 200
    assert standin.messages("C_TRIAGE")[0]["text"] == "card v2"
    assert post_json(url, {"delete_original": True})[0] == 200
    assert standin.messages("C_TRIAGE") == []


# --- transcript ------------------------------------------------------------------------------------------


def test_transcript_renders_blocks_threads_and_ephemerals(standin: SlackStandIn, client: WebClient) -> None:
    card: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "T-7 · Checkout 500s"}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "*Requester* <@U_REQUESTER> &amp; team"},
            "fields": [
                {"type": "mrkdwn", "text": "*Priority*\n:red_circle: P1"},
                {"type": "mrkdwn", "text": "*Owner*\nnobody"},
            ],
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "Opened <!date^1796655600^{date}|Dec 1>"}]},
        {"type": "actions", "elements": [button("Assign to me", "assign"), button("Escalate", "escalate")]},
    ]
    ts = client.chat_postMessage(channel="C_TRIAGE", text="T-7", blocks=card)["ts"]
    client.chat_postMessage(channel="C_TRIAGE", text="Looking now", thread_ts=ts)
    client.chat_postEphemeral(channel="C_TRIAGE", user="U_AGENT1", text="You took *T-7*")
    text = standin.transcript()
    assert text.splitlines()[0] == "#support-triage (C_TRIAGE)"
    for line in (
        "== T-7 · Checkout 500s ==",
        "Requester @Jordan Kim & team",
        "Priority 🔴 P1 | Owner nobody",
        "Opened Dec 1",
        "[Assign to me] [Escalate]",
        "      ↳ Frontline: Looking now",
        "  (only visible to Alex Rivera) Frontline: You took T-7",
    ):
        assert line in text, text
    assert "#help" not in text  # channels without activity are left out
    assert render_message({"text": "plain *bold*"}) == "plain bold"
