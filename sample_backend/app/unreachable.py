"""A local address where nothing listens, for faults that make a peer unreachable.

The port stays bound (but never listening) for the life of the app, so connecting to
it is refused at once and no other process can take it over meanwhile: a real
"connection refused" without waiting for a timeout.

Usage::

    hole = UnreachableAddress(); client.base_url = hole.url("/v1"); ...; hole.close()
"""

from __future__ import annotations

import socket

__all__ = ["UnreachableAddress"]


class UnreachableAddress:
    """A bound, non-listening TCP port on 127.0.0.1."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port = int(self._sock.getsockname()[1])

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self._sock.close()
