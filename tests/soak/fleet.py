"""The processes of a scale-out deployment on one PostgreSQL: `frontline migrate`, several `frontline
serve` (HTTP) and several `frontline worker`, each a real process with its log in a file."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.bench.harness import ROOT, free_port

__all__ = ["Fleet", "Proc"]


@dataclass
class Proc:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    port: int | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def worker_pattern(self) -> str:
        """A LIKE pattern for how the process names itself in the outbox's and timers' claims
        (bot/runtime.py: host, pid and a random suffix)."""
        return f"{socket.gethostname()}:{self.pid}:%"


@dataclass
class Fleet:
    env: dict[str, str]
    logs: Path
    procs: list[Proc] = field(default_factory=list)

    def migrate(self) -> None:
        subprocess.run(
            [sys.executable, "-m", "bot", "migrate"], env=self.env, cwd=ROOT, check=True, capture_output=True
        )

    def _start(self, name: str, args: list[str], port: int | None = None) -> Proc:
        log = self.logs / f"{name}.log"
        env = self.env | ({"PORT": str(port)} if port else {})
        with log.open("ab") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", *args], env=env, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT
            )
        proc = Proc(name, process, log, port)
        self.procs.append(proc)
        return proc

    def serve(self, name: str) -> Proc:
        proc = self._start(name, ["serve", "--host", "127.0.0.1"], port=free_port())
        _wait_healthy(proc)
        return proc

    def worker(self, name: str, *, sweep_seconds: float) -> Proc:
        return self._start(name, ["worker", "--sweep-seconds", str(sweep_seconds)])

    def kill(self, proc: Proc) -> None:
        """SIGKILL: no shutdown code runs, claims stay behind as after a crash or an OOM kill."""
        os.kill(proc.pid, signal.SIGKILL)
        proc.process.wait(timeout=10)

    def stop(self, procs: list[Proc] | None = None) -> list[str]:
        """SIGTERM (graceful) and wait; returns the names of those that had to be killed."""
        chosen = [p for p in (self.procs if procs is None else procs) if p.process.poll() is None]
        for proc in chosen:
            proc.process.terminate()
        forced = []
        for proc in chosen:
            try:
                proc.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.process.kill()
                proc.process.wait(timeout=10)
                forced.append(proc.name)
        return forced

    def exited(self) -> list[Proc]:
        """Processes that stopped by themselves (not killed or stopped by us)."""
        return [p for p in self.procs if p.process.poll() is not None and p.process.returncode not in (0, -9, -15)]


def _wait_healthy(proc: Proc) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.process.poll() is not None:
            raise SystemExit(f"{proc.name} exited with {proc.process.returncode}; see {proc.log}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{proc.port}/healthz", timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{proc.name} did not answer /healthz within 60 s; see {proc.log}")
