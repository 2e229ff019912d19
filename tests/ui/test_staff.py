"""The staff side: the PIN and its lockout (which a restart does not clear), a coupon that
could not print because the paper ran out and is reprinted from the console, the review queue,
and the day's export."""

from __future__ import annotations

import csv
from pathlib import Path

from kiosk.config import Settings
from kiosk.loyalty.service import Loyalty
from kiosk.ui.pin import MAX_TRIES, PinGuard, hash_pin, verify_pin
from kiosk.ui.session import Step
from tests.ui.conftest import PHONE, PIN, RECEIPT, Kiosk, day_after_receipt


def enter_pin(kiosk: Kiosk, pin: str) -> None:
    screen = kiosk.window.pin
    for key in pin:
        screen.keypad.keys[key].click()
    screen.ok.click()


def test_pin_hash_is_salted_and_checks(tmp_path: Path) -> None:
    first, second = hash_pin("2468"), hash_pin("2468")
    assert first != second and first.startswith("scrypt$")
    assert verify_pin("2468", first) and not verify_pin("2469", first)


def test_lockout_is_kept_in_the_database(tmp_path: Path) -> None:
    clock = day_after_receipt()
    loyalty = Loyalty.open(Settings(db=str(tmp_path / "b.db")), clock=clock)
    guard = PinGuard(loyalty.store, hash_pin(PIN), clock)
    for tries_left in range(MAX_TRIES - 1, 0, -1):
        assert guard.check("0000").tries_left == tries_left
    locked = guard.check("0000")
    assert locked.locked_until is not None and not guard.check(PIN).ok
    loyalty.close()
    again = Loyalty.open(Settings(db=str(tmp_path / "b.db")), clock=clock)
    assert PinGuard(again.store, hash_pin(PIN), clock).locked_until() == locked.locked_until
    clock.advance(minutes=6)
    assert PinGuard(again.store, hash_pin(PIN), clock).check(PIN).ok
    again.close()


def test_wrong_pins_lock_the_console_even_after_a_restart(make_kiosk) -> None:
    clock = day_after_receipt()
    kiosk: Kiosk = make_kiosk(clock=clock)
    kiosk.window.open_staff_pin()
    pin = kiosk.window.pin
    for attempt in range(1, MAX_TRIES + 1):
        enter_pin(kiosk, "1111")
        expected = "staff.pin.wrong" if attempt < MAX_TRIES else "staff.pin.locked"
        kiosk.qtbot.waitUntil(lambda e=expected, a=attempt: pin.message_key == e and (
            e == "staff.pin.locked" or pin.values.get("tries") == MAX_TRIES - a))
    assert kiosk.window.current is pin
    kiosk.close()

    restarted: Kiosk = make_kiosk(clock=clock)  # same database file, new process state
    restarted.window.open_staff_pin()
    pin = restarted.window.pin
    restarted.qtbot.waitUntil(lambda: pin.message_key == "staff.pin.locked")
    enter_pin(restarted, PIN)  # even the right PIN waits for the lock to end
    restarted.qtbot.wait(300)
    restarted.qtbot.waitUntil(lambda: pin.ok.isEnabled())
    assert restarted.window.current is pin and pin.message_key == "staff.pin.locked"

    clock.advance(minutes=6)
    enter_pin(restarted, PIN)
    restarted.qtbot.waitUntil(lambda: restarted.window.current is restarted.window.staff)


def test_paper_out_keeps_the_coupon_and_staff_reprint_it(make_kiosk, tmp_path: Path) -> None:
    clock = day_after_receipt()
    seed = Loyalty.open(Settings(db=str(tmp_path / "branch.db")), clock=clock)
    seed.join(PHONE, consent=True)
    seed.adjust(PHONE, 100, reason="test points", staff="test")
    seed.close()
    kiosk: Kiosk = make_kiosk(printer="faulty", clock=clock)
    printer = kiosk.ctx.parts.printer
    printer.paper_out = True
    kiosk.start(PHONE)
    kiosk.screen("scan").rewards.click()
    rewards = kiosk.screen("rewards")
    kiosk.qtbot.waitUntil(lambda: bool(rewards.rewards))
    rewards._choose(next(r for r in rewards.rewards if r["id"] == "COFFEE"))
    rewards.confirm.click()
    kiosk.qtbot.waitUntil(lambda: rewards.state == "print_failed", timeout=15_000)
    code = kiosk.ctx.session.coupon.code
    assert code in rewards.detail_code.text()  # the shopper sees the code to show staff
    assert kiosk.ctx.session.member.balance == 60  # the points went on the coupon
    assert printer.printed == []

    printer.load_paper()
    kiosk.window.open_staff_pin()
    enter_pin(kiosk, PIN)
    staff = kiosk.window.staff
    kiosk.qtbot.waitUntil(lambda: kiosk.window.current is staff)
    staff.tabs.setCurrentIndex(3)  # coupons
    kiosk.qtbot.waitUntil(lambda: bool(staff.coupons))
    assert staff.coupons[0]["code"] == code and staff.coupons[0]["printed_at"] is None
    staff.buttons["reprint"].click()
    kiosk.qtbot.waitUntil(lambda: [s.ref for s in printer.printed] == [code], timeout=10_000)
    kiosk.qtbot.waitUntil(lambda: bool(staff.coupons and staff.coupons[0]["printed_at"]))
    assert kiosk.ctx.desk.pending() == []  # the failed job was the one printed, not a copy


def test_review_queue_approve_and_export(make_kiosk, tmp_path: Path) -> None:
    kiosk: Kiosk = make_kiosk(camera=f"faulty:{RECEIPT}")
    kiosk.ctx.parts.camera.black = True  # the lens is covered from the start
    kiosk.join(PHONE)
    scan = kiosk.screen("scan")
    kiosk.qtbot.waitUntil(lambda: not scan.view.image.isNull())
    for attempt in (1, 2):
        kiosk.capture_and_fail(attempt)
    scan.type_in.click()
    manual = kiosk.screen("manual")
    manual.values.update(receipt_no="R77", total="250.00")
    manual.send.click()
    assert kiosk.scan_result() == "review"
    kiosk.window.open_staff_pin()
    enter_pin(kiosk, PIN)
    staff = kiosk.window.staff
    review = staff.review
    kiosk.qtbot.waitUntil(lambda: review.current is not None)
    assert review.edits["receipt_no"].text() == "R77"
    review.edits["store"].setText("Test Mart")
    assert review.corrections() == {"store": "Test Mart"}
    review.approve.click()
    kiosk.qtbot.waitUntil(lambda: review.message.text() == kiosk.ctx.t(
        "staff.review.approved", points=10))
    kiosk.qtbot.waitUntil(lambda: review.current is None)

    staff.tabs.setCurrentIndex(1)  # today
    kiosk.qtbot.waitUntil(lambda: staff.figures.get("points_issued") == 10)
    staff.buttons["export"].click()
    kiosk.qtbot.waitUntil(lambda: "kiosk-T01-" in staff.today_note.text())
    path = next((tmp_path / "exports").glob("*.csv"))
    rows = list(csv.DictReader(path.open(encoding="utf-8-sig")))
    assert [r["kind"] for r in rows if r["record"] == "points"] == ["earn"]
    assert all("0812345678" not in v and "+66" not in v for r in rows for v in r.values())
    staff.back.click()
    kiosk.wait_step(Step.ATTRACT)
