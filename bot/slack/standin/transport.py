"""The loopback HTTP layer: request and reply records, the request handler and threading server, and the
parsing of a Web API call's arguments from a query string and a form, JSON or multipart body."""

from __future__ import annotations

import contextlib
import json
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP as HTTP_POLICY
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from bot.slack.standin.calls import JSON, _ApiError

# --- request parsing -----------------------------------------------------------------------------------

# Form values that carry JSON and are decoded before a handler sees them.
_JSON_ARGS = frozenset({"blocks", "attachments", "view", "files", "metadata", "unfurled_attachments"})


def _parse_multipart(content_type: str, body: bytes) -> JSON:
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP_POLICY).parsebytes(head + body)
    fields: JSON = {}
    for part in message.walk():
        if part.is_multipart():
            continue
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            fields[name] = payload if part.get_filename() else payload.decode("utf-8")
    return fields


def _parse_args(content_type: str, body: bytes, query: str) -> JSON:
    """Arguments from the query string and a form, JSON or multipart body; JSON-valued form fields decoded."""
    args: JSON = dict(parse_qsl(query, keep_blank_values=True))
    media = content_type.split(";", 1)[0].strip().lower()
    if body and media == "application/json":
        try:
            decoded = json.loads(body)
        except ValueError:
            raise _ApiError("invalid_json") from None
        if not isinstance(decoded, dict):
            raise _ApiError("invalid_json")
        args.update(decoded)
    elif body and media == "multipart/form-data":
        args.update(_parse_multipart(content_type, body))
    elif body:
        try:
            args.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
        except UnicodeDecodeError:
            raise _ApiError("invalid_form_data") from None
    for key in _JSON_ARGS & args.keys():
        if isinstance(args[key], str):
            # Undecodable values stay strings: the handler answers invalid_blocks_format / invalid_arguments.
            with contextlib.suppress(ValueError):
                args[key] = json.loads(args[key])
    return args


# --- HTTP plumbing ---------------------------------------------------------------------------------------


@dataclass
class _HttpRequest:
    verb: str
    path: str
    query: str
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass
class _HttpReply:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


def _json_reply(status: int, payload: JSON, headers: dict[str, str] | None = None) -> _HttpReply:
    return _HttpReply(status, json.dumps(payload).encode(), headers=headers or {})


def _text_reply(status: int, text: str) -> _HttpReply:
    return _HttpReply(status, text.encode(), content_type="text/plain; charset=utf-8")


class _RequestHandler(BaseHTTPRequestHandler):
    """Hands each request to the stand-in's router and writes the reply in one send."""

    protocol_version = "HTTP/1.1"  # keep-alive for clients that reuse connections
    disable_nagle_algorithm = True  # small replies must not wait for delayed ACKs
    timeout = 60  # idle keep-alive connections release their thread eventually
    server: _Server

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while (size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)) > 0:
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        request = _HttpRequest(
            self.command,
            unquote(parts.path),
            parts.query,
            {k.lower(): v for k, v in self.headers.items()},
            self._read_body(),
        )
        try:
            reply = self.server.route(request)
        except Exception:  # a stand-in bug must reach the client as an error, not a dropped connection
            traceback.print_exc()
            reply = _json_reply(500, {"ok": False, "error": "fatal_error"})
        head = [
            f"HTTP/1.1 {reply.status} {self.responses.get(reply.status, ('',))[0]}",
            f"Content-Type: {reply.content_type}",
            f"Content-Length: {len(reply.body)}",
        ]
        head += [f"{name}: {value}" for name, value in reply.headers.items()]
        if self.close_connection:
            head.append("Connection: close")
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the stand-in records calls instead of logging them."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # bursts of concurrent clients must not overflow the listen backlog

    def __init__(self, address: tuple[str, int], route: Callable[[_HttpRequest], _HttpReply]) -> None:
        super().__init__(address, _RequestHandler)
        self.route = route
