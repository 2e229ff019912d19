"""Result: what the receipt earned and why (campaigns named), the new balance, the way to the
next tier and points expiring soon; or, kindly, why it earned nothing and what to do next."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QVBoxLayout

from kiosk.clock import parse_iso_utc, to_bangkok
from kiosk.ui.session import ScanOutcome, Step
from kiosk.ui.widgets import PairGrid, Screen, TouchButton, panel, restyle, text

if TYPE_CHECKING:
    from kiosk.loyalty.accounts import MemberSummary
    from kiosk.receipts.model import Receipt
    from kiosk.ui.controller import KioskController

MAX_ITEMS = 5


class ResultScreen(Screen):
    name = "result"

    def __init__(self, ctx: KioskController) -> None:
        super().__init__(ctx)
        self.slip_key = ""
        self.headline = text("hero")
        self.lead = text("subtitle")
        self.receipt_box, receipt_layout = panel("card")
        self.receipt_title = text("subtitle", wrap=False)
        self.receipt_facts = PairGrid()
        self.items_title = text("label")
        self.items = text("body", wrap=False)
        receipt_layout.addWidget(self.receipt_title)
        receipt_layout.addWidget(self.receipt_facts)
        receipt_layout.addWidget(self.items_title)
        receipt_layout.addWidget(self.items)
        receipt_layout.addStretch(1)
        self.points_box, points_layout = panel("card")
        self.points_title = text("subtitle", wrap=False)
        self.why = PairGrid("body", "value", stretch_label=True, rows=6)
        self.balance = text("big")
        self.tier_bar = QProgressBar()
        self.tier_bar.setTextVisible(False)
        self.tier = text("body", wrap=False)
        self.expiring = text("note", wrap=False)
        points_layout.addWidget(self.points_title)
        points_layout.addWidget(self.why)
        points_layout.addWidget(self.balance)
        points_layout.addWidget(self.tier_bar)
        points_layout.addWidget(self.tier)
        points_layout.addWidget(self.expiring)
        points_layout.addStretch(1)
        self.slip = text("note", wrap=False)
        self.again = TouchButton("primary")
        self.type_in = TouchButton("secondary")
        self.rewards = TouchButton("secondary")
        self.history = TouchButton("secondary")
        self.again.clicked.connect(lambda: ctx.session.show(Step.SCAN))
        self.type_in.clicked.connect(ctx.session.open_manual)
        self.rewards.clicked.connect(lambda: ctx.session.show(Step.REWARDS))
        self.history.clicked.connect(lambda: ctx.session.show(Step.HISTORY))
        ctx.slip_event.connect(self._slip)

        cards = QHBoxLayout()
        cards.setSpacing(32)
        cards.addWidget(self.receipt_box, 1)
        cards.addWidget(self.points_box, 1)
        buttons = QHBoxLayout()
        buttons.setSpacing(24)
        for button in (self.again, self.type_in, self.rewards, self.history):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(56, 24, 56, 28)
        layout.setSpacing(16)
        layout.addWidget(self.headline)
        layout.addWidget(self.lead)
        layout.addLayout(cards, 1)
        layout.addWidget(self.slip)
        layout.addLayout(buttons)

    def entered(self) -> None:
        self.slip_key = "result.slip.printing"

    def retranslate(self) -> None:
        outcome = self.ctx.session.outcome
        member = self.ctx.session.member
        self.again.setText(self.t("result.again"))
        self.type_in.setText(self.t("scan.type_in"))
        self.rewards.setText(self.t("nav.rewards"))
        self.history.setText(self.t("nav.history"))
        if outcome is None or member is None:
            return
        self._headline(outcome)
        self._receipt(outcome.receipt, outcome)
        self._points(outcome, member)
        earned = outcome.claim is not None
        self.slip.setText(self.t(self.slip_key) if earned else "")
        self.type_in.setVisible(outcome.kind == "refused"
                                and self.ctx.session.may_type_receipt)

    def _slip(self, printed: bool) -> None:
        self.slip_key = "result.slip.printed" if printed else "result.slip.failed"
        self.retranslate()

    def _headline(self, outcome: ScanOutcome) -> None:
        if outcome.kind == "earned" and outcome.claim is not None:
            self.headline.setText(self.t("result.earned", points=self.t.number(
                outcome.claim.points)))
            self.lead.setText(self.t("result.earned_lead"))
            restyle(self.headline, tone="good")
        elif outcome.kind == "review" and outcome.claim is not None:
            self.headline.setText(self.t("result.review"))
            self.lead.setText(self.t("result.review_lead", points=self.t.number(
                outcome.claim.pending_points)))
            restyle(self.headline, tone="wait")
        else:
            day = outcome.receipt.purchase_day if outcome.receipt else None
            self.headline.setText(self.t(f"result.refused.{outcome.refusal}")
                                  if self.t.has(f"result.refused.{outcome.refusal}")
                                  else self.t("result.refused.other"))
            self.lead.setText(self.t.refusal(
                outcome.refusal or "other", date=self.t.date(day) if day else "-",
                days=self.ctx.programme.receipt_max_age_days))
            restyle(self.headline, tone="sorry")

    def _receipt(self, receipt: Receipt | None, outcome: ScanOutcome) -> None:
        self.receipt_title.setText(self.t("result.receipt"))
        if receipt is None:
            self.receipt_facts.set_rows([])
            return
        day = receipt.purchase_day
        facts = (("result.store", receipt.store.name or self.t("result.unknown")),
                 ("result.date", self.t.date(day) if day else self.t("result.unknown")),
                 ("result.number", receipt.receipt_no or self.t("result.unknown")),
                 ("result.total", f"{self.t.money(receipt.total)} {self.t('money.baht')}"))
        self.receipt_facts.set_rows([(self.t(key), value) for key, value in facts])
        counted = outcome.claim.explanation.get("counted_items", []) if outcome.claim else []
        lines = [receipt.items[i] for i in counted if i < len(receipt.items)]
        self.items_title.setText(self.t("result.counted", count=len(lines)) if lines else "")
        shown = [f"{item.name}  ·  {self.t.money(item.amount)}" for item in lines[:MAX_ITEMS]]
        if len(lines) > MAX_ITEMS:
            shown.append(self.t("result.more_items", count=len(lines) - MAX_ITEMS))
        self.items.setText("\n".join(shown))

    def _points(self, outcome: ScanOutcome, member: MemberSummary) -> None:
        self.points_title.setText(self.t("result.your_points"))
        claim = outcome.claim
        lines = claim.explanation.get("lines", []) if claim and outcome.kind == "earned" else []
        self.why.set_rows([(line["th"] if self.t.lang == "th" else line["en"],
                            f"{line['points']:+,}") for line in lines])
        self.balance.setText(self.t("result.balance", points=self.t.number(member.balance)))
        self._tier(member, claim.promoted_to if claim else None)
        self._expiring(member)

    def _tier(self, member: MemberSummary, promoted: str | None) -> None:
        tiers = {tier.id: tier for tier in self.ctx.programme.tiers}
        name = self.t.pick(member.tier_name_th, member.tier_name_en)
        upcoming = tiers.get(member.next_tier or "")
        if upcoming is None or member.points_to_next_tier is None:
            self.tier_bar.setRange(0, 1)
            self.tier_bar.setValue(1)
            self.tier.setText(self.t("result.top_tier", tier=name))
            return
        floor = tiers[member.tier].threshold if member.tier in tiers else 0
        self.tier_bar.setRange(0, max(upcoming.threshold - floor, 1))
        self.tier_bar.setValue(max(min(member.tier_points - floor, upcoming.threshold), 0))
        key = "result.promoted" if promoted else "result.to_next"
        self.tier.setText(self.t(key, tier=name, points=self.t.number(member.points_to_next_tier),
                                 next=self.t.pick(upcoming.name_th, upcoming.name_en)))

    def _expiring(self, member: MemberSummary) -> None:
        by_day: dict[Any, int] = defaultdict(int)
        for lot in member.expiring_soon:
            by_day[to_bangkok(parse_iso_utc(lot["expires_at"])).date()] += int(lot["points"])
        self.expiring.setText("\n".join(
            self.t("result.expiring", points=self.t.number(points), date=self.t.date(day))
            for day, points in sorted(by_day.items())))

