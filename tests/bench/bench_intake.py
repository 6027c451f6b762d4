"""Intake throughput: signed `message` events in an intake channel, each becoming a ticket, against
`frontline serve` on SQLite with a `frontline worker` posting the cards and thread acknowledgements.

    python tests/bench/bench_intake.py [--messages 2000] [--clients 8]

Prints p50/p99 latency of the event's HTTP answer (the ticket is committed before it), tickets/s
for sequential and concurrent senders, tickets in the database, CPU time per ticket of each
process, and how long the worker took to post what the tickets queued.
"""

from __future__ import annotations

import argparse
import time

from harness import SECRET, Deployment, cpu_seconds, drive, machine
from sqlalchemy import create_engine, text

from bot.slack.simulator import SlackResponse, SlackSimulator

MESSAGES = (
    "Checkout page returns 500 for everyone since the deploy",
    "How do I export my invoices to CSV?",
    "Our SSO login with Okta fails with an invalid SAML response",
    "Feature request: dark mode for the dashboard would be great",
    "The mobile app crashes when I open settings, this is urgent",
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    with Deployment("channels: {triage: C_TRIAGE, intake: [C_HELP]}\n") as deployment:
        worker_before = deployment.worker_cpu()
        base_ts = int(time.time()) - 86_400
        with deployment.serve() as frontline:
            simulator = SlackSimulator(frontline.url, SECRET)

            def send(n: int) -> SlackResponse:
                event = {
                    "type": "message",
                    "channel": "C_HELP",
                    "channel_type": "channel",
                    # One requester per message: the escalation matrix looks at each (its "same
                    # requester, same issue" query included) without escalating the whole load.
                    "user": f"U_CUSTOMER{n + 100}",
                    "text": f"{MESSAGES[n % len(MESSAGES)]} (#{n})",
                    "ts": f"{base_ts + n // 1000}.{n % 1000:06d}",
                }
                return simulator.event(event)

            drive(send, 50, 1)  # warm-up
            before = cpu_seconds(frontline.pid)
            runs = {
                "sequential": drive(send, args.messages, 1, first=50),
                f"{args.clients} clients": drive(send, args.messages, args.clients, first=50 + args.messages),
            }
            serve_cpu = (cpu_seconds(frontline.pid) - before) * 1000 / (2 * args.messages)
        created = 50 + 2 * args.messages
        engine = create_engine(deployment.env["DATABASE_URL"])
        with engine.connect() as connection:
            tickets = connection.execute(text("SELECT count(*) FROM tickets")).scalar_one()
        cards, cards_wait = deployment.wait_for_messages("C_TRIAGE", created)
        worker_cpu = (deployment.worker_cpu() - worker_before) * 1000 / created

    print(f"{machine()} · {args.messages} messages per run")
    print(f"{'senders':<12} {'p50 ms':>8} {'p99 ms':>8} {'tickets/s':>10}")
    for label, run in runs.items():
        print(f"{label:<12} {run.p50_ms:>8.1f} {run.p99_ms:>8.1f} {run.rate:>10.0f}")
    print(f"tickets in the database: {tickets} of {created} messages")
    print(f"cards posted by the worker: {cards} ({cards_wait:.1f} s after the last message)")
    print(f"CPU per ticket: serve {serve_cpu:.2f} ms, worker {worker_cpu:.2f} ms (a card and a thread reply)")


if __name__ == "__main__":
    main()
