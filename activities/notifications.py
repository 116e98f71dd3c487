"""Tell an enterprise something: SMS in Chinese, e-mail in both languages, an in-app message."""

from __future__ import annotations

import uuid

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.applications import disbursement_key
from adapters.notification.protocol import EmailSender, OutgoingEmail, OutgoingSms, SmsGateway
from db.models import Loan, Notification, PaymentInstruction
from db.repositories import EnterpriseRepository
from documents.notifications import render_notification

log = structlog.get_logger("loanbridge.notifications")


class EnterpriseNotifier:
    """Sends a notice at most once per delivery key (the in-app row marks delivery)."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        sms: SmsGateway,
        email: EmailSender | None,
    ) -> None:
        self.session_factory = session_factory
        self.sms = sms
        self.email = email

    async def notify(
        self, enterprise_id: uuid.UUID, template: str, context: dict[str, object], key: str
    ) -> bool:
        """Deliver unless already delivered under ``key``; True when sent now."""
        async with self.session_factory() as session, session.begin():
            if await session.scalar(
                select(Notification.id).where(Notification.delivery_key == key)
            ):
                return False
            enterprise = await EnterpriseRepository(session).get(enterprise_id)
            if enterprise is None:
                return False
            full = {"enterprise_name": enterprise.name, **context}
            if template == "loan_disbursed":
                full |= await _disbursed(session, context)
            zh = render_notification(template, "zh", full)
            en = render_notification(template, "en", full)
            channels = ["in_app"]
            await self.sms.send_sms(
                OutgoingSms(to=enterprise.mobile, text=zh.text, template=template)
            )
            channels.append("sms")
            if self.email is not None and enterprise.email:
                await self.email.send_email(
                    OutgoingEmail(
                        to=(enterprise.email,),
                        subject=f"{zh.subject} / {en.subject}",
                        text=f"{zh.text}\n\n{en.text}",
                    )
                )
                channels.append("email")
            session.add(
                Notification(
                    enterprise_id=enterprise.id,
                    template=template,
                    subject=zh.subject,
                    body=zh.text,
                    subject_en=en.subject,
                    body_en=en.text,
                    channels=",".join(channels),
                    delivery_key=key,
                )
            )
        log.info("enterprise notified", template=template, channels=channels)
        return True


async def _disbursed(session: AsyncSession, context: dict[str, object]) -> dict[str, object]:
    """What the borrower actually received and where: the paid instruction's amount (the
    principal less the upfront fee) and the last four digits of the account it went to."""
    raw = context.get("loan_id")
    if not raw:
        return {}  # a notice scheduled before the workflow named its loan: as it was given
    loan = await session.get(Loan, uuid.UUID(str(raw)))
    paid = await session.scalar(
        select(PaymentInstruction.amount).where(
            PaymentInstruction.idempotency_key == disbursement_key(uuid.UUID(str(raw))),
            PaymentInstruction.status == "succeeded",
        )
    )
    if loan is None or paid is None:
        return {}
    digits = "".join(ch for ch in loan.account if ch.isdigit())
    return {
        "amount": str(paid),
        "principal": str(loan.principal),
        "fee": str(loan.principal - paid),
        "account_tail": digits[-4:] if len(digits) >= 4 else "****",
    }
