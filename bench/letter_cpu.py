"""CPU-seconds per offer letter: ``python -m bench.letter_cpu [--renders N] [--profile]``.

Renders the offer letter of a 36-month loan (six preview rows, the last one, a fee) a few times
to warm up (templates, fonts, stylesheet), then ``--renders`` more, and prints the CPU time of
this process per letter (``time.process_time``: user + system, whatever else runs on the
machine) and the letter's SHA-256 (the same every time: rendering is deterministic).
``--fresh-styles`` parses the stylesheet (and loads its fonts) again for every letter, as
before they were kept per process; ``--profile`` prints the functions with the most time.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import pstats
import time
from datetime import date, timedelta
from decimal import Decimal

from documents import pdf
from documents.loan_documents import LoanTermsView, render_offer_letter
from domain.apr import apr_for_schedule
from domain.schedule import RepaymentMethod, ScheduleRequest, build_schedule


def sample_terms(
    amount: Decimal = Decimal("500000.00"),
    rate: Decimal = Decimal("0.0435"),
    term_months: int = 36,
    fee: Decimal = Decimal("1000.00"),
    issued_on: date = date(2026, 12, 8),
) -> LoanTermsView:
    """An offer with an upfront fee, by default over 36 months (¥500,000 at 4.35 %)."""
    schedule = build_schedule(
        ScheduleRequest(
            principal=amount,
            annual_rate=rate,
            term_periods=term_months,
            method=RepaymentMethod.EQUAL_INSTALLMENT,
            start_date=issued_on,
        )
    )
    return LoanTermsView(
        reference="LB-0123456789AB",
        borrower_name="杭州云桥科技有限公司",
        masked_uscc="9133********4D5E",
        institution_name="杭州联合农村商业银行",
        product_name="科创贷 Tech Loan",
        amount=amount,
        annual_rate=rate,
        apr=apr_for_schedule(amount, schedule, fee),
        term_months=term_months,
        method_label="等额本息 Equal installment",
        issued_on=issued_on,
        expires_on=issued_on + timedelta(days=7),
        schedule=schedule,
        upfront_fee=fee,
    )


def _render(terms: LoanTermsView, fresh_styles: bool) -> bytes:
    if fresh_styles:
        pdf._local.styles = None
    return render_offer_letter(terms)


def cpu_per_letter(
    renders: int, warm_up: int = 3, *, fresh_styles: bool = False
) -> tuple[float, str]:
    """CPU-seconds per letter over ``renders`` renders after ``warm_up``, and the SHA-256."""
    terms = sample_terms()
    for _ in range(warm_up):
        _render(terms, fresh_styles)
    started = time.process_time()
    digests = {hashlib.sha256(_render(terms, fresh_styles)).hexdigest() for _ in range(renders)}
    spent = time.process_time() - started
    assert len(digests) == 1, "the same terms rendered to different bytes"
    return spent / renders, digests.pop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--renders", type=int, default=20)
    parser.add_argument("--fresh-styles", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if args.profile:
        render_offer_letter(sample_terms())
        profiler = cProfile.Profile()
        profiler.enable()
        cpu_per_letter(args.renders, warm_up=0, fresh_styles=args.fresh_styles)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return
    first = time.process_time()
    render_offer_letter(sample_terms())
    cold = time.process_time() - first
    per_letter, digest = cpu_per_letter(args.renders, fresh_styles=args.fresh_styles)
    print(f"first letter (cold, fonts and stylesheet loaded): {cold:.3f} CPU-s")
    print(f"per letter over {args.renders} renders after warm-up: {per_letter:.3f} CPU-s")
    print(f"SHA-256 {digest}")


if __name__ == "__main__":
    main()
