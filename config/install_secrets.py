"""The keys of one installation (token signing, personal-data encryption): generated at the
first use of a data directory and kept there, readable by its owner only — never in the source,
so no one who reads the code can mint a token or open a record of an install on its defaults."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

SECRETS_FILE = "secrets.env"
JWT_SECRET = "JWT_SECRET"
DATA_ENCRYPTION_KEY = "DATA_ENCRYPTION_KEY"
SEAL_VERSION = b"lb-keys-1"


class SealError(ValueError):
    """The sealed keys cannot be opened: wrong passphrase or a damaged file."""


def secrets_path(data_dir: Path) -> Path:
    return data_dir / SECRETS_FILE


def _parse(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs if not k.lstrip().startswith("#")}


def _render(keys: dict[str, str]) -> str:
    header = "# LoanBridge: this data directory's own keys (generated; back them up with it)\n"
    return header + "".join(f"{k}={v}\n" for k, v in sorted(keys.items()))


def write_install_secrets(data_dir: Path, keys: dict[str, str]) -> Path:
    """Write the keys file, readable by its owner only from its creation (the directory keeps
    its mode: the embedded PostgreSQL's own user must still reach its cluster inside)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = secrets_path(data_dir)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(_render(keys))
    os.replace(tmp, path)
    return path


def install_secrets(data_dir: Path) -> dict[str, str]:
    """The data directory's keys, generated and written on its first use."""
    path = secrets_path(data_dir)
    if path.exists():
        keys = _parse(path.read_text(encoding="utf-8"))
        if keys.get(JWT_SECRET) and keys.get(DATA_ENCRYPTION_KEY):
            return keys
    keys = {
        JWT_SECRET: secrets.token_urlsafe(48),
        DATA_ENCRYPTION_KEY: base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    write_install_secrets(data_dir, keys)
    return keys


def _kdf(salt: bytes) -> Scrypt:
    return Scrypt(salt=salt, length=32, n=2**15, r=8, p=1)


def seal_install_secrets(keys: dict[str, str], passphrase: str) -> bytes:
    """The keys sealed for a backup: AES-256-GCM under a key derived from ``passphrase``
    (scrypt, n=2^15), so an archive that leaks does not leak the keys with the data."""
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    body = AESGCM(_kdf(salt).derive(passphrase.encode())).encrypt(
        nonce, _render(keys).encode(), SEAL_VERSION
    )
    return SEAL_VERSION + b"\n" + base64.b64encode(salt + nonce + body) + b"\n"


def open_sealed_secrets(sealed: bytes, passphrase: str) -> dict[str, str]:
    version, _, encoded = sealed.partition(b"\n")
    if version != SEAL_VERSION:
        raise SealError("not a sealed LoanBridge key file")
    raw = base64.b64decode(encoded.strip())
    salt, nonce, body = raw[:16], raw[16:28], raw[28:]
    try:
        text = AESGCM(_kdf(salt).derive(passphrase.encode())).decrypt(nonce, body, SEAL_VERSION)
    except Exception as exc:  # InvalidTag: wrong passphrase or a damaged file
        raise SealError("wrong passphrase, or the sealed keys are damaged") from exc
    return _parse(text.decode())
