"""A shopper who walks away is forgotten; the language button changes every visible word."""

from __future__ import annotations

import re

from PySide6.QtWidgets import QWidget

from kiosk.ui.session import Step
from tests.ui.conftest import PHONE, Kiosk

THAI = re.compile(r"[\u0e00-\u0e7f]")


def test_idle_timeout_returns_to_attract_and_forgets_the_member(make_kiosk) -> None:
    kiosk: Kiosk = make_kiosk(idle=1.0)
    kiosk.ctx.parts.camera.black = True  # nothing gets scanned while we wait
    kiosk.join(PHONE)
    session = kiosk.ctx.session
    kiosk.ctx.toggle_lang()
    assert session.phone == "+66812345678" and kiosk.window.topbar.member.isVisible()
    kiosk.wait_step(Step.ATTRACT, timeout=5000)
    assert (session.phone, session.member, session.outcome) == (None, None, None)
    assert session.lang == "th"  # the next shopper starts in Thai
    assert not kiosk.window.topbar.member.isVisible()
    assert "081-xxx-5678" not in "\n".join(kiosk.visible_texts().values())


def test_done_forgets_at_once(make_kiosk) -> None:
    kiosk: Kiosk = make_kiosk()
    kiosk.ctx.parts.camera.black = True
    kiosk.join(PHONE)
    kiosk.window.topbar.done.click()
    assert kiosk.ctx.session.step == Step.ATTRACT and kiosk.ctx.session.phone is None


def assert_toggle_changes_every_word(kiosk: Kiosk, *live: QWidget) -> None:
    """Every visible word in Thai becomes English (some screens rebuild their widgets, so
    texts are compared as lists), and toggling back restores the Thai screen exactly
    (`live` labels follow the camera, so only their language is checked)."""
    lang = kiosk.window.topbar.lang

    def texts() -> dict[QWidget, str]:
        return {widget: text for widget, text in kiosk.visible_texts().items()
                if widget not in live}

    thai = texts()
    lang.click()
    kiosk.qtbot.wait(50)
    english = texts()
    assert len(english) == len(thai)
    assert [text for widget, text in english.items()
            if THAI.search(text) and widget is not lang] == []
    assert [text for text in thai.values() if THAI.search(text)
            and text in english.values()] == []
    assert not any(THAI.search(widget.text()) for widget in live)
    lang.click()
    kiosk.qtbot.wait(50)
    assert sorted(texts().values()) == sorted(thai.values())
    assert all(THAI.search(widget.text()) for widget in live)


def test_language_toggle_changes_every_visible_string(make_kiosk) -> None:
    kiosk: Kiosk = make_kiosk()
    kiosk.ctx.parts.camera.black = True
    assert_toggle_changes_every_word(kiosk)  # attract
    kiosk.screen("attract").start.click()
    kiosk.wait_step(Step.IDENTIFY)
    kiosk.screen("identify").press("0")
    kiosk.screen("identify").press("2")  # a message about a landline is showing too
    assert_toggle_changes_every_word(kiosk)
    kiosk.screen("identify").press("clear")
    kiosk.type_phone(PHONE)
    kiosk.wait_step(Step.CONSENT)
    assert_toggle_changes_every_word(kiosk)
    kiosk.screen("consent").accept.click()
    kiosk.wait_step(Step.SCAN)
    assert_toggle_changes_every_word(kiosk, kiosk.screen("scan").status)
    kiosk.screen("scan").rewards.click()
    kiosk.qtbot.waitUntil(lambda: bool(kiosk.screen("rewards").rewards))
    assert_toggle_changes_every_word(kiosk)
    kiosk.screen("rewards").back.click()
    kiosk.screen("scan").history.click()
    kiosk.wait_step(Step.HISTORY)
    kiosk.qtbot.wait(200)
    assert_toggle_changes_every_word(kiosk)
