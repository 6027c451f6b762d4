"""The Slack app manifest validates against Slack's own schema and names everything SPEC §2 uses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator

from bot.manifest import BOT_EVENTS, BOT_SCOPES, build_manifest, manifest_yaml

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / "tests" / "data" / "manifest.schema.1.0.0.json"
# Where the copy came from (present in the development tree, not necessarily in a clone).
SHARED_SCHEMA = REPO.parent / "shared" / "slack" / "manifest.schema.1.0.0.json"
URL = "https://frontline.example.com/slack/events"


def schema_errors(manifest: dict[str, Any]) -> list[str]:
    validator = Draft7Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    return [f"{'/'.join(map(str, error.path))}: {error.message}" for error in validator.iter_errors(manifest)]


def from_yaml(text: str) -> dict[str, Any]:
    """What Slack receives: the printed YAML, read back and passed through JSON."""
    manifest: dict[str, Any] = json.loads(json.dumps(yaml.safe_load(text)))
    return manifest


def test_schema_copy_is_slacks_file() -> None:
    copy = SCHEMA.read_bytes()
    assert json.loads(copy)["title"] == "App Manifest"
    if SHARED_SCHEMA.exists():  # in a plain clone only the copy exists; it is then the reference
        assert copy == SHARED_SCHEMA.read_bytes()


@pytest.mark.parametrize("socket_mode", [False, True], ids=["http", "socket"])
def test_manifest_validates_against_slack_schema(socket_mode: bool) -> None:
    manifest = from_yaml(manifest_yaml(request_url=URL, socket_mode=socket_mode))
    assert schema_errors(manifest) == []
    assert manifest == build_manifest(request_url=URL, socket_mode=socket_mode)


def test_exactly_the_commands_the_app_handles_are_declared() -> None:
    # An entry without a listener would be a 404 to Slack and an error for the person using it.
    features = from_yaml(manifest_yaml(request_url=URL))["features"]
    commands = {command["command"]: command for command in features["slash_commands"]}
    assert sorted(commands) == ["/incident", "/playbook", "/support", "/ticket"]
    for command in commands.values():
        assert command["url"] == URL
        assert command["should_escape"] is True  # mentions arrive as <@U…> IDs
        assert command["description"] and command["usage_hint"]
    assert [(s["type"], s["callback_id"], s["name"]) for s in features["shortcuts"]] == [
        ("message", "create_ticket_from_message", "Create ticket")
    ]
    assert features["app_home"]["home_tab_enabled"] is True
    assert features["app_home"]["messages_tab_enabled"] is True  # a DM to the bot opens a ticket


def test_events_scopes_and_interactivity_for_http() -> None:
    manifest = from_yaml(manifest_yaml(request_url=URL))
    settings = manifest["settings"]
    assert settings["event_subscriptions"]["request_url"] == URL
    assert settings["interactivity"] == {"is_enabled": True, "request_url": URL}
    assert settings["socket_mode_enabled"] is False
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "message.channels", "message.groups", "message.im", "reaction_added", "app_home_opened",
        "subteam_members_changed",
    }  # fmt: skip
    scopes = manifest["oauth_config"]["scopes"]["bot"]
    assert len(scopes) == len(set(scopes))
    expected = (
        "chat:write chat:write.public commands channels:history groups:history im:history files:write "
        "channels:read groups:read reactions:read usergroups:read channels:join channels:manage"
    )
    assert set(scopes) == set(expected.split())
    assert "users:read.email" not in scopes  # no feature reads e-mail addresses
    assert manifest["_metadata"] == {"major_version": 1, "minor_version": 1}


def test_socket_mode_has_no_request_urls() -> None:
    manifest = from_yaml(manifest_yaml(request_url=URL, socket_mode=True))
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert URL not in json.dumps(manifest)
    assert "url" not in json.dumps(manifest["features"]["slash_commands"])
    assert manifest["settings"]["interactivity"] == {"is_enabled": True}


def test_each_scope_and_event_says_why_in_the_yaml() -> None:
    lines = manifest_yaml().splitlines()
    for name, reason in (*BOT_SCOPES, *BOT_EVENTS):
        assert reason
        assert any(line.strip() == f"- {name}  # {reason}" for line in lines), name


def test_app_name_is_used_and_bounded() -> None:
    manifest = build_manifest(app_name="Helpdesk")
    assert manifest["display_information"]["name"] == "Helpdesk"
    assert manifest["features"]["bot_user"]["display_name"] == "Helpdesk"
    assert schema_errors(manifest) == []
    with pytest.raises(ValueError, match="1 to 35 characters"):
        build_manifest(app_name="x" * 36)
