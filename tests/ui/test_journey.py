"""A new shopper's whole visit with real parts: number, consent, a real receipt photo read by
the real reader through the file camera, points shown, a reward redeemed, the coupon's bytes
on the printer (a QR code and Thai text drawn as a raster picture)."""

from __future__ import annotations

from kiosk.config import Settings
from kiosk.devices.layout import render
from kiosk.devices.slips import member_slip
from kiosk.loyalty.service import Loyalty
from kiosk.store import members
from kiosk.ui.session import Step
from tests.ui.conftest import PHONE, Kiosk, day_after_receipt

GS = b"\x1d"


def test_new_member_scans_earns_redeems_and_the_coupon_prints(make_kiosk) -> None:
    kiosk: Kiosk = make_kiosk(printer="dummy")
    ctx = kiosk.ctx
    kiosk.start(PHONE)
    assert ctx.session.step == Step.CONSENT  # a new number is asked for consent first
    kiosk.screen("consent").accept.click()
    kiosk.wait_step(Step.SCAN)

    assert kiosk.scan_result() == "earned"  # captured by itself once the receipt was still
    claim = ctx.session.outcome.claim
    receipt = ctx.session.outcome.receipt
    assert receipt.store.name == "Lotus's" and str(receipt.total) == "1304.60"
    assert claim.points >= 52  # 1,304.60 THB at 25 THB a point, plus any campaign
    result = kiosk.screen("result")
    assert result.headline.text() == f"+{claim.points} แต้ม"
    shown = "\n".join(kiosk.visible_texts().values())
    assert "Lotus's" in shown and "22 พฤศจิกายน 2567" in shown  # Buddhist-era date
    assert f"แต้มคงเหลือ {claim.balance:,} แต้ม" in shown
    assert "081-xxx-5678" in shown and "081-234-5678" not in shown
    assert "ซื้อครบ 1,000 บาท รับ 50 แต้ม" in shown  # the campaign is named
    kiosk.qtbot.waitUntil(lambda: result.slip_key == "result.slip.printed")

    result.rewards.click()
    kiosk.wait_step(Step.REWARDS)
    rewards = kiosk.screen("rewards")
    kiosk.qtbot.waitUntil(lambda: bool(rewards.rewards))
    coffee = next(r for r in rewards.rewards if r["id"] == "COFFEE")
    rewards._choose(coffee)
    rewards.confirm.click()
    kiosk.qtbot.waitUntil(lambda: rewards.state == "printed", timeout=15_000)

    coupon = ctx.session.coupon
    assert ctx.session.member.balance == claim.balance - coffee["cost"]
    assert coupon.code in rewards.detail_code.text()
    out = ctx.parts.printer.output
    assert GS + b"(k" in out and coupon.code.encode() in out  # the QR code with the code
    assert GS + b"v0" in out  # Thai lines as raster pictures
    kiosk.qtbot.waitUntil(lambda: _printed_at(kiosk, coupon.code) is not None)

    kiosk.window.topbar.done.click()
    kiosk.wait_step(Step.ATTRACT)
    assert ctx.session.phone is None and ctx.session.member is None


def _printed_at(kiosk: Kiosk, code: str) -> str | None:
    found: list[str | None] = []
    kiosk.ctx.db.call(lambda loyalty: loyalty.store.scalar(
        "SELECT printed_at FROM coupons WHERE code = ?", (code,)), done=found.append)
    kiosk.qtbot.waitUntil(lambda: bool(found))
    return found[0]


def test_a_returning_member_skips_consent(make_kiosk) -> None:
    kiosk: Kiosk = make_kiosk()
    kiosk.join(PHONE)
    kiosk.window.topbar.done.click()
    kiosk.wait_step(Step.ATTRACT)
    kiosk.start(PHONE)
    assert kiosk.ctx.session.step == Step.SCAN
    found: list[object] = []
    kiosk.ctx.db.call(lambda loyalty: members.by_phone(loyalty.store, "+66812345678"),
                      done=found.append)
    kiosk.qtbot.waitUntil(lambda: bool(found))
    assert found[0]["consent_version"] == kiosk.ctx.programme.consent_version


def test_a_member_qr_from_an_earlier_slip_identifies_the_member(make_kiosk, tmp_path) -> None:
    clock = day_after_receipt()
    loyalty = Loyalty.open(Settings(db=str(tmp_path / "branch.db")), clock=clock)
    member = loyalty.join(PHONE, consent=True)
    slip = render(member_slip(member, loyalty.programme))
    loyalty.close()
    picture = tmp_path / "slip.png"
    picture.write_bytes(slip.picture)  # the slip held up to the camera
    kiosk: Kiosk = make_kiosk(camera=str(picture), clock=clock)
    kiosk.screen("attract").start.click()
    kiosk.wait_step(Step.SCAN, timeout=10_000)  # no number typed, no consent asked again
    assert kiosk.ctx.session.member.member_id == member.member_id
    assert kiosk.window.topbar.member.text().startswith("081-xxx-5678")
    kiosk.qtbot.wait(1500)  # the slip still lies under the camera: it is not taken as a receipt
    assert kiosk.ctx.session.step == Step.SCAN and not kiosk.ctx.reading
