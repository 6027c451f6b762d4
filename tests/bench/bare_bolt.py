"""A bare Bolt app whose /ticket handler only acks, served the same way as Frontline (waitress):
the baseline that bench_ticket_command.py compares against."""

from __future__ import annotations

import os
import sys

from slack_bolt import Ack, App
from slack_bolt.authorization import AuthorizeResult

from bot.web import make_server


def main(port: int, secret: str) -> None:
    def authorize(**_: object) -> AuthorizeResult:
        return AuthorizeResult(enterprise_id=None, team_id="T_FRONTLINE", bot_user_id="U_FRONTLINE", bot_token="xoxb-x")

    app = App(signing_secret=secret, authorize=authorize, process_before_response=True)

    @app.command("/ticket")
    def ticket(ack: Ack) -> None:
        ack(response_type="ephemeral", text="ok")

    make_server(app, host="127.0.0.1", port=port, threads=8).run()


if __name__ == "__main__":
    main(int(os.environ["PORT"]), sys.argv[1])
