"""Local-directory document store: AES-256-GCM encrypted files named by the plaintext's sha256."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from config.crypto import Keyring, aesgcm_decrypt, aesgcm_encrypt
from config.settings import Settings

_DIGEST = re.compile(r"^[0-9a-f]{64}$")


class LocalDocumentStore:
    """Files under ``root/ab/<sha256>``; the digest is the associated data of the encryption."""

    def __init__(self, root: Path, key: bytes) -> None:
        self.root = root
        self.key = key

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalDocumentStore:
        """The store under the configured document directory, with the current data key."""
        return cls(settings.effective_document_dir, Keyring.from_settings(settings).current_key)

    def _path(self, sha256: str) -> Path:
        if not _DIGEST.match(sha256):
            raise KeyError(sha256)
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(digest)
        if path.exists():
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(aesgcm_encrypt(self.key, data, digest.encode()))
        tmp.replace(path)  # atomic: a reader never sees half a file
        return digest

    def get(self, sha256: str) -> bytes:
        path = self._path(sha256)
        if not path.exists():
            raise KeyError(sha256)
        return aesgcm_decrypt(self.key, path.read_bytes(), sha256.encode())

    def delete(self, sha256: str) -> None:
        """Remove a document's file (retention); an already missing file is not an error."""
        self._path(sha256).unlink(missing_ok=True)
