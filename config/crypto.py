"""AES-256-GCM field encryption and keyed lookup hashes for personal data at rest."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import unicodedata
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Dialect, Text
from sqlalchemy.types import TypeDecorator

if TYPE_CHECKING:
    from config.settings import Settings

KEY_BYTES = 32
NONCE_BYTES = 12
TOKEN_VERSION = "v1"
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_LOOKUP_INFO = b"loanbridge/lookup-hash/v1"


class DecryptionError(ValueError):
    """A token or payload cannot be decrypted: malformed, tampered, wrong context or unknown key."""


class Keyring:
    """Data keys by key id plus the id of the current key that new ciphertexts use."""

    def __init__(self, keys: Mapping[str, bytes], current_key_id: str) -> None:
        for key_id, key in keys.items():
            if not _KEY_ID.fullmatch(key_id):
                raise ValueError(f"key id {key_id!r} must match {_KEY_ID.pattern}")
            if len(key) != KEY_BYTES:
                raise ValueError(f"key {key_id!r} must be {KEY_BYTES} bytes, not {len(key)}")
        if current_key_id not in keys:
            raise ValueError(f"current key id {current_key_id!r} is not in the keyring")
        self._keys: Mapping[str, bytes] = MappingProxyType(dict(keys))
        self.current_key_id = current_key_id

    @classmethod
    def from_settings(cls, settings: Settings) -> Keyring:
        """The single key of DATA_ENCRYPTION_KEY under the id DATA_ENCRYPTION_KEY_ID."""
        return cls(
            {settings.data_encryption_key_id: decode_data_key(settings.data_encryption_key)},
            settings.data_encryption_key_id,
        )

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._keys)

    @property
    def current_key(self) -> bytes:
        return self._keys[self.current_key_id]

    def key(self, key_id: str) -> bytes:
        """The key with this id; an unknown id raises DecryptionError."""
        try:
            return self._keys[key_id]
        except KeyError:
            raise DecryptionError(f"unknown encryption key id {key_id!r}") from None


def decode_data_key(value: Any) -> bytes:
    """The 32 raw bytes of a base64 DATA_ENCRYPTION_KEY (str or SecretStr); else ValueError."""
    text = value.get_secret_value() if hasattr(value, "get_secret_value") else value
    if not isinstance(text, str):
        raise ValueError("DATA_ENCRYPTION_KEY must be a base64 string")
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("DATA_ENCRYPTION_KEY is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise ValueError(f"DATA_ENCRYPTION_KEY must be base64 of {KEY_BYTES} bytes, not {len(key)}")
    return key


def aesgcm_encrypt(key: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
    """A random 12-byte nonce followed by the AES-256-GCM ciphertext and tag."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, associated_data)


def aesgcm_decrypt(key: bytes, blob: bytes, associated_data: bytes) -> bytes:
    """Inverse of aesgcm_encrypt; tampering or wrong associated data raises DecryptionError."""
    if len(blob) < NONCE_BYTES + 16:
        raise DecryptionError("ciphertext is too short")
    try:
        return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], associated_data)
    except InvalidTag:
        raise DecryptionError(
            "ciphertext failed authentication (tampered or wrong context)"
        ) from None


def normalise_lookup_value(value: str) -> str:
    """NFKC, no whitespace, case-folded: '1101 0519 4912 3100 2x' matches '11010519491231002X'."""
    return "".join(unicodedata.normalize("NFKC", value).split()).casefold()


class FieldCipher:
    """Encrypts text fields into `v1.<key_id>.<base64url(nonce+ciphertext)>` tokens and back."""

    def __init__(self, keys: Mapping[str, bytes], current_key_id: str) -> None:
        self.keyring = Keyring(keys, current_key_id)
        self._lookup_keys: dict[str, bytes] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> FieldCipher:
        keyring = Keyring.from_settings(settings)
        return cls({keyring.current_key_id: keyring.current_key}, keyring.current_key_id)

    @property
    def current_key_id(self) -> str:
        return self.keyring.current_key_id

    def encrypt(self, plaintext: str, *, context: str) -> str:
        """A fresh token (random nonce) bound to `context`, e.g. 'enterprise.legal_rep_id'."""
        key_id = self.keyring.current_key_id
        blob = aesgcm_encrypt(
            self.keyring.current_key, plaintext.encode("utf-8"), context.encode("utf-8")
        )
        encoded = base64.urlsafe_b64encode(blob).rstrip(b"=").decode("ascii")
        return f"{TOKEN_VERSION}.{key_id}.{encoded}"

    def decrypt(self, token: str, *, context: str) -> str:
        """The plaintext of a token made with any key of the keyring and the same context."""
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != TOKEN_VERSION:
            raise DecryptionError("not a v1 encrypted field token")
        _, key_id, encoded = parts
        key = self.keyring.key(key_id)
        try:
            blob = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError):
            raise DecryptionError("encrypted field token is not valid base64url") from None
        plaintext = aesgcm_decrypt(key, blob, context.encode("utf-8"))
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError:  # pragma: no cover - authenticated data is always ours
            raise DecryptionError("decrypted field is not UTF-8") from None

    def lookup_hash(self, value: str, *, purpose: str) -> str:
        """HMAC-SHA256 hex of the normalised value under an HKDF key for this purpose.

        Uses the current key: rotating the current key changes every lookup hash, so lookup
        columns must be recomputed (decrypt, re-hash) when the key rotates.
        """
        mac_key = self._lookup_key(purpose)
        message = normalise_lookup_value(value).encode("utf-8")
        return hmac.new(mac_key, message, hashlib.sha256).hexdigest()

    def _lookup_key(self, purpose: str) -> bytes:
        cache_key = f"{self.keyring.current_key_id}\x00{purpose}"
        cached = self._lookup_keys.get(cache_key)
        if cached is None:
            cached = HKDF(
                algorithm=hashes.SHA256(),
                length=32,
                salt=None,
                info=_LOOKUP_INFO + b"\x00" + purpose.encode("utf-8"),
            ).derive(self.keyring.current_key)
            self._lookup_keys[cache_key] = cached
        return cached


_field_cipher: FieldCipher | None = None


def configure_field_cipher(cipher: FieldCipher | None) -> None:
    """Set (or with None, clear) the cipher EncryptedText columns use; composition roots call it."""
    global _field_cipher
    _field_cipher = cipher


def field_cipher() -> FieldCipher:
    """The configured cipher; RuntimeError before configure_field_cipher was called."""
    if _field_cipher is None:
        raise RuntimeError(
            "no field cipher configured: call config.crypto.configure_field_cipher("
            "FieldCipher.from_settings(settings)) at start-up before using EncryptedText columns"
        )
    return _field_cipher


class EncryptedText(TypeDecorator[str]):
    """A Text column holding FieldCipher tokens; compare through a lookup-hash column instead."""

    impl = Text
    cache_ok = True

    def __init__(self, context: str) -> None:
        if not context:
            raise ValueError("EncryptedText needs an associated-data context, e.g. 'table.column'")
        super().__init__()
        self.context = context

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return field_cipher().encrypt(value, context=self.context)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return field_cipher().decrypt(str(value), context=self.context)
