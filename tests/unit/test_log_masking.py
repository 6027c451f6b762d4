"""The one masking processor of the logs (`bot.logs.mask_event`, over `bot.core.pii`): what it must
mask, what it must leave alone, and that stdlib records and exception text pass through it too."""

from __future__ import annotations

import io
import json
import logging
import time
from typing import Any

import pytest
import structlog

from bot.core.pii import mask_pii
from bot.logs import mask_event

MASKED = [
    # e-mail addresses: plus addressing, subdomains, inside Slack's mailto markup
    ("write to jane.doe+billing@mail.eu.acme.co.uk", "write to [email]"),
    ("<mailto:bob@acme.io|bob@acme.io>", "<mailto:[email]|[email]>"),
    ("From: O'Neil <x_y-z@sub.domain.travel>", "From: O'Neil <[email]>"),
    # phone numbers
    ("call +1 (415) 555-0132 now", "call [phone] now"),
    ("call (415) 555-0132", "call [phone]"),
    ("call 415.555.0132", "call [phone]"),
    ("call 415-555-0132", "call [phone]"),
    ("ring +44 20 7946 0958", "ring [phone]"),
    ("ring +49-30-1234567", "ring [phone]"),
    ("ring +33 1 23 45 67 89", "ring [phone]"),
    ("ring 020 7946 0958", "ring [phone]"),
    ("ring 07700 900123", "ring [phone]"),
    ("ring (0)20 7946 0958 or +44 (0)20 7946 0958", "ring [phone] or [phone]"),
    ("call 1-800-555-0199", "call [phone]"),
    ("call me on 4155550132 after 5", "call me on [phone] after 5"),
    ("mobile: +447700900123", "mobile: [phone]"),
    # cards (Luhn-valid), with spaces or dashes or none
    ("card 4111 1111 1111 1111 declined", "card [card] declined"),
    ("card 5500-0000-0000-0004", "card [card]"),
    ("amex 378282246310005", "amex [card]"),
    ("card 4111.1111.1111.1111", "card [card]"),
    ("amex 3782 822463 10005", "amex [card]"),
    ("card 6011 1111 1111 1111 003", "card [card]"),
    # Slack and other tokens, anywhere
    ("token xoxb-1234567890-abcdefghij leaked", "token [token] leaked"),
    ("xoxp-1-2-3-abcdef", "[token]"),
    ("refresh xoxe.xoxp-1-Mi0yLTE3 and xoxe-1-My0xLTE3", "refresh [token] and [token]"),
    ("app token xapp-1-A0B1C2-123-abcdef", "app token [token]"),
    ("Authorization: Bearer eyJhbGciOi.eyJzdWIi.sig", "Authorization: [token]"),
    ("Authorization: Basic dXNlcjpwYXNz", "[token]"),
    ("webhook https://hooks.slack.com/services/T0AAA/B0BBB/abcdefghijklmnopqrstuvwx ok", "webhook https://[token] ok"),
    ("https://hooks.example.com/x?token=abc123def&next=1", "https://hooks.example.com/x?token=[secret]&next=1"),
    ('{"bot_token": "xoxb-99999999-zzzz", "ok": true}', '{"bot_token": "[token]", "ok": true}'),
    ('{"password": "hunter2", "user": "app"}', '{"password": "[secret]", "user": "app"}'),
    ("SLACK_SIGNING_SECRET=8f742231b10e8888abcd99yyyzzz85a5", "SLACK_SIGNING_SECRET=[secret]"),
    ("x-slack-signature: v0=" + "a" * 64, "x-slack-signature: [token]"),
    # passwords in URLs: the user and host stay
    ("postgresql://frontline:s3cr3t@db.internal:5432/prod", "postgresql://frontline:[secret]@db.internal:5432/prod"),
    ("redis://:pa55@cache:6379/0", "redis://:[secret]@cache:6379/0"),
]

UNTOUCHED = [
    "1712345678.123456",  # Slack ts
    "thread 1712345678.123456 in C0123ABCD",
    "T-123 and T-1712345678",  # ticket refs
    "INC-3 BUG-12 RUN-4",
    "U0ABC12345 W012AB3CD S0GROUP1",  # Slack ids
    "2026-11-30",
    "2026-11-30T15:45:21+00:00",
    "2026-11-30 15:45:21.123456",
    "v1.2.3 and 3.11.7 and 2026.11.30",  # versions
    "10.0.0.1:5432 192.168.100.200:8080",  # IP:port
    "error 502, order 1043, 250 users",
    "1234567890",
    "card-like 1234 5678 9012 3456",  # fails Luhn
    "550e8400-e29b-41d4-a716-446655440000",  # a UUID
    "request 3f2a9c0d1e2b4a5f",
    "postgresql://db.internal:5432/prod",  # no password
    "the token field was empty",
    "order 1234567890 shipped",  # ten digits with no phone word before them
    "Basic information is missing",
    "amount 4111.11 and version 1.2.3.4",
]


def test_no_slack_timestamp_is_taken_for_a_card() -> None:
    # One timestamp in ten passes the Luhn sum, so take every one in a long run of seconds.
    for second in range(1_712_345_678, 1_712_345_678 + 2_000):
        for micros in ("398055", "000100", "123456"):
            ts = f"{second}.{micros}"
            assert mask_pii(ts) == ts
            assert mask_pii(f"thread_ts={ts} in C0123") == f"thread_ts={ts} in C0123"
    assert mask_pii("1787455328.398055") == "1787455328.398055"  # found in an export
    for second in range(1_712_345_678, 1_712_345_678 + 200):
        link = f"https://acme.slack.com/archives/C0123ABCD/p{second}398055"
        assert mask_pii(link) == link


@pytest.mark.parametrize(("text", "masked"), MASKED)
def test_masks(text: str, masked: str) -> None:
    assert mask_event(None, "info", {"event": text}) == {"event": masked}


@pytest.mark.parametrize("text", UNTOUCHED)
def test_leaves_ordinary_values_alone(text: str) -> None:
    assert mask_event(None, "info", {"event": "x", "detail": text}) == {"event": "x", "detail": text}


class _Opaque:
    def __str__(self) -> str:
        return "owner jane@acme.io"


def test_nested_and_non_string_values() -> None:
    event: dict[str, Any] = {
        "event": "delivery",
        "args": {"channel": "C0123", "text": "mail me at a@b.io", "blocks": [{"text": ("+44 20 7946 0958", 7)}]},
        "tags": ("x", "4111-1111-1111-1111"),
        "count": 3,
        "ratio": 0.5,
        "ok": True,
        "nothing": None,
        "config": {"signing_secret": "abc", "Authorization": "whatever", "password": 12345},
        "opaque": _Opaque(),
        "ts": "1712345678.123456",
    }
    masked = mask_event(None, "info", event)
    assert masked["args"] == {"channel": "C0123", "text": "mail me at [email]", "blocks": [{"text": ("[phone]", 7)}]}
    assert masked["tags"] == ("x", "[card]")
    assert (masked["count"], masked["ratio"], masked["ok"], masked["nothing"]) == (3, 0.5, True, None)
    assert masked["config"] == {"signing_secret": "[secret]", "Authorization": "[secret]", "password": "[secret]"}
    assert masked["opaque"] == "owner [email]"
    assert masked["ts"] == "1712345678.123456"
    assert event["args"]["text"] == "mail me at a@b.io"  # the caller's objects are not changed


def test_fields_named_as_secrets_lose_their_value_at_any_depth() -> None:
    masked = mask_event(None, "info", {"event": "connect", "password": "hunter2", "bot_token": "abc", "key": "k1"})
    assert masked == {"event": "connect", "password": "[secret]", "bot_token": "[secret]", "key": "k1"}


def _lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def test_structlog_stdlib_and_exception_text_are_masked(json_logs: io.StringIO) -> None:
    structlog.get_logger("frontline.test").warning("ours", url="postgresql://app:pw1@db/x", who="jane@acme.io")
    logging.getLogger("some.library").warning("connecting with token %s for %s", "xoxb-1111111-aaaa", "b@c.io")
    try:
        raise ValueError("card 4111 1111 1111 1111 refused for +1 (415) 555-0132")
    except ValueError:
        structlog.get_logger("frontline.test").exception("failed")
    try:
        raise RuntimeError("password=hunter2 rejected")
    except RuntimeError:
        logging.getLogger("some.library").exception("library failed for x@y.org")
    ours, library, failed, library_failed = _lines(json_logs)
    assert ours["url"] == "postgresql://app:[secret]@db/x" and ours["who"] == "[email]"
    assert library["event"] == "connecting with token [token] for [email]"
    assert "ValueError: card [card] refused for [phone]" in failed["exception"]
    assert library_failed["event"] == "library failed for [email]"
    assert "RuntimeError: password=[secret] rejected" in library_failed["exception"]
    text = json_logs.getvalue()
    for secret in ("pw1", "jane@", "xoxb-", "4111", "555-0132", "hunter2", "x@y.org"):
        assert secret not in text


def test_bound_context_is_on_every_line(json_logs: io.StringIO) -> None:
    with structlog.contextvars.bound_contextvars(request_id="r1", event_id="Ev1"):
        structlog.get_logger("frontline.test").info("inside")
        logging.getLogger("some.library").info("library inside")
    structlog.get_logger("frontline.test").info("outside")
    inside, library, outside = _lines(json_logs)
    assert (inside["request_id"], inside["event_id"]) == ("r1", "Ev1")
    assert library["request_id"] == "r1"
    assert "request_id" not in outside


def test_lazy_listeners_log_with_the_request_they_came_from() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from bot.app import _WithLogContext

    executor = _WithLogContext(ThreadPoolExecutor(max_workers=1))
    with structlog.contextvars.bound_contextvars(request_id="r7", event_id="Ev7"):
        seen = executor.submit(structlog.contextvars.get_contextvars).result()
    assert seen == {"request_id": "r7", "event_id": "Ev7"}
    assert executor.submit(structlog.contextvars.get_contextvars).result() == {}  # the next request's is its own
    executor.shutdown()


def test_known_noise_is_left_out_and_the_rest_stays(json_logs: io.StringIO) -> None:
    logging.getLogger("slack_bolt.App").warning("As you gave `client` as well, `token` will be unused.")
    logging.getLogger("slack_bolt.App").warning("Unhandled request ({'type': 'x'})")
    logging.getLogger("matplotlib.category").info("Using categorical units to plot a list of strings")
    logging.getLogger("matplotlib.category").warning("a real matplotlib problem")
    events = [json.loads(line)["event"] for line in json_logs.getvalue().splitlines() if line.strip()]
    assert events == ["Unhandled request ({'type': 'x'})", "a real matplotlib problem"]


# Shapes of long text with nothing to mask: a pattern that can start anywhere in such a run used
# to scan the rest of it from every character (200 KB of "A" took the e-mail pattern minutes).
LONG_RUNS = ["A", "1", "a.", "1-", "a1", "a_", "a%", "1.", "-", ".", "x://", "a:b@", "@a.", "1 ", "+1 ", "call "]


@pytest.mark.parametrize("unit", LONG_RUNS)
def test_masking_long_text_takes_linear_time(unit: str) -> None:
    run = unit * (200_000 // len(unit))
    for text in (run, f"x@{run}", f"{run}@example.com", f"https://u:{run}@h"):
        started = time.perf_counter()
        mask_pii(text)
        # Linear work here is tens of milliseconds; the quadratic kind took minutes.
        assert time.perf_counter() - started < 2.0, (unit, text[:20])


def test_a_log_field_is_cut_and_a_traceback_keeps_its_end() -> None:
    from bot.logs import LOG_VALUE_CHARS

    event = mask_event(
        None,
        "info",
        {"event": "body " + "x" * 100_000, "exception": "Traceback\n" + "y" * 50_000 + "\nValueError: boom"},
    )
    assert len(event["event"]) < LOG_VALUE_CHARS + 200 and event["event"].endswith("more characters]")
    assert event["exception"].endswith("ValueError: boom") and len(event["exception"]) < LOG_VALUE_CHARS + 200
