"""A TCP relay that can freeze: what a PostgreSQL server whose processes stopped looks like to a
client (every byte acknowledged by the kernel, nothing answered, the connection never dropped)."""

from __future__ import annotations

import select
import socket
import threading
import time


class FreezableRelay:
    """Relays TCP to `target`; while `frozen` is set it reads nothing and sends nothing."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.frozen = threading.Event()
        self._closed = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            threading.Thread(target=self._pipe, args=(client, server), daemon=True).start()

    def _pipe(self, client: socket.socket, server: socket.socket) -> None:
        peer = {client: server, server: client}
        with client, server:
            while not self._closed.is_set():
                if self.frozen.is_set():
                    time.sleep(0.01)
                    continue
                readable, _, _ = select.select(list(peer), [], [], 0.05)
                for sock in readable:
                    try:
                        data = sock.recv(65536)
                        if data:
                            peer[sock].sendall(data)
                    except OSError:  # a side dropped the connection (the client, at its deadline)
                        data = b""
                    if not data:
                        return

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
