"""The kiosk's printing desk: draws slips and sends them through the durable print queue.

Everything here is slow (font shaping, QR pictures, a printer that may take seconds to answer),
so it runs on the printer worker thread only. A coupon is already issued in the database when
it reaches this desk; a slip that fails stays pending in the spool until it is retried or
reprinted from the staff console.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path

from kiosk.devices import slips
from kiosk.devices.layout import QR, Gap, Row, Rule, Slip, Text, render
from kiosk.devices.print_queue import PrintJob, PrintQueue, PrintResult
from kiosk.devices.printer import Printer, PrinterStatus
from kiosk.loyalty.accounts import MemberSummary
from kiosk.loyalty.claims import ClaimResult
from kiosk.loyalty.programme import Programme
from kiosk.loyalty.redemption import CouponView


class PrintDesk:
    def __init__(self, printer: Printer, spool: Path, programme: Programme, *,
                 on_coupon_printed: Callable[[str], None] | None = None) -> None:
        self.printer = printer
        self.programme = programme
        self._on_coupon_printed = on_coupon_printed
        self.queue = PrintQueue(spool, printer, on_printed=self._printed)

    def coupon(self, coupon: CouponView, lang: str) -> PrintResult:
        return self._submit(slips.coupon_slip(coupon, self.programme, lang=lang))

    def member(self, member: MemberSummary, claim: ClaimResult | None, lang: str) -> PrintResult:
        return self._submit(slips.member_slip(member, self.programme, claim=claim, lang=lang))

    def report(self, day: date, figures: Mapping[str, int], branch: str,
               lang: str) -> PrintResult:
        return self._submit(slips.report_slip(day, figures, branch=branch, lang=lang))

    def test(self) -> PrintResult:
        """A short slip with Thai text and a QR: what staff print after changing the roll."""
        blocks = (Text("ทดสอบเครื่องพิมพ์ / Printer test", size="large", bold=True,
                       align="center"),
                  Text("ภาษาไทย: กี่ ปั๊ม น้ำ ผู้ใหญ่ ฤๅษี", align="center"), Rule(),
                  Row("Printer", self.printer.address), Row("Paper", self.printer.paper.label),
                  Gap(8), QR("printer-test"), Gap(8))
        return self._submit(Slip("test", "printer", blocks))

    def status(self) -> PrinterStatus:
        return self.printer.status()

    def pending(self) -> list[PrintJob]:
        return self.queue.pending()

    def retry_all(self) -> list[PrintResult]:
        return self.queue.retry_all()

    def reprint_coupon(self, coupon: CouponView, lang: str) -> PrintResult:
        """A coupon that failed to print goes from the spool (so it is never printed twice by
        the next retry); one that printed before is drawn again from the database."""
        waiting = [job for job in self.queue.pending()
                   if job.slip.kind == "coupon" and job.slip.ref == coupon.code]
        if waiting:
            return self.queue.reprint(waiting[0].id)
        return self.coupon(coupon, lang)

    def _submit(self, slip: Slip) -> PrintResult:
        return self.queue.submit(render(slip, self.printer.paper))

    def _printed(self, job: PrintJob) -> None:
        if job.slip.kind == "coupon" and self._on_coupon_printed is not None:
            self._on_coupon_printed(job.slip.ref)
