"""Port of the document store: put bytes, get them back by their sha256."""

from __future__ import annotations

from typing import Protocol


class DocumentStore(Protocol):
    """Content-addressed storage; the same bytes are stored once."""

    def put(self, data: bytes) -> str:
        """Store the bytes (idempotent) and return their sha256 hex digest."""
        ...

    def get(self, sha256: str) -> bytes:
        """The bytes stored under this digest; KeyError when absent."""
        ...
