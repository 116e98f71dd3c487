"""Field encryption round-trips, resists tampering, rotates keys and hashes lookups per key."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select, text

from config import crypto
from config.crypto import DecryptionError, EncryptedText, FieldCipher
from config.settings import Settings

K1 = bytes(range(32))
K2 = bytes(range(32, 64))
ID_NUMBER = "11010519491231002X"
CONTEXT = "enterprise.legal_rep_id"


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher({"k1": K1}, "k1")


@pytest.fixture
def configured(cipher: FieldCipher) -> Iterator[FieldCipher]:
    before = crypto._field_cipher  # what the process had: later tests read sealed columns
    crypto.configure_field_cipher(cipher)
    yield cipher
    crypto.configure_field_cipher(before)


def _settings(key: str) -> Settings:
    return Settings(data_encryption_key=SecretStr(key), _env_file=None)  # type: ignore[call-arg]


def test_round_trip_and_token_shape(cipher: FieldCipher) -> None:
    token = cipher.encrypt(ID_NUMBER, context=CONTEXT)
    version, key_id, body = token.split(".")
    assert (version, key_id) == ("v1", "k1")
    assert "=" not in body
    assert cipher.decrypt(token, context=CONTEXT) == ID_NUMBER


def test_ciphertext_does_not_contain_plaintext(cipher: FieldCipher) -> None:
    token = cipher.encrypt(ID_NUMBER, context=CONTEXT)
    raw = base64.urlsafe_b64decode(token.split(".")[2] + "==")
    assert ID_NUMBER not in token
    assert ID_NUMBER.encode() not in raw
    assert b"1101051949" not in raw


def test_random_nonce_makes_tokens_differ(cipher: FieldCipher) -> None:
    assert cipher.encrypt(ID_NUMBER, context=CONTEXT) != cipher.encrypt(ID_NUMBER, context=CONTEXT)


def test_tampering_is_detected(cipher: FieldCipher) -> None:
    token = cipher.encrypt(ID_NUMBER, context=CONTEXT)
    prefix, body = token.rsplit(".", 1)
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    raw[-1] ^= 0x01
    tampered = prefix + "." + base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(DecryptionError, match="authentication"):
        cipher.decrypt(tampered, context=CONTEXT)


@pytest.mark.parametrize("token", ["", "v1.k1", "v2.k1.AAAA", "v1.k1.!!!", "v1.k1.AAAA", "plain"])
def test_malformed_tokens_raise_decryption_error(cipher: FieldCipher, token: str) -> None:
    with pytest.raises(DecryptionError):
        cipher.decrypt(token, context=CONTEXT)


def test_wrong_context_is_rejected(cipher: FieldCipher) -> None:
    token = cipher.encrypt(ID_NUMBER, context=CONTEXT)
    with pytest.raises(DecryptionError):
        cipher.decrypt(token, context="enterprise.phone")


def test_unknown_key_id_is_rejected(cipher: FieldCipher) -> None:
    token = FieldCipher({"k9": K2}, "k9").encrypt(ID_NUMBER, context=CONTEXT)
    with pytest.raises(DecryptionError, match="k9"):
        cipher.decrypt(token, context=CONTEXT)


def test_key_rotation_keeps_old_tokens_readable(cipher: FieldCipher) -> None:
    old = cipher.encrypt(ID_NUMBER, context=CONTEXT)
    rotated = FieldCipher({"k1": K1, "k2": K2}, "k2")
    new = rotated.encrypt(ID_NUMBER, context=CONTEXT)
    assert old.split(".")[1] == "k1"
    assert new.split(".")[1] == "k2"
    assert rotated.decrypt(old, context=CONTEXT) == ID_NUMBER
    assert rotated.decrypt(new, context=CONTEXT) == ID_NUMBER
    with pytest.raises(DecryptionError):
        cipher.decrypt(new, context=CONTEXT)


def test_lookup_hash_is_stable_normalised_and_keyed(cipher: FieldCipher) -> None:
    digest = cipher.lookup_hash(ID_NUMBER, purpose="id_number")
    assert len(digest) == 64
    assert int(digest, 16) >= 0
    assert digest == FieldCipher({"k1": K1}, "k1").lookup_hash(ID_NUMBER, purpose="id_number")
    assert digest == cipher.lookup_hash(" 1101 0519 4912 3100 2x ", purpose="id_number")
    assert digest != cipher.lookup_hash(ID_NUMBER, purpose="phone")
    assert digest != FieldCipher({"k2": K2}, "k2").lookup_hash(ID_NUMBER, purpose="id_number")
    assert digest != cipher.lookup_hash("11010519491231002Y", purpose="id_number")


def test_from_settings_uses_the_key_and_id() -> None:
    key = base64.b64encode(K2).decode()
    settings = _settings(key)
    cipher = FieldCipher.from_settings(settings)
    token = cipher.encrypt("x", context="c")
    assert token.startswith("v1.k1.")
    assert FieldCipher({"k1": K2}, "k1").decrypt(token, context="c") == "x"


@pytest.mark.parametrize(
    "key",
    ["not base64!", base64.b64encode(b"short").decode(), base64.b64encode(bytes(33)).decode()],
)
def test_bad_key_setting_names_the_variable(key: str) -> None:
    with pytest.raises(ValueError, match="DATA_ENCRYPTION_KEY"):
        FieldCipher.from_settings(_settings(key))


def test_keyring_validation() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        FieldCipher({"k1": b"short"}, "k1")
    with pytest.raises(ValueError, match="not in the keyring"):
        FieldCipher({"k1": K1}, "k2")
    with pytest.raises(ValueError, match="key id"):
        FieldCipher({"k.1": K1}, "k.1")


@given(st.text(), st.text(min_size=1))
def test_any_text_round_trips(plaintext: str, context: str) -> None:
    cipher = FieldCipher({"k1": K1}, "k1")
    assert cipher.decrypt(cipher.encrypt(plaintext, context=context), context=context) == plaintext


def test_encrypted_text_before_configuration_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crypto, "_field_cipher", None)  # put back after: later tests seal columns
    with pytest.raises(RuntimeError, match="configure_field_cipher"):
        EncryptedText(CONTEXT).process_bind_param(ID_NUMBER, create_engine("sqlite://").dialect)


def test_encrypted_text_column_stores_tokens(configured: FieldCipher) -> None:
    table = Table(
        "enterprise",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("legal_rep_id", EncryptedText(CONTEXT), nullable=True),
    )
    engine = create_engine("sqlite://")
    table.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(table), [{"id": 1, "legal_rep_id": ID_NUMBER}, {"id": 2, "legal_rep_id": None}]
        )
        stored = conn.execute(text("SELECT legal_rep_id FROM enterprise WHERE id = 1")).scalar_one()
        assert stored.startswith("v1.k1.")
        assert ID_NUMBER not in stored
        assert configured.decrypt(stored, context=CONTEXT) == ID_NUMBER
        rows = conn.execute(select(table.c.id, table.c.legal_rep_id).order_by(table.c.id)).all()
    assert [tuple(row) for row in rows] == [(1, ID_NUMBER), (2, None)]
