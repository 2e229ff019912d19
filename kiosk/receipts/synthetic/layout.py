"""The printed lines of a ticket, in order, as a till lays them out on the thermal roll.

Pure: the same ticket always gives the same lines. Each line says what is printed (left text,
right-aligned amount, centred header, double-height total, a code) and nothing about pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from kiosk.money import format_money
from kiosk.receipts.synthetic.content import (
    AMOUNT_COLUMNS,
    SaleLine,
    Ticket,
    clip_columns,
    text_columns,
)

CONVENIENCE = ("7-eleven", "familymart", "cjmore", "independent")  # print an items count


@dataclass(frozen=True)
class PrintLine:
    """One printed row. `kind` is 'text', 'logo', 'rule', 'qr', 'code128' or 'feed'."""

    left: str = ""
    right: str = ""
    align: str = "left"  # 'left' or 'center'; `right` is always flush right
    bold: bool = False
    tall: bool = False  # double height
    wide: bool = False  # double width
    kind: str = "text"
    data: str = ""  # code payload, or the rule's character

    @property
    def text(self) -> str:
        """What a perfect OCR reads on this row: the words, single-spaced."""
        if self.kind not in ("text", "logo"):
            return ""
        return " ".join(" ".join(part.split()) for part in (self.left, self.right) if part.strip())


def money_text(ticket: Ticket, amount: Decimal) -> str:
    """An amount as this till prints it: thousands comma or not, minus in front or behind."""
    plain = format_money(abs(amount)) or ""
    if ticket.chain.thousands_comma:
        whole, frac = plain.split(".")
        plain = f"{int(whole):,}.{frac}"
    if amount >= 0:
        return plain
    return f"{plain}-" if ticket.trailing_minus else f"-{plain}"


def layout(ticket: Ticket) -> list[PrintLine]:
    """Header, meta, sale, totals, payment, VAT, codes, footer, as the chain's till prints."""
    lines = _header(ticket)
    if ticket.meta_on_top:
        lines += _meta(ticket)
    lines.append(PrintLine(kind="rule", data="-"))
    for sale in ticket.sale_lines:
        lines += _sale_line(ticket, sale)
    lines.append(PrintLine(kind="rule", data="-"))
    lines += _totals(ticket)
    lines.append(PrintLine(kind="rule", data="=" if ticket.columns > 32 else "-"))
    if not ticket.meta_on_top:
        lines += _meta(ticket)
    if ticket.member_text:
        lines.append(PrintLine(ticket.member_text))
    lines += _codes(ticket)
    lines.append(PrintLine(kind="feed"))
    for words in ticket.footer:
        lines += _centred(words, ticket.columns)
    return lines


def transcript(lines: list[PrintLine]) -> list[str]:
    """The printed text, one entry per row with words on it (rules and codes carry none)."""
    return [line.text for line in lines if line.text]


def _header(ticket: Ticket) -> list[PrintLine]:
    r = ticket.receipt
    lines = [PrintLine(ticket.logo, align="center", bold=True, kind="logo"), PrintLine(kind="feed")]
    if ticket.branch_text:
        lines += _centred(ticket.branch_text, ticket.columns)
    for address in ticket.address_lines:
        lines += _centred(address, ticket.columns)
    if ticket.tax_text:
        lines += _centred(ticket.tax_text, ticket.columns)
        if r.vat is not None:
            lines += _centred(f"({ticket.labels['vat_incl']})", ticket.columns)
            lines += _centred(ticket.labels["title"], ticket.columns)
    return lines


def _meta(ticket: Ticket) -> list[PrintLine]:
    """Receipt number, POS, date and time, cashier: the block a reader fingerprints by."""
    r = ticket.receipt
    parts: list[str] = []
    if r.receipt_no:
        label = ticket.receipt_label
        parts.append(f"{label}{'' if label.endswith('#') else ' '}{r.receipt_no}")
    pos = f"{ticket.pos_label}{'' if ticket.pos_label.endswith('#') else ' '}{r.pos_id}"
    lines: list[PrintLine] = []
    if len(parts) == 1 and text_columns(parts[0]) + text_columns(pos) + 2 <= ticket.columns:
        lines.append(PrintLine(parts[0], pos))
    else:
        lines += [PrintLine(p) for p in (*parts, pos)]
    when = f"{ticket.date_raw} {ticket.time_raw}"
    if ticket.meta_on_top:
        when = f"{ticket.labels['date']} {when}"
    if ticket.cashier_text and text_columns(when + ticket.cashier_text) + 2 <= ticket.columns:
        lines.append(PrintLine(when, ticket.cashier_text))
    else:
        lines.append(PrintLine(when))
        if ticket.cashier_text:
            lines.append(PrintLine(ticket.cashier_text))
    return lines


def _qty_text(qty: Decimal) -> str:
    return str(int(qty)) if qty == qty.to_integral_value() else f"{qty:.3f}"


def _sale_line(ticket: Ticket, sale: SaleLine) -> list[PrintLine]:
    amount = money_text(ticket, sale.amount)
    if sale.kind == "discount":
        return [PrintLine(f"   {sale.name}", amount)]
    head = f"{sale.code} {sale.name}" if sale.code else sale.name
    if sale.kind == "void":
        void = clip_columns(f"{ticket.labels['void']} {head}", ticket.columns - AMOUNT_COLUMNS)
        return [PrintLine(void, amount)]
    weighed = sale.qty != sale.qty.to_integral_value()
    unit = money_text(ticket, sale.unit_price or Decimal(0))
    detail = f"   {_qty_text(sale.qty)}{' KG' if weighed else ''} @ {unit}"
    if ticket.item_style == "twoline":
        return [PrintLine(head), PrintLine(detail, amount)]
    if not weighed and not sale.code:
        head = f"{_qty_text(sale.qty)} {head}"
    lines = [PrintLine(head, amount)]
    if sale.qty != 1:
        lines.append(PrintLine(detail))
    return lines


def _totals(ticket: Ticket) -> list[PrintLine]:
    r = ticket.receipt
    labels = ticket.labels
    lines: list[PrintLine] = []
    if ticket.chain.key in CONVENIENCE:
        count = sum(int(i.qty) if i.qty == i.qty.to_integral_value() else 1
                    for i in r.items if i.qty is not None)
        lines.append(PrintLine(labels["items"].format(n=count)))
    if ticket.show_subtotal and r.subtotal is not None:
        lines.append(PrintLine(labels["subtotal"], money_text(ticket, r.subtotal)))
    for label, off in ticket.bill_discounts:
        lines.append(PrintLine(label, money_text(ticket, -off)))
    total = r.total or Decimal(0)
    lines.append(PrintLine(labels["total"], money_text(ticket, total), bold=True, tall=True,
                           wide=ticket.columns > 32 and ticket.chain.key != "makro"))
    if r.payment is not None:
        lines += _payment(ticket)
    if ticket.show_vat and r.vat is not None:
        lines.append(PrintLine(labels["vatable"], money_text(ticket, total - r.vat)))
        lines.append(PrintLine(labels["vat"], money_text(ticket, r.vat)))
    return lines


def _payment(ticket: Ticket) -> list[PrintLine]:
    pay = ticket.receipt.payment
    assert pay is not None and pay.tendered is not None
    labels = ticket.labels
    if pay.method == "cash":
        return [PrintLine(labels["cash"], money_text(ticket, pay.tendered)),
                PrintLine(labels["change"], money_text(ticket, pay.change or Decimal(0)))]
    lines = [PrintLine(labels[pay.method or "card"], money_text(ticket, pay.tendered))]
    if ticket.payment_detail:
        lines.append(PrintLine(f"   {ticket.payment_detail}"))
    return lines


def _codes(ticket: Ticket) -> list[PrintLine]:
    lines: list[PrintLine] = []
    for code in ticket.receipt.codes:
        lines.append(PrintLine(kind="feed"))
        if code.type == "QRCODE":
            lines.append(PrintLine(kind="qr", data=code.data))
        else:
            lines.append(PrintLine(kind="code128", data=code.data))
            lines.append(PrintLine(code.data, align="center"))
    return lines


def _centred(text: str, columns: int) -> list[PrintLine]:
    """Header words wrapped at spaces to the paper's width, each row centred."""
    rows: list[str] = []
    for word in text.split():
        if rows and text_columns(rows[-1]) + 1 + text_columns(word) <= columns:
            rows[-1] += " " + word
        else:
            rows.append(clip_columns(word, columns))
    return [PrintLine(row, align="center") for row in rows]
