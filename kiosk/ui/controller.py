"""The kiosk's one narrow internal API: screens ask it to do things; it runs the work on the
worker lanes, moves the session, and tells screens what happened by signal.

Results for a shopper who has since left (timed out, pressed Done) are dropped: each job
remembers the session generation it was started for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from kiosk.clock import Clock, bangkok_day
from kiosk.devices.camera import Camera
from kiosk.devices.print_queue import PrintResult
from kiosk.devices.printer import Printer
from kiosk.errors import KioskError
from kiosk.loyalty import redemption
from kiosk.loyalty.phone import PhoneError, normalise_phone
from kiosk.loyalty.programme import Programme
from kiosk.loyalty.redemption import RedeemRefused
from kiosk.loyalty.service import Loyalty
from kiosk.ui import jobs
from kiosk.ui.entry import TypedReceipt, phone_problem
from kiosk.ui.i18n import Translator
from kiosk.ui.printing import PrintDesk
from kiosk.ui.session import Session, Step
from kiosk.ui.workers import CameraWorker, Lane, ServiceLane

log = logging.getLogger(__name__)

CAMERA_MODES = {Step.IDENTIFY: "qr", Step.SCAN: "scan"}
SLIP_DELAY_MS = 400


@dataclass
class Parts:
    """Everything the kiosk is made of, chosen by `kiosk run`, the demo or a test."""

    open_loyalty: Callable[[], Loyalty]  # called on the database thread
    programme: Programme
    camera: Camera
    printer: Printer
    data_dir: Path  # receipt photos, print spool, exports
    branch: str
    clock: Clock
    staff_pin_hash: str | None = None
    hq_url: str | None = None
    # Asks HQ about a phone number and applies the answer (database thread, short timeout), so
    # points earned at another branch show at once; None when no HQ is configured.
    ask_hq: Callable[[str], object] | None = None
    idle_seconds: float = 60.0


class KioskController(QObject):
    lang_changed = Signal()
    notice = Signal(str, str)  # screen, translation key (a message for that screen)
    scan_event = Signal(str, object)  # 'reading' | 'problems' | 'parts' | 'ready' | 'failed'
    rewards_ready = Signal(object)
    history_ready = Signal(object)
    redeem_event = Signal(str, object)  # 'working' | 'printed' | 'print_failed' | 'refused'
    slip_event = Signal(bool)  # the member slip after a scan printed (True) or not
    pin_result = Signal(object)  # PinCheck, or None when the check itself failed

    def __init__(self, parts: Parts, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.parts = parts
        self.programme = parts.programme
        self.clock = parts.clock
        self.session = Session(idle_limit=parts.idle_seconds)
        self.t = Translator(self.session.lang)
        self.db = ServiceLane(parts.open_loyalty, self)
        self.ocr = Lane("reader", self)
        self.print_lane = Lane("printer", self)
        self.desk = PrintDesk(parts.printer, parts.data_dir / "spool", parts.programme,
                              on_coupon_printed=self._coupon_printed)
        self.camera = CameraWorker(parts.camera, parent=self)
        self.camera.captured.connect(self._auto_captured)
        self.camera.member_qr.connect(self.identify_member_id)
        self.reading = False
        self.parts_taken: list[Any] | None = None  # frames of a long receipt, top first
        self._lang = self.session.lang
        self.session.subscribe(self._session_changed)

    # Lifecycle
    def start(self) -> None:
        self.camera.start()

    def shutdown(self) -> None:
        self.camera.stop()
        for lane in (self.ocr, self.print_lane):
            lane.wait()
        self.db.close()

    def today(self) -> Any:
        return bangkok_day(self.clock())

    # Session glue
    def _session_changed(self, session: Session) -> None:
        if session.lang != self._lang:
            self._lang = self.t.lang = session.lang
            self.lang_changed.emit()
        if session.step == Step.ATTRACT:
            self.reading, self.parts_taken = False, None
            self.camera.rearm()
        self.camera.set_mode(CAMERA_MODES.get(session.step, "off"))

    def toggle_lang(self) -> None:
        self.session.set_lang("en" if self.session.lang == "th" else "th")

    def _for_shopper(self, fn: Callable[..., None]) -> Callable[..., None]:
        """`fn` only if the same shopper is still here when the result arrives."""
        generation = self.session.generation

        def guarded(*values: Any) -> None:
            if self.session.generation == generation:
                fn(*values)
        return guarded

    def _trouble(self, screen: str) -> Callable[[BaseException], None]:
        def failed(error: BaseException) -> None:
            self.session.release()
            self.notice.emit(screen, "error.kiosk" if isinstance(error, KioskError)
                             else "error.unexpected")
        return self._for_shopper(failed)

    # Identify and consent
    def identify_phone(self, digits: str) -> None:
        problem = phone_problem(digits, finished=True)
        try:
            phone = normalise_phone(digits)
        except PhoneError:
            problem = problem or "phone.invalid"
        if problem:
            self.notice.emit("identify", problem)
            return
        self.session.hold()
        self.db.call(jobs.member_by_phone, phone, self.parts.ask_hq,
                     failed=self._trouble("identify"),
                     done=self._for_shopper(lambda member: self._identified(phone, member)))

    def identify_member_id(self, member_id: str) -> None:
        if self.session.step != Step.IDENTIFY or self.session.busy:
            return
        self.session.hold()

        def found(hit: tuple[str, Any] | None) -> None:
            if hit is None:
                self.session.release()
                self.notice.emit("identify", "qr.unknown")
            else:
                self.camera.wait_for_motion()
                self._identified(*hit)
        self.db.call(jobs.member_by_id, member_id, self.parts.ask_hq,
                     done=self._for_shopper(found),
                     failed=self._trouble("identify"))

    def _identified(self, phone: str, member: Any) -> None:
        self.session.release()
        self.session.identified(phone, member)

    def accept_consent(self) -> None:
        self.session.hold()

        def joined(member: Any) -> None:
            self.session.release()
            self.session.consented(member)
        self.db.call(jobs.consent, self.session.phone, self.session.new_member,
                     done=self._for_shopper(joined), failed=self._trouble("consent"))

    # Scanning
    def _auto_captured(self, frame: Any) -> None:
        if self.session.step == Step.SCAN and not self.reading and self.parts_taken is None:
            self._read([frame])

    def capture(self) -> None:
        """The shopper's own button: this frame now (or the next part of a long receipt)."""
        if self.reading:
            return
        frame = self.camera.latest_frame()
        if frame is None:
            self.scan_event.emit("no_camera", None)
            return
        if self.parts_taken is not None:
            self.parts_taken.append(frame)
            self.scan_event.emit("parts", len(self.parts_taken))
            return
        self._read([frame])

    def start_parts(self) -> None:
        self.parts_taken = []
        self.scan_event.emit("parts", 0)

    def finish_parts(self) -> None:
        frames, self.parts_taken = self.parts_taken or [], None
        if frames:
            self._read(frames)
        else:
            self.scan_event.emit("ready", None)

    def _read(self, frames: list[Any]) -> None:
        self.reading = True
        self.session.hold()
        self.scan_event.emit("reading", None)
        self.ocr.submit(jobs.read_receipt, frames, self.today(),
                        done=self._for_shopper(self._read_done), failed=self._scan_failed())

    def _read_done(self, result: tuple[Any, bytes, str]) -> None:
        receipt, photo, image_hash = result
        problems = jobs.problems_of(receipt)
        retry = bool(problems) and (not jobs.complete(receipt) or not self.session.failed_reads)
        if retry:
            self.reading = False
            self.session.release()
            self.session.read_failed(photo, receipt)
            self.scan_event.emit("problems", problems)
            return
        self._claim(receipt, photo, image_hash)

    def claim_typed(self, typed: TypedReceipt) -> None:
        self.reading = True
        self.session.hold()
        self._claim(typed.to_receipt(self.session.last_read), self.session.photo, None)

    def _claim(self, receipt: Any, photo: bytes | None, image_hash: str | None) -> None:
        self.db.call(jobs.claim, self.session.phone, receipt, photo, image_hash,
                     self.parts.data_dir / "photos", done=self._for_shopper(self._claimed),
                     failed=self._scan_failed())

    def _claimed(self, result: tuple[Any, Any]) -> None:
        outcome, member = result
        self.reading = False
        self.session.release()
        self.session.scanned(outcome, member)
        if outcome.claim is not None:
            # Drawing a slip holds Python's lock in chunks of ~20 ms; starting it once the
            # result screen is on the glass keeps the two from adding up to a visible freeze.
            QTimer.singleShot(SLIP_DELAY_MS, self._for_shopper(
                lambda: self._print_member_slip(member, outcome.claim)))

    def _print_member_slip(self, member: Any, claim: Any) -> None:
        told = self._for_shopper(lambda printed: self.slip_event.emit(printed))
        self.print_lane.submit(self.desk.member, member, claim, self.session.lang,
                               done=lambda result: told(result.printed),
                               failed=lambda _: told(False))

    def _scan_failed(self) -> Callable[[BaseException], None]:
        def failed(error: BaseException) -> None:
            self.reading = False
            self.session.release()
            self.scan_event.emit("failed", "error.kiosk" if isinstance(error, KioskError)
                                 else "error.unexpected")
        return self._for_shopper(failed)

    # Rewards and history
    def load_rewards(self) -> None:
        self.db.call(lambda loyalty: loyalty.rewards(),
                     done=self._for_shopper(lambda rows: self.rewards_ready.emit(rows)),
                     failed=self._trouble("rewards"))

    def load_history(self) -> None:
        member = self.session.member
        if member is not None:
            self.db.call(jobs.activity, member.member_id,
                         done=self._for_shopper(lambda rows: self.history_ready.emit(rows)),
                         failed=self._trouble("history"))

    def redeem(self, reward_id: str) -> None:
        self.session.hold()
        self.redeem_event.emit("working", None)

        def issued(result: tuple[Any, Any]) -> None:
            coupon, member = result
            self.session.redeemed(coupon, member)
            self.print_lane.submit(self.desk.coupon, coupon, self.session.lang,
                                   done=self._for_shopper(lambda r: self._coupon_done(coupon, r)),
                                   failed=self._for_shopper(lambda _: self._coupon_done(coupon,
                                                                                        None)))

        def refused(error: BaseException) -> None:
            self.session.release()
            self.redeem_event.emit("refused", "redeem.refused" if isinstance(
                error, RedeemRefused) else "error.unexpected")
        self.db.call(jobs.redeem, self.session.phone, reward_id, done=self._for_shopper(issued),
                     failed=self._for_shopper(refused))

    def _coupon_done(self, coupon: Any, result: PrintResult | None) -> None:
        self.session.release()
        printed = result is not None and result.printed
        self.redeem_event.emit("printed" if printed else "print_failed", coupon)

    def _coupon_printed(self, code: str) -> None:
        """Runs on the printer thread: the database lane records the print."""
        self.db.call(redemption.mark_printed, code)

    # Staff
    def check_pin(self, pin: str) -> None:
        if not self.parts.staff_pin_hash:
            self.pin_result.emit(None)
            return
        self.db.call(jobs.check_pin, self.parts.staff_pin_hash, pin,
                     done=lambda check: self.pin_result.emit(check),
                     failed=lambda _: self.pin_result.emit(None))

    def pin_lock(self, done: Callable[[Any], None]) -> None:
        if self.parts.staff_pin_hash:
            self.db.call(jobs.pin_locked_until, self.parts.staff_pin_hash, done=done)
