"""Barcode and 2D-code payloads as the shopper's phone or the kiosk scanner would read them.

`GS k` carries a barcode type and its data; `GS ( k` stores 2D-code data (function 80) and prints
it later (function 81). Code 128 data carries code-set switches (`{A`, `{B`, `{C`) and in set C
packs two digits per byte; we undo that so the text matches what a scanner reports.
"""

from __future__ import annotations

from dataclasses import dataclass

BARCODE_TYPES: dict[int, str] = {
    0: "upc_a", 1: "upc_e", 2: "ean13", 3: "ean8", 4: "code39", 5: "itf", 6: "codabar",
    65: "upc_a", 66: "upc_e", 67: "ean13", 68: "ean8", 69: "code39", 70: "itf", 71: "codabar",
    72: "code93", 73: "code128", 74: "gs1_128", 75: "gs1_databar_omnidirectional",
    76: "gs1_databar_truncated", 77: "gs1_databar_limited", 78: "gs1_databar_expanded",
    79: "code128",
}
CODE_2D_TYPES: dict[int, str] = {
    48: "pdf417", 49: "qr", 50: "maxicode", 51: "gs1_databar", 52: "composite", 53: "aztec",
    54: "datamatrix",
}
STORE, PRINT = 80, 81  # GS ( k function numbers: store symbol data, print the stored symbol


@dataclass(frozen=True)
class PrintedCode:
    """A barcode or 2D code printed on the receipt: its kind and its data as text."""

    type: str
    data: str


def barcode(kind: int, data: bytes) -> PrintedCode:
    """A `GS k` barcode; `data` without the form-A NUL terminator."""
    name = BARCODE_TYPES.get(kind, f"barcode_{kind}")
    if name in ("code128", "gs1_128") and data[:1] == b"{" and data[1:2] in (b"A", b"B", b"C"):
        return PrintedCode(name, code128_text(data))
    return PrintedCode(name, data.decode("latin-1"))


def code128_text(data: bytes) -> str:
    """Undo ESC/POS Code 128 framing: `{A`/`{B`/`{C` switch sets, `{{` is a brace, FNCs vanish."""
    out: list[str] = []
    code_set = "B"
    i = 0
    while i < len(data):
        byte = data[i]
        if byte == 0x7B and i + 1 < len(data):  # '{' starts a two-byte control
            control = chr(data[i + 1])
            if control in "ABC":
                code_set = control
            elif control == "{":
                out.append("{")
            i += 2  # shifts and FNC1-4 carry no text of their own
            continue
        if code_set == "C":
            out.append(f"{byte:02d}" if byte < 100 else "\ufffd")
        else:
            out.append(chr(byte) if byte < 0x80 else "\ufffd")
        i += 1
    return "".join(out)


def code_2d(symbol: int, data: bytes) -> PrintedCode:
    """A printed 2D code; its data is UTF-8 when it decodes as such (python-escpos sends UTF-8)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return PrintedCode(CODE_2D_TYPES.get(symbol, f"2d_{symbol}"), text)
