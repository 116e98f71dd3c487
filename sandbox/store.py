"""Durable sandbox state in SQLite: the core bank's payments and the SMS and mail outboxes."""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS payments (
    idempotency_key    TEXT PRIMARY KEY,
    fingerprint        TEXT NOT NULL,
    direction          TEXT NOT NULL,
    amount             TEXT NOT NULL,
    currency           TEXT NOT NULL,
    account            TEXT NOT NULL,
    reference          TEXT NOT NULL,
    status             TEXT NOT NULL,
    failure_code       TEXT,
    provider_reference TEXT NOT NULL UNIQUE,
    created_at         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS payments_reference ON payments (reference);
CREATE TABLE IF NOT EXISTS sms_messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient  TEXT NOT NULL,
    text       TEXT NOT NULL,
    template   TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sms_messages_recipient ON sms_messages (recipient);
CREATE TABLE IF NOT EXISTS mail_messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    mail_from   TEXT NOT NULL,
    recipients  TEXT NOT NULL,
    subject     TEXT NOT NULL,
    text        TEXT NOT NULL,
    received_at TEXT NOT NULL
);
"""

_PAYMENT_SELECT = """
SELECT idempotency_key, fingerprint, direction, amount, currency, account, reference, status,
       failure_code, provider_reference, created_at
FROM payments
"""
_PAYMENT_INSERT = """
INSERT INTO payments (idempotency_key, fingerprint, direction, amount, currency, account,
                      reference, status, failure_code, provider_reference, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (idempotency_key) DO NOTHING
"""


def utc_now() -> str:
    """The current UTC time as an ISO-8601 string with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    """One payment the simulated core bank executed (or refused), keyed by idempotency key."""

    idempotency_key: str
    fingerprint: str
    direction: str
    amount: Decimal
    currency: str
    account: str
    reference: str
    status: str
    failure_code: str | None
    provider_reference: str
    created_at: str


@dataclass(frozen=True, slots=True)
class SmsRecord:
    """One text message the SMS gateway accepted."""

    id: int
    recipient: str
    text: str
    template: str | None
    created_at: str


@dataclass(frozen=True, slots=True)
class MailRecord:
    """One mail the SMTP sink received."""

    id: int
    mail_from: str
    recipients: tuple[str, ...]
    subject: str
    text: str
    received_at: str


def _payment(row: tuple[Any, ...]) -> PaymentRecord:
    return PaymentRecord(
        idempotency_key=row[0],
        fingerprint=row[1],
        direction=row[2],
        amount=Decimal(row[3]),
        currency=row[4],
        account=row[5],
        reference=row[6],
        status=row[7],
        failure_code=row[8],
        provider_reference=row[9],
        created_at=row[10],
    )


def _mail(row: tuple[Any, ...]) -> MailRecord:
    return MailRecord(
        id=row[0],
        mail_from=row[1],
        recipients=tuple(json.loads(row[2])),
        subject=row[3],
        text=row[4],
        received_at=row[5],
    )


class StateStore:
    """A thread-safe SQLite store; every call is one short statement or two under one lock.

    The primary key on `payments.idempotency_key` is what makes a double payment impossible,
    also when several sandbox processes share one state file; the lock only serialises this
    process's use of its single connection.
    """

    def __init__(self, path: str) -> None:
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(
            path, check_same_thread=False, isolation_level=None, timeout=10.0
        )
        if path != ":memory:":
            self._conn.execute("PRAGMA journal_mode=WAL")
            # A payment the bank acknowledged must survive a crash of the sandbox process.
            self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        """Release the connection."""
        with self._lock:
            self._conn.close()

    def record_payment(self, payment: PaymentRecord) -> tuple[PaymentRecord, bool]:
        """Insert the payment unless its key exists; return the stored one and whether it is new."""
        with self._lock:
            cursor = self._conn.execute(
                _PAYMENT_INSERT,
                (
                    payment.idempotency_key,
                    payment.fingerprint,
                    payment.direction,
                    str(payment.amount),
                    payment.currency,
                    payment.account,
                    payment.reference,
                    payment.status,
                    payment.failure_code,
                    payment.provider_reference,
                    payment.created_at,
                ),
            )
            created = cursor.rowcount == 1
            row = self._conn.execute(
                _PAYMENT_SELECT + "WHERE idempotency_key = ?",
                (payment.idempotency_key,),
            ).fetchone()
        return _payment(row), created

    def get_payment(self, idempotency_key: str) -> PaymentRecord | None:
        """The payment made under this key, if any."""
        with self._lock:
            row = self._conn.execute(
                _PAYMENT_SELECT + "WHERE idempotency_key = ?",
                (idempotency_key,),
            ).fetchone()
        return None if row is None else _payment(row)

    def list_payments(self, reference: str | None, limit: int) -> list[PaymentRecord]:
        """Payments in the order they were made, optionally only those for one reference."""
        with self._lock:
            rows = self._conn.execute(
                _PAYMENT_SELECT
                + "WHERE (?1 IS NULL OR reference = ?1) ORDER BY created_at, rowid LIMIT ?2",
                (reference, limit),
            ).fetchall()
        return [_payment(r) for r in rows]

    def add_sms(self, recipient: str, text: str, template: str | None) -> SmsRecord:
        """Put a message into the SMS outbox."""
        created_at = utc_now()
        with self._lock:
            cursor = self._conn.execute(
                "INSERT INTO sms_messages (recipient, text, template, created_at)"
                " VALUES (?, ?, ?, ?)",
                (recipient, text, template, created_at),
            )
            message_id = cursor.lastrowid
        assert message_id is not None
        return SmsRecord(message_id, recipient, text, template, created_at)

    def list_sms(self, recipient: str | None, limit: int) -> list[SmsRecord]:
        """The latest ``limit`` messages of the SMS outbox, oldest first, optionally for one
        recipient (the latest: a code just sent is there however long the sandbox has run)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT * FROM (SELECT id, recipient, text, template, created_at FROM sms_messages"
                " WHERE (?1 IS NULL OR recipient = ?1) ORDER BY id DESC LIMIT ?2) ORDER BY id",
                (recipient, limit),
            ).fetchall()
        return [SmsRecord(*r) for r in rows]

    def add_mail(
        self, mail_from: str, recipients: tuple[str, ...], subject: str, text: str
    ) -> MailRecord:
        """Put a received mail into the mail outbox."""
        received_at = utc_now()
        with self._lock:
            cursor = self._conn.execute(
                "INSERT INTO mail_messages (mail_from, recipients, subject, text, received_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (mail_from, json.dumps(list(recipients)), subject, text, received_at),
            )
            mail_id = cursor.lastrowid
        assert mail_id is not None
        return MailRecord(mail_id, mail_from, recipients, subject, text, received_at)

    def list_mail(self, recipient: str | None, limit: int) -> list[MailRecord]:
        """Received mail, oldest first, optionally only mail addressed to one recipient."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, mail_from, recipients, subject, text, received_at"
                " FROM mail_messages ORDER BY id"
            ).fetchall()
        mails = [_mail(r) for r in rows]
        if recipient is not None:
            wanted = recipient.lower()
            mails = [m for m in mails if any(r.lower() == wanted for r in m.recipients)]
        return mails[:limit]
