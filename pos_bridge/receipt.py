"""From a printed receipt to the `Receipt` every other part of the system exchanges.

The text came byte for byte from the POS, so each line reaches the parser with confidence 1.0.
"""

from __future__ import annotations

from kiosk.receipts.lines import TextLine
from kiosk.receipts.model import Code, Receipt
from kiosk.receipts.parse import parse_lines
from pos_bridge.escpos_decode import PrintedReceipt


def to_receipt(printed: PrintedReceipt) -> Receipt:
    """The parsed receipt, with the codes the printer drew and `source` 'pos'."""
    receipt = parse_lines([TextLine(line, 1.0) for line in printed.lines])
    known = {(code.type, code.data) for code in receipt.codes}
    receipt.codes.extend(Code(code.type, code.data) for code in printed.codes
                         if (code.type, code.data) not in known)
    receipt.source = "pos"
    return receipt
