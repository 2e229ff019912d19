"""Points and coupons at the till, on top of the tap: the receipt hook and the cashier's intents.

Every receipt the tap hands over is masked, parsed and classified on its hook thread
(`pos_bridge.sales`), then stored and acted on by the loyalty worker (`pos_bridge.worker`,
`pos_bridge.records`): points for the member the cashier identified shortly before it printed,
a claim QR for nobody, points taken back for a refund. The footer (`pos_bridge.footer`) shows
the points, balance and masked phone, or the claim QR.

The hook waits for the worker only `footer_wait` seconds, inside the tap's budget. A late answer
costs the footer, never the points: the work finishes on the worker, exactly once (a receipt's
fingerprint earns once). Results and problems reach the cashier as `TillEvent`s, one short
sentence each, for the cashier window and the logs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, TimeoutError as FutureTimeout
from dataclasses import dataclass

from kiosk.errors import KioskError
from kiosk.loyalty import claim_tokens
from kiosk.loyalty.redemption import CouponView
from kiosk.loyalty.service import Loyalty
from kiosk.receipts.model import Receipt
from pos_bridge import footer, records
from pos_bridge.escpos_decode import PrintedReceipt
from pos_bridge.identify import COUPON, MEMBER, ScanError, read_scan
from pos_bridge.records import MemberView, Outcome, TillEvent, Who
from pos_bridge.sales import (
    SALE,
    Sale,
    read_sale,
    sale_from_receipt,
    text_only,
    warm_up_parser,
)
from pos_bridge.worker import LoyaltyWorker

log = logging.getLogger(__name__)
SOMETHING_WRONG = "Something went wrong with points; staff have been notified."


@dataclass(frozen=True)
class TillConfig:
    identify_ttl: float = 180.0  # an identification waits this long for its receipt
    footer_wait: float = 0.2  # the hook's wait for the loyalty answer (the tap allows 0.3 s)
    answer_timeout: float = 5.0  # the cashier's and the API's wait for an answer
    parse_timeout: float = 2.0  # the worker's wait for a receipt's text to be read
    paper_dots: int = footer.PAPER_DOTS
    raster_qr: bool = False  # for printers without the QR command (GS ( k): a 4-12 kB picture
    staff: str = "pos-bridge"  # who the ledger says took points back for a refund


class Till:
    def __init__(self, open_loyalty: Callable[[], Loyalty], *, hq_key: str | None = None,
                 config: TillConfig | None = None) -> None:
        self.config = config or TillConfig()
        self._hq_key = hq_key
        self._open_loyalty = open_loyalty
        self._worker = LoyaltyWorker(self._open)
        self._pending: Who | None = None
        self._listeners: list[Callable[[TillEvent], None]] = []

    def _open(self) -> Loyalty:
        loyalty = self._open_loyalty()
        claim_tokens.install_key(loyalty.store, self._hq_key)
        return loyalty

    def start(self) -> Till:
        footer.warm_up()
        warm_up_parser()
        self._worker.start()
        self._worker.submit(lambda ctx: None)  # open the database now, not at the first sale
        return self

    def stop(self) -> None:
        self._worker.stop()

    def __enter__(self) -> Till:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def subscribe(self, listener: Callable[[TillEvent], None]) -> None:
        """Called on the worker thread for every event: hand over to your own thread quickly."""
        self._listeners.append(listener)

    # the cashier's intents (any thread)

    def scan(self, text: str) -> TillEvent:
        """A scan or an entry from the cashier: identify the member, or use the coupon. Never
        raises; the answer is also published to subscribers."""
        try:
            scan = read_scan(text)
            if scan.kind == COUPON:
                view = self.use_coupon(scan.value)
                event = TillEvent(coupon_sentence(view))
            else:
                member = self.identify(text)
                event = TillEvent(f"{member.phone_masked}: {member.balance:,} points; the next "
                                  "receipt earns points.", member=member)
        except KioskError as exc:
            event = TillEvent(sentence(exc), ok=False)
        except Exception:
            log.exception("scan %r failed", text[:40])
            event = TillEvent(SOMETHING_WRONG, ok=False)
        self._publish(event)
        return event

    def identify(self, text: str) -> MemberView:
        """Phone number or member QR: the member the next sale earns for (for a short while)."""
        scan = read_scan(text)
        if scan.kind == COUPON:
            raise ScanError("That is not a phone number or member QR.")

        def job(ctx: Loyalty) -> MemberView:
            who = records.find_member(ctx, scan.value, by_id=scan.kind == MEMBER)
            who.until = time.monotonic() + self.config.identify_ttl
            self._pending = who
            return who.view

        return self._worker.call(job, self.config.answer_timeout)

    def forget_identification(self) -> None:
        self._worker.call(lambda ctx: setattr(self, "_pending", None), self.config.answer_timeout)

    def member(self, phone: str) -> MemberView:
        return self._worker.call(lambda ctx: MemberView.of(ctx.member(phone)),
                                 self.config.answer_timeout)

    def check_coupon(self, code: str) -> CouponView:
        return self._worker.call(lambda ctx: ctx.check_coupon(code), self.config.answer_timeout)

    def use_coupon(self, code: str) -> CouponView:
        return self._worker.call(lambda ctx: ctx.use_coupon(code), self.config.answer_timeout)

    def award(self, receipt: Receipt, phone: str | None = None) -> Outcome:
        """A receipt from POS software: earns for `phone`, else for the identified member, else
        gets a claim token to print."""
        sale = sale_from_receipt(receipt)

        def job(ctx: Loyalty) -> Outcome:
            outcome = self._record(ctx, sale,
                                   records.find_member(ctx, phone) if phone else None)
            if sale.kind != SALE:
                return Outcome("refused", "The receipt has no total above zero, so it cannot "
                               "earn points.", outcome.receipt_id, refusal="no_total")
            return outcome

        return self._worker.call(job, self.config.answer_timeout)

    # the receipt hook (a fresh thread per receipt)

    def on_receipt(self, printed: PrintedReceipt) -> bytes | None:
        """The tap's hook. The worker takes the receipt in the order the tap handed it over
        (so an identification goes to the sale printed first), while this thread parses it."""
        started = time.monotonic()
        parsed: Future[Sale] = Future()
        future = self._worker.submit(lambda ctx: self._record(ctx, self._parsed(parsed,
                                                                                 printed)))
        try:
            parsed.set_result(read_sale(printed))
        except Exception as exc:
            parsed.set_exception(exc)
        try:
            outcome = future.result(max(0.0, self.config.footer_wait
                                        - (time.monotonic() - started)))
        except FutureTimeout:
            log.warning("receipt of %d lines: the loyalty answer came too late for a footer",
                        len(printed.lines))
            return None
        except Exception:  # already told to the cashier and logged by _record
            return None
        if printed.cut is None:
            return None
        try:
            return self._footer(outcome, printed.cut_feeds)
        except footer.FontMissing as exc:
            log.error("no footer: %s", exc)
            return None

    def _parsed(self, parsed: Future[Sale], printed: PrintedReceipt) -> Sale:
        try:
            return parsed.result(self.config.parse_timeout)
        except Exception as exc:  # a bug, or over parse_timeout: keep the text at least
            log.error("a receipt could not be read (%s); kept as text", exc or "too slow",
                      exc_info=not isinstance(exc, TimeoutError))
            return text_only(printed, "not read")

    def _footer(self, outcome: Outcome, cut_feeds: bool) -> bytes | None:
        width = self.config.paper_dots
        if outcome.status in ("earned", "review") and outcome.member is not None:
            return footer.earned_footer(outcome.member.phone_masked, outcome.points,
                                        outcome.member.balance, cut_feeds=cut_feeds,
                                        pending=outcome.status == "review", width=width)
        if outcome.status == "claim_qr" and outcome.token and outcome.expires:
            return footer.claim_footer(outcome.token, outcome.expires, cut_feeds=cut_feeds,
                                       raster_qr=self.config.raster_qr, width=width)
        return None

    # on the worker thread

    def _record(self, ctx: Loyalty, sale: Sale, who: Who | None = None) -> Outcome:
        """On the worker: a sale without a named member is for the identified one, if any."""
        if sale.kind == SALE:
            who = who or self._take_pending()
        try:
            return records.record(ctx, sale, who, staff=self.config.staff, publish=self._publish)
        except KioskError as exc:
            log.error("receipt %s: %s", sale.receipt.receipt_no or "?", exc)
            self._publish(TillEvent(sentence(exc), ok=False))
            raise
        except Exception:
            log.exception("receipt %s could not be recorded", sale.receipt.receipt_no or "?")
            self._publish(TillEvent(SOMETHING_WRONG, ok=False))
            raise

    def _take_pending(self) -> Who | None:
        who, self._pending = self._pending, None
        if who is not None and time.monotonic() > who.until:
            log.info("identification of %s expired before a receipt printed",
                     who.view.phone_masked)
            return None
        return who

    def _publish(self, event: TillEvent) -> None:
        log.info("till: %s", event.message)
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:
                log.exception("till event listener failed")


def coupon_sentence(view: CouponView) -> str:
    return f"Coupon OK: give {view.reward_en} ({view.reward_th})."




def sentence(exc: BaseException) -> str:
    """A loyalty message as one sentence for the cashier: capital first, full stop last."""
    text = str(exc).strip() or "Something went wrong"
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
