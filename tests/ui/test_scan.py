"""The scan screen when things go wrong: a camera unplugged mid-scan, a receipt scanned twice,
a picture nothing can be read from."""

from __future__ import annotations

from kiosk.devices.reconnect import CameraState
from kiosk.ui.session import Step
from tests.ui.conftest import PHONE, Kiosk


def test_camera_unplugged_mid_scan_says_so_and_recovers(make_kiosk) -> None:
    kiosk: Kiosk = make_kiosk()
    kiosk.join(PHONE)
    scan = kiosk.screen("scan")
    camera = kiosk.ctx.parts.camera  # FaultyCamera around the file camera
    kiosk.qtbot.waitUntil(lambda: not scan.view.image.isNull())
    camera.unplug()
    kiosk.qtbot.waitUntil(lambda: scan.camera_away, timeout=5000)
    assert scan.status_title.text() == kiosk.ctx.t("scan.camera_away.title")
    assert "Traceback" not in scan.status.text() and "CameraError" not in scan.status.text()
    assert not scan.capture.isEnabled() and scan.rewards.isEnabled()
    assert kiosk.ctx.session.step == Step.SCAN  # the shopper is not thrown out

    camera.plug_in()
    kiosk.qtbot.waitUntil(lambda: not scan.camera_away, timeout=10_000)
    assert kiosk.ctx.camera.state == CameraState.CONNECTED
    assert scan.capture.isEnabled()
    assert kiosk.scan_result() in ("earned", "review")  # and scanning works again


def test_a_receipt_scanned_twice_is_kindly_refused(make_kiosk) -> None:
    kiosk: Kiosk = make_kiosk()
    kiosk.join(PHONE)
    assert kiosk.scan_result() == "earned"
    balance = kiosk.ctx.session.member.balance
    result = kiosk.screen("result")
    result.again.click()
    kiosk.wait_step(Step.SCAN)
    scan = kiosk.screen("scan")
    kiosk.qtbot.waitUntil(lambda: not scan.view.image.isNull())
    scan.capture.click()  # the same receipt is still lying there
    assert kiosk.scan_result() == "refused"
    assert kiosk.ctx.session.outcome.refusal == "claimed"
    assert result.headline.text() == "ใบเสร็จนี้สะสมแต้มไปแล้ว"
    assert "ครั้งเดียว" in result.lead.text()
    assert kiosk.ctx.session.member.balance == balance


def test_an_unreadable_picture_gives_instructions_then_typing(make_kiosk) -> None:
    kiosk: Kiosk = make_kiosk()
    kiosk.ctx.parts.camera.black = True  # the lens is covered (so nothing is auto-captured)
    kiosk.join(PHONE)
    scan = kiosk.screen("scan")
    kiosk.qtbot.waitUntil(lambda: not scan.view.image.isNull())
    for attempt in (1, 2):
        kiosk.capture_and_fail(attempt)
        assert kiosk.ctx.t.problem("too_dark") in scan.status.text()
    assert scan.type_in.isVisible()

    scan.type_in.click()
    kiosk.wait_step(Step.MANUAL)
    manual = kiosk.screen("manual")
    manual.send.click()  # nothing typed yet: each field says what is missing
    assert kiosk.ctx.t("manual.bad_number") in manual.message.text()
    manual.fields["receipt_no"].click()
    for key in "R0042":
        manual.keyboards.widget(0).keys[key].click()
    manual.fields["total"].click()
    for key in "99.50":
        manual.keyboards.widget(1).keys[key].click()
    manual.send.click()
    assert kiosk.scan_result() == "review"  # typed receipts always go to staff
    assert "typed_by_hand" in kiosk.ctx.session.outcome.claim.review_reasons


def test_a_long_receipt_is_read_from_its_parts(make_kiosk) -> None:
    kiosk: Kiosk = make_kiosk()
    kiosk.join(PHONE)
    scan = kiosk.screen("scan")
    scan.in_parts.click()  # before the steady picture is taken by itself
    kiosk.qtbot.waitUntil(lambda: not scan.view.image.isNull())
    assert not scan.finish.isVisible()
    for part in (1, 2):
        scan.capture.click()
        kiosk.qtbot.waitUntil(lambda p=part: scan.parts == p)
    assert scan.finish.isVisible()
    assert scan.capture.text() == kiosk.ctx.t("scan.next_part", number=3)
    scan.finish.click()
    assert kiosk.scan_result() in ("earned", "review")
