"""Ack latency and throughput of signed `/ticket` requests: `frontline serve` on SQLite (with a
`frontline worker` posting the cards, as the Procfile deploys it) vs a bare Bolt app whose handler
only acks, measured in the same run, each in its own process.

    python tests/bench/bench_ticket_command.py [--requests 2000] [--clients 8]

Prints p50/p99 latency and requests/s for sequential and concurrent clients, CPU time per request
of each process, and the ratios.
"""

from __future__ import annotations

import argparse
import sys

from harness import ROOT, SECRET, Deployment, Run, cpu_seconds, drive, machine, server

from bot.slack.simulator import SlackResponse, SlackSimulator


def _load(url: str, requests: int, clients: int) -> dict[str, Run]:
    simulator = SlackSimulator(url, SECRET)

    def send(n: int) -> SlackResponse:
        # One requester per request: the escalation matrix checks each ticket (its "same requester,
        # same issue" query included) without escalating the whole load to L2.
        text = f"printer {n} jams on floor 3"
        return simulator.slash_command("/ticket", text, user_id=f"U_R{n + 100}", channel_id="C_HELP")

    drive(send, 50, 1, first=-50)  # warm-up: imports, connection pools, first queries
    return {"sequential": drive(send, requests, 1), f"{clients} clients": drive(send, requests, clients)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    results: dict[str, dict[str, Run]] = {}
    cpu_ms: dict[str, float] = {}
    with Deployment("channels: {triage: C_TRIAGE}\n") as deployment:
        worker_before = deployment.worker_cpu()
        with deployment.serve() as frontline:
            before = cpu_seconds(frontline.pid)
            results["frontline"] = _load(frontline.url, args.requests, args.clients)
            cpu_ms["frontline"] = (cpu_seconds(frontline.pid) - before) * 1000 / (2 * args.requests)
        # Let the worker post every card before the baseline runs on the same cores.
        created = 50 + 2 * args.requests
        cards, cards_wait = deployment.wait_for_messages("C_TRIAGE", created)
        cpu_ms["worker"] = (deployment.worker_cpu() - worker_before) * 1000 / created
        bare = [sys.executable, str(ROOT / "tests/bench/bare_bolt.py"), SECRET]
        with server(bare, deployment.env) as baseline:
            before = cpu_seconds(baseline.pid)
            results["bare bolt"] = _load(baseline.url, args.requests, args.clients)
            cpu_ms["bare bolt"] = (cpu_seconds(baseline.pid) - before) * 1000 / (2 * args.requests)

    print(f"{machine()} · {args.requests} requests per run")
    print(f"{'server':<10} {'clients':<12} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8}")
    for name, runs in results.items():
        for label, run in runs.items():
            print(f"{name:<10} {label:<12} {run.p50_ms:>8.1f} {run.p99_ms:>8.1f} {run.rate:>8.0f}")
    print(f"cards posted by the worker: {cards} of {created} tickets ({cards_wait:.1f} s after the last request)")
    print("CPU per request: " + ", ".join(f"{name} {ms:.2f} ms" for name, ms in cpu_ms.items()) + " (worker: per card)")
    for label, f in results["frontline"].items():
        b = results["bare bolt"][label]
        print(
            f"ratio frontline/bare ({label}): p50 {f.p50_ms / b.p50_ms:.2f}x, p99 {f.p99_ms / b.p99_ms:.2f}x, "
            f"throughput {f.rate / b.rate:.2f}x"
        )


if __name__ == "__main__":
    main()
