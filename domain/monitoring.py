"""Transaction monitoring rules (反洗钱 / 反欺诈) over disbursements and repayments, as pure
functions of plain rows with configurable thresholds, and the life cycle of an alert.

Rules (each returns ``Finding``s with a stable ``dedupe_key``, so a rerun raises nothing twice):

- ``loan_cycling``: repayments within ``cycling_days`` of the disbursement reaching
  ``cycling_share`` of the principal — money borrowed and sent straight back (倒贷).
- ``structuring``: ``structuring_count`` or more repayments of one enterprise within
  ``structuring_days``, each just under ``structuring_threshold`` (within
  ``structuring_margin`` of it) — splitting to stay under a reporting threshold (拆分交易).
- ``third_party``: repayments from an account other than the borrower's own (compared by
  keyed hashes) — someone else servicing the debt (第三方代还).
- ``related_parties``: enterprises sharing a legal representative, a mobile number or a
  paying account (keyed hashes, never decrypted), at least one of them a borrower (关联方).
- ``concentration``: one enterprise or related group holding more than
  ``concentration_share`` of an institution's outstanding balance (集中度).

Alerts move open → investigating → closed (a note is required to close); closed is final.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from domain.errors import BusinessRuleError, issue
from domain.labels import Vocabulary, label


class MovementKind(StrEnum):
    DISBURSEMENT = "disbursement"
    REPAYMENT = "repayment"


class Rule(StrEnum):
    LOAN_CYCLING = "loan_cycling"
    STRUCTURING = "structuring"
    THIRD_PARTY = "third_party"
    RELATED_PARTIES = "related_parties"
    CONCENTRATION = "concentration"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True, slots=True)
class MonitoringThresholds:
    """Configurable thresholds of the rules (defaults documented in the README)."""

    cycling_days: int = 7
    cycling_share: Decimal = Decimal("0.50")
    # PBoC large-value cash reporting threshold (大额交易报告, ¥50,000).
    structuring_threshold: Decimal = Decimal("50000.00")
    structuring_margin: Decimal = Decimal("0.10")
    structuring_count: int = 3
    structuring_days: int = 7
    related_min_enterprises: int = 2
    concentration_share: Decimal = Decimal("0.25")
    concentration_min_loans: int = 5


@dataclass(frozen=True, slots=True)
class Movement:
    """A disbursement or a repayment of one loan; repayments carry the keyed hashes of the
    payer's and the borrower's accounts when known."""

    kind: MovementKind
    loan_id: str
    enterprise_id: str
    institution_id: str
    amount: Decimal
    on: date
    principal: Decimal
    key: str = ""
    payer_hash: str | None = None
    borrower_hash: str | None = None


@dataclass(frozen=True, slots=True)
class LinkKey:
    """A keyed hash that ties an enterprise to others holding the same value."""

    enterprise_id: str
    kind: str  # legal_representative, mobile, payer_account
    value_hash: str


@dataclass(frozen=True, slots=True)
class Exposure:
    """One active loan's outstanding principal at an institution."""

    loan_id: str
    enterprise_id: str
    institution_id: str
    balance: Decimal


@dataclass(frozen=True, slots=True)
class Finding:
    """What a rule found: becomes an alert unless one with the same key exists."""

    rule: Rule
    dedupe_key: str
    severity: Severity
    summary_zh: str
    summary_en: str
    details: dict[str, str]
    enterprise_id: str | None = None
    institution_id: str | None = None
    loan_id: str | None = None


def _repayments(movements: Iterable[Movement]) -> list[Movement]:
    return [m for m in movements if m.kind is MovementKind.REPAYMENT]


def loan_cycling(movements: Sequence[Movement], t: MonitoringThresholds) -> list[Finding]:
    findings = []
    repaid: dict[str, list[Movement]] = defaultdict(list)
    for m in _repayments(movements):
        repaid[m.loan_id].append(m)
    for d in movements:
        if d.kind is not MovementKind.DISBURSEMENT:
            continue
        soon = [
            r
            for r in repaid.get(d.loan_id, [])
            if d.on <= r.on <= d.on + timedelta(days=t.cycling_days)
        ]
        back = sum((r.amount for r in soon), Decimal("0.00"))
        if soon and back >= d.amount * t.cycling_share:
            days = max((r.on - d.on).days for r in soon)
            findings.append(
                Finding(
                    rule=Rule.LOAN_CYCLING,
                    dedupe_key=f"{Rule.LOAN_CYCLING}:{d.loan_id}",
                    severity=Severity.HIGH,
                    summary_zh=f"放款后{days}天内还款{back}元，占本金{d.amount}元的比例过高",
                    summary_en=f"{back} repaid within {days} days of disbursing {d.amount}",
                    details={
                        "disbursed": str(d.amount),
                        "disbursed_on": d.on.isoformat(),
                        "repaid": str(back),
                        "repayments": str(len(soon)),
                        "within_days": str(days),
                    },
                    enterprise_id=d.enterprise_id,
                    institution_id=d.institution_id,
                    loan_id=d.loan_id,
                )
            )
    return findings


def structuring(movements: Sequence[Movement], t: MonitoringThresholds) -> list[Finding]:
    floor = t.structuring_threshold * (1 - t.structuring_margin)
    near: dict[str, list[Movement]] = defaultdict(list)
    for m in _repayments(movements):
        if floor <= m.amount < t.structuring_threshold:
            near[m.enterprise_id].append(m)
    findings = []
    for enterprise_id, payments in sorted(near.items()):
        payments.sort(key=lambda m: (m.on, m.key))
        i = 0
        while i < len(payments):
            window = [
                p
                for p in payments[i:]
                if p.on < payments[i].on + timedelta(days=t.structuring_days)
            ]
            if len(window) < t.structuring_count:
                i += 1
                continue
            total = sum((p.amount for p in window), Decimal("0.00"))
            first = window[0]
            findings.append(
                Finding(
                    rule=Rule.STRUCTURING,
                    dedupe_key=f"{Rule.STRUCTURING}:{enterprise_id}:{first.on.isoformat()}",
                    severity=Severity.MEDIUM,
                    summary_zh=(
                        f"{t.structuring_days}天内{len(window)}笔略低于"
                        f"{t.structuring_threshold}元的还款，合计{total}元"
                    ),
                    summary_en=(
                        f"{len(window)} repayments just under {t.structuring_threshold} "
                        f"within {t.structuring_days} days, {total} in total"
                    ),
                    details={
                        "payments": str(len(window)),
                        "total": str(total),
                        "from": first.on.isoformat(),
                        "to": window[-1].on.isoformat(),
                        "threshold": str(t.structuring_threshold),
                        "loans": ",".join(sorted({p.loan_id for p in window})),
                    },
                    enterprise_id=enterprise_id,
                    institution_id=first.institution_id,
                )
            )
            i += len(window)
    return findings


def third_party(movements: Sequence[Movement], t: MonitoringThresholds) -> list[Finding]:
    del t  # no threshold: any repayment from someone else's account is worth a look
    by_payer: dict[tuple[str, str], list[Movement]] = defaultdict(list)
    for m in _repayments(movements):
        if m.payer_hash and m.borrower_hash and m.payer_hash != m.borrower_hash:
            by_payer[(m.loan_id, m.payer_hash)].append(m)
    findings = []
    for (loan_id, payer), payments in sorted(by_payer.items()):
        total = sum((p.amount for p in payments), Decimal("0.00"))
        first = payments[0]
        findings.append(
            Finding(
                rule=Rule.THIRD_PARTY,
                dedupe_key=f"{Rule.THIRD_PARTY}:{loan_id}:{payer[:16]}",
                severity=Severity.MEDIUM,
                summary_zh=f"{len(payments)}笔还款（{total}元）来自借款人以外的账户",
                summary_en=(
                    f"{len(payments)} repayments ({total}) from an account not the borrower's"
                ),
                details={
                    "payments": str(len(payments)),
                    "total": str(total),
                    "payer_ref": payer[:16],
                    "keys": ",".join(sorted(p.key for p in payments)),
                },
                enterprise_id=first.enterprise_id,
                institution_id=first.institution_id,
                loan_id=loan_id,
            )
        )
    return findings


def related_parties(
    links: Sequence[LinkKey], borrowers: frozenset[str], t: MonitoringThresholds
) -> list[Finding]:
    groups: dict[tuple[str, str], set[str]] = defaultdict(set)
    for link in links:
        if link.value_hash:
            groups[(link.kind, link.value_hash)].add(link.enterprise_id)
    findings = []
    for (kind, value_hash), members in sorted(groups.items()):
        if len(members) < t.related_min_enterprises or not members & borrowers:
            continue
        ordered = sorted(members)
        findings.append(
            Finding(
                rule=Rule.RELATED_PARTIES,
                dedupe_key=f"{Rule.RELATED_PARTIES}:{kind}:{value_hash[:32]}",
                severity=Severity.LOW,
                summary_zh=f"{len(members)}家企业共用同一{_LINK_ZH.get(kind, kind)}",
                summary_en=f"{len(members)} enterprises share one {kind.replace('_', ' ')}",
                details={
                    "link": kind,
                    "enterprises": ",".join(ordered),
                    "borrowers": ",".join(sorted(members & borrowers)),
                },
                enterprise_id=ordered[0],
            )
        )
    return findings


_LINK_ZH = {"legal_representative": "法定代表人", "mobile": "手机号", "payer_account": "还款账户"}


def related_groups(links: Sequence[LinkKey]) -> dict[str, str]:
    """Each enterprise's group representative: enterprises linked by any shared key, directly
    or through others, share the smallest id of their group (union-find)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    first_holder: dict[tuple[str, str], str] = {}
    for link in links:
        if not link.value_hash:
            continue
        find(link.enterprise_id)
        holder = first_holder.setdefault((link.kind, link.value_hash), link.enterprise_id)
        a, b = find(holder), find(link.enterprise_id)
        if a != b:
            parent[max(a, b)] = min(a, b)
    return {x: find(x) for x in parent}


def concentration(
    exposures: Sequence[Exposure],
    links: Sequence[LinkKey],
    as_of: date,
    t: MonitoringThresholds,
) -> list[Finding]:
    group_of = related_groups(links)
    books: dict[str, list[Exposure]] = defaultdict(list)
    for e in exposures:
        if e.balance > 0:
            books[e.institution_id].append(e)
    findings = []
    for institution_id, book in sorted(books.items()):
        total = sum((e.balance for e in book), Decimal("0.00"))
        if len(book) < t.concentration_min_loans or total <= 0:
            continue
        held: dict[str, list[Exposure]] = defaultdict(list)
        for e in book:
            held[group_of.get(e.enterprise_id, e.enterprise_id)].append(e)
        for group, parts in sorted(held.items()):
            balance = sum((e.balance for e in parts), Decimal("0.00"))
            share = (balance / total).quantize(Decimal("0.0001"))
            if share <= t.concentration_share:
                continue
            members = sorted({e.enterprise_id for e in parts})
            findings.append(
                Finding(
                    rule=Rule.CONCENTRATION,
                    dedupe_key=(f"{Rule.CONCENTRATION}:{institution_id}:{group}:{as_of:%Y-%m}"),
                    severity=Severity.HIGH
                    if share > 2 * t.concentration_share
                    else Severity.MEDIUM,
                    summary_zh=f"单一客户（集团）余额{balance}元，占该机构贷款余额的{share:.2%}",
                    summary_en=f"one borrower or group holds {balance}, {share:.2%} of the book",
                    details={
                        "balance": str(balance),
                        "institution_balance": str(total),
                        "share": str(share),
                        "enterprises": ",".join(members),
                        "loans": str(len(parts)),
                    },
                    enterprise_id=members[0],
                    institution_id=institution_id,
                )
            )
    return findings


def run_rules(
    movements: Sequence[Movement],
    links: Sequence[LinkKey],
    exposures: Sequence[Exposure],
    as_of: date,
    t: MonitoringThresholds,
) -> list[Finding]:
    """Every rule over the same rows."""
    borrowers = frozenset(m.enterprise_id for m in movements) | frozenset(
        e.enterprise_id for e in exposures
    )
    return [
        *loan_cycling(movements, t),
        *structuring(movements, t),
        *third_party(movements, t),
        *related_parties(links, borrowers, t),
        *concentration(exposures, links, as_of, t),
    ]


# ---- alert life cycle ----------------------------------------------------------------------


class AlertState(StrEnum):
    OPEN = "open"
    INVESTIGATING = "investigating"
    CLOSED = "closed"


_NEXT = {AlertState.OPEN: AlertState.INVESTIGATING, AlertState.INVESTIGATING: AlertState.CLOSED}


def advance(current: AlertState, target: AlertState, note: str) -> AlertState:
    """The next state of an alert; a wrong step or a close without a note is refused."""
    if _NEXT.get(current) is not target:
        now_zh, now_en = (label(Vocabulary.ALERT_STATE, current, lang) for lang in ("zh", "en"))
        step = _NEXT.get(current)
        then_zh, then_en = "，不能再变更", "; it cannot change any more"
        if step is not None:
            then_zh = f"，下一步只能转为“{label(Vocabulary.ALERT_STATE, step, 'zh')}”"
            then_en = f"; it can only go to “{label(Vocabulary.ALERT_STATE, step, 'en')}” next"
        raise BusinessRuleError(
            [
                issue(
                    "state",
                    "alert.invalid_transition",
                    f"预警当前为“{now_zh}”{then_zh}",
                    f"The alert is “{now_en}”{then_en}",
                )
            ]
        )
    if target is AlertState.CLOSED and not note.strip():
        raise BusinessRuleError(
            [
                issue(
                    "note",
                    "alert.note_required",
                    "关闭预警须填写处理说明",
                    "closing an alert needs a note",
                )
            ]
        )
    return target
