"""Temporal payload encryption (AES-256-GCM codec, encrypted failures) and codec-server bodies."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

from config.crypto import DecryptionError, Keyring, aesgcm_decrypt, aesgcm_encrypt

if TYPE_CHECKING:
    from config.settings import Settings

BASE64 = "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
"""Standard base64 with its padding, as protobuf JSON writes bytes (nothing looser is read)."""
_BASE64 = re.compile(BASE64)
ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
_ASSOCIATED_DATA = b"loanbridge/temporal-payload/v1"


class EncryptionCodec(PayloadCodec):
    """Encrypts each whole serialised Payload; decodes with the key named in its metadata."""

    def __init__(self, keys: Mapping[str, bytes], current_key_id: str) -> None:
        self.keyring = Keyring(keys, current_key_id)

    @classmethod
    def from_settings(cls, settings: Settings) -> EncryptionCodec:
        keyring = Keyring.from_settings(settings)
        return cls({keyring.current_key_id: keyring.current_key}, keyring.current_key_id)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        key_id = self.keyring.current_key_id
        key = self.keyring.current_key
        return [
            Payload(
                metadata={"encoding": ENCODING, KEY_ID_METADATA: key_id.encode("ascii")},
                data=aesgcm_encrypt(key, payload.SerializeToString(), _ASSOCIATED_DATA),
            )
            for payload in payloads
        ]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._decode_one(payload) for payload in payloads]

    def _decode_one(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        raw_key_id = payload.metadata.get(KEY_ID_METADATA)
        if raw_key_id is None:
            raise DecryptionError(f"encrypted payload has no {KEY_ID_METADATA} metadata")
        key = self.keyring.key(raw_key_id.decode("ascii", errors="replace"))
        decoded = Payload()
        decoded.ParseFromString(aesgcm_decrypt(key, payload.data, _ASSOCIATED_DATA))
        return decoded


def data_converter(keys: Mapping[str, bytes], current_key_id: str) -> DataConverter:
    """The pydantic converter with encrypted payloads and encrypted failure messages/traces."""
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=EncryptionCodec(keys, current_key_id),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def data_converter_from_settings(settings: Settings) -> DataConverter:
    """data_converter for DATA_ENCRYPTION_KEY under DATA_ENCRYPTION_KEY_ID."""
    keyring = Keyring.from_settings(settings)
    return data_converter({keyring.current_key_id: keyring.current_key}, keyring.current_key_id)


def payloads_from_json(body: Mapping[str, Any]) -> list[Payload]:
    """Payloads of a codec-server body `{"payloads": [{"metadata": {k: b64}, "data": b64}]}`
    (metadata and data may be null or left out; other members are ignored)."""
    items = body.get("payloads")
    if not isinstance(items, list):
        raise ValueError('codec body must have a "payloads" list')
    payloads = []
    for item in items:
        if not isinstance(item, Mapping):
            raise ValueError("each payload must be an object")
        metadata = item.get("metadata")
        if metadata is None:
            metadata = {}
        if not isinstance(metadata, Mapping):
            raise ValueError("payload metadata must be an object")
        data = item.get("data")
        payloads.append(
            Payload(
                metadata={str(k): _b64decode(v) for k, v in metadata.items()},
                data=b"" if data is None else _b64decode(data),
            )
        )
    return payloads


def payloads_to_json(payloads: Sequence[Payload]) -> dict[str, Any]:
    """The codec-server body for these payloads (standard base64, like protobuf JSON)."""
    return {
        "payloads": [
            {
                "metadata": {k: _b64encode(v) for k, v in payload.metadata.items()},
                "data": _b64encode(payload.data),
            }
            for payload in payloads
        ]
    }


async def decode_payloads_json(codec: PayloadCodec, body: Mapping[str, Any]) -> dict[str, Any]:
    """The `/codec/decode` response body for a request body (Temporal codec server protocol)."""
    return payloads_to_json(await codec.decode(payloads_from_json(body)))


async def encode_payloads_json(codec: PayloadCodec, body: Mapping[str, Any]) -> dict[str, Any]:
    """The `/codec/encode` response body for a request body (Temporal codec server protocol)."""
    return payloads_to_json(await codec.encode(payloads_from_json(body)))


def _b64encode(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _b64decode(value: object) -> bytes:
    if not isinstance(value, str):
        raise ValueError("payload fields must be base64 strings")
    if not _BASE64.fullmatch(value):
        raise ValueError("payload field is not standard base64")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("payload field is not valid base64") from None
