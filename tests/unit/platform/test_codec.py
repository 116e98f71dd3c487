"""The Temporal codec encrypts payloads and failures and serves the codec-server JSON protocol."""

from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal

import pytest
from pydantic import BaseModel, SecretStr
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.exceptions import ApplicationError

from config.codec import (
    ENCODING,
    KEY_ID_METADATA,
    EncryptionCodec,
    data_converter,
    data_converter_from_settings,
    decode_payloads_json,
    encode_payloads_json,
)
from config.crypto import DecryptionError
from config.settings import Settings

K1 = bytes(range(32))
K2 = bytes(range(32, 64))
SECRET = "11010519491231002X"


class Application(BaseModel):
    legal_rep_id: str
    amount: Decimal
    requested_on: dt.date


APPLICATION = Application(
    legal_rep_id=SECRET, amount=Decimal("123456.78"), requested_on=dt.date(2025, 3, 14)
)


async def test_round_trip_of_pydantic_payloads_hides_the_plaintext() -> None:
    converter = data_converter({"k1": K1}, "k1")
    encoded = await converter.encode([APPLICATION, Decimal("0.10"), dt.date(2025, 1, 2)])
    assert len(encoded) == 3
    for payload in encoded:
        assert payload.metadata["encoding"] == ENCODING
        assert payload.metadata[KEY_ID_METADATA] == b"k1"
        serialized = payload.SerializeToString()
        for clear in (SECRET.encode(), b"123456.78", b"2025-03-14", b"json/plain"):
            assert clear not in serialized
    decoded = await converter.decode(encoded, [Application, Decimal, dt.date])
    assert decoded == [APPLICATION, Decimal("0.10"), dt.date(2025, 1, 2)]


async def test_unencrypted_payloads_pass_through() -> None:
    codec = EncryptionCodec({"k1": K1}, "k1")
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'"hello"')
    assert await codec.decode([plain]) == [plain]


async def test_rotation_and_unknown_keys() -> None:
    old = await EncryptionCodec({"k1": K1}, "k1").encode([Payload(data=b"x")])
    rotated = EncryptionCodec({"k1": K1, "k2": K2}, "k2")
    new = await rotated.encode([Payload(data=b"y")])
    assert new[0].metadata[KEY_ID_METADATA] == b"k2"
    assert [p.data for p in await rotated.decode([*old, *new])] == [b"x", b"y"]
    with pytest.raises(DecryptionError, match="k2"):
        await EncryptionCodec({"k1": K1}, "k1").decode(new)


async def test_tampered_payload_is_rejected() -> None:
    codec = EncryptionCodec({"k1": K1}, "k1")
    [payload] = await codec.encode([Payload(data=b"x")])
    payload.data = payload.data[:-1] + bytes([payload.data[-1] ^ 1])
    with pytest.raises(DecryptionError):
        await codec.decode([payload])


async def test_failure_message_and_stack_trace_are_encrypted() -> None:
    converter = data_converter({"k1": K1}, "k1")
    try:
        raise ApplicationError(f"secret {SECRET}", type="Rejected")
    except ApplicationError as error:
        failure = Failure()
        await converter.encode_failure(error, failure)
    serialized = failure.SerializeToString()
    assert SECRET.encode() not in serialized
    assert b"test_codec.py" not in serialized  # the stack trace is encrypted too
    assert failure.encoded_attributes.metadata[KEY_ID_METADATA] == b"k1"
    decoded = await converter.decode_failure(failure)
    assert isinstance(decoded, ApplicationError)
    assert SECRET in decoded.message


async def test_data_converter_from_settings_uses_the_settings_key() -> None:
    settings = Settings(
        data_encryption_key=SecretStr(base64.b64encode(K2).decode()),
        data_encryption_key_id="k7",
        _env_file=None,  # type: ignore[call-arg]
    )
    converter = data_converter_from_settings(settings)
    [payload] = await converter.encode([APPLICATION])
    assert payload.metadata[KEY_ID_METADATA] == b"k7"
    assert await converter.decode([payload], [Application]) == [APPLICATION]


async def test_codec_server_bodies_round_trip() -> None:
    codec = EncryptionCodec({"k1": K1}, "k1")
    converter = data_converter({"k1": K1}, "k1")
    [plain] = converter.payload_converter.to_payloads([APPLICATION])
    body = {
        "payloads": [
            {
                "metadata": {"encoding": "anNvbi9wbGFpbg=="},  # json/plain
                "data": base64.b64encode(plain.data).decode(),
            }
        ]
    }
    encoded = await encode_payloads_json(codec, body)
    assert encoded["payloads"][0]["metadata"][KEY_ID_METADATA] == "azE="  # k1
    assert SECRET not in str(encoded)
    assert await decode_payloads_json(codec, encoded) == body
    assert await decode_payloads_json(codec, {"payloads": []}) == {"payloads": []}


@pytest.mark.parametrize(
    "body",
    [{}, {"payloads": "x"}, {"payloads": [1]}, {"payloads": [{"data": "!!"}]}],
)
async def test_codec_server_rejects_malformed_bodies(body: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        await decode_payloads_json(EncryptionCodec({"k1": K1}, "k1"), body)
