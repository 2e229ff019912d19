"""ESC/POS bytes in, printed receipts out: the text lines, the codes, and how each receipt ended.

The decoder follows the printer's state (code page, font and width for column positions, tab
stops, stored 2D-code data) across chunks of any size. A cut ends a receipt; so does a quiet
line (the tap calls `flush("idle")`) or the end of a captured file. Anything odd (unknown
commands, unknown code pages, impossible lengths) becomes a warning on the receipt, never an
exception, because the bytes have already gone to the printer and the receipt is still worth
reading.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from pos_bridge.escpos_codepages import CodePages
from pos_bridge.escpos_codes import PRINT, STORE, PrintedCode, barcode, code_2d
from pos_bridge.escpos_commands import CUT_MODES, CUT_WITH_FEED, PARTIAL_CUTS, Action
from pos_bridge.escpos_frame import EscPosFramer, Kind, Token

CUT, IDLE, END, LIMIT = "cut", "idle", "end", "limit"  # how a receipt ended
MAX_LINES = 5000  # a "receipt" longer than this is a stream without cuts; hand it over in parts
MAX_LINE_BYTES = 4096  # a line longer than this is not a receipt line; break it
MAX_WARNINGS = 32
DEFAULT_TABS = tuple(range(8, 256, 8))  # Epson's power-on tab stops, in character columns
LF, HT, FF = 0x0A, 0x09, 0x0C
_NO_TEXT = frozenset((Action.STYLE, Action.IMAGE, Action.STATUS, Action.KANJI_OFF))


@dataclass(frozen=True)
class PrintedReceipt:
    """One receipt as it came out of the printer."""

    lines: tuple[str, ...]  # printed lines, blank feed lines at either end removed
    codes: tuple[PrintedCode, ...]
    byte_count: int  # bytes of the stream this receipt spans, images and commands included
    ended_by: str  # "cut", "idle" (the POS went quiet), "end" (of a file), "limit" (too long)
    cut: str | None = None  # "full" or "partial" when ended by a cut
    cut_feeds: bool = False  # the cut command feeds the paper itself (GS V 65/66/97/98/103/104)
    start: int = 0  # stream offset of the receipt's first byte
    cut_at: int | None = None  # stream offset of the cut command
    warnings: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["lines"] = list(self.lines)
        doc["codes"] = [asdict(code) for code in self.codes]
        doc["warnings"] = list(self.warnings)
        return doc


class EscPosDecoder:
    """Feed it chunks (split anywhere); it returns the receipts each chunk completed."""

    def __init__(self, default_code_page: int = 0, code_pages: Mapping[int, str] | None = None,
                 start: int = 0) -> None:
        self._pages = CodePages(code_pages)
        self._default_page = default_code_page
        self._framer = EscPosFramer(start)
        self._run = bytearray()  # text bytes of the current line in the current code page
        self._band = False  # an ESC * image band waits in the line buffer
        self._parts: list[str] = []  # text of the current line already decoded
        self.printed = 0  # grows with every text byte, line and code: "has anything happened?"
        self._init_printer()
        self._new_receipt(start)

    @property
    def consumed(self) -> int:
        """Stream offset up to which bytes are decoded (the rest wait for a command's end)."""
        return self._framer.consumed

    def feed(self, chunk: bytes) -> list[PrintedReceipt]:
        return self._interpret(self._framer.feed(chunk))

    def skip_to(self, offset: int) -> None:
        """Bytes up to `offset` were lost before reaching us; carry on after them."""
        lost = offset - self._framer.consumed - self._framer.pending
        if lost > 0:
            self._warn(f"{lost} bytes were not decoded (decoder fell behind)")
            self._framer.reset(offset)
            self.printed += 1  # worth handing over even if nothing else arrives

    def flush(self, ended_by: str = IDLE) -> PrintedReceipt | None:
        """End the receipt without a cut; None when nothing was printed or went wrong since."""
        if ended_by == END and self._framer.pending:
            self._warn(f"stream ends inside a command ({self._framer.pending} bytes)")
        if self._has_text():
            self._end_line()
        if not any(line.strip() for line in self._lines) and not self._codes and not self._warnings:
            return None
        return self._emit(ended_by, self._framer.consumed)

    def _interpret(self, tokens: Iterable[Token]) -> list[PrintedReceipt]:
        """Apply tokens to the printer state. Every rule depends on content only, never on
        where chunks were split, so any chunking gives the same receipts."""
        done: list[PrintedReceipt] = []
        for token in tokens:
            if token.kind is Kind.TEXT:
                self._text(token.data)
                continue
            if token.kind is Kind.CONTROL:
                self._control(token.data[0])
            elif token.kind is Kind.BAD:
                self._warn(token.problem or "bad command")
            else:
                receipt = self._command(token)
                if receipt is not None:
                    done.append(receipt)
            if len(self._lines) >= MAX_LINES:
                done.append(self._emit(LIMIT, token.end))
        return done

    def _text(self, data: bytes) -> None:
        self._run += data
        self.printed += len(data)
        while len(self._run) > MAX_LINE_BYTES:  # broken at fixed points, whatever the chunks
            self._warn(f"a line longer than {MAX_LINE_BYTES} bytes was broken")
            rest = self._run[MAX_LINE_BYTES:]
            del self._run[MAX_LINE_BYTES:]
            self._end_line()
            self._run += rest

    # printer state

    def _init_printer(self) -> None:
        self._run.clear()  # ESC @ clears the print buffer: an unfinished line is not printed
        self._parts.clear()
        self._band = False
        self._page = self._pages.get(self._default_page)
        self._font = 0
        self._width = 1
        self._tabs: tuple[int, ...] = DEFAULT_TABS
        self._stored_2d: dict[int, bytes] = {}

    def _new_receipt(self, start: int) -> None:
        self._start = start
        self._lines: list[str] = []
        self._codes: list[PrintedCode] = []
        self._warnings: Counter[str] = Counter()

    def _emit(self, ended_by: str, end: int, cut: str | None = None, cut_feeds: bool = False,
              cut_at: int | None = None) -> PrintedReceipt:
        lines = self._lines
        first = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
        last = next((i for i in range(len(lines) - 1, -1, -1) if lines[i].strip()), -1)
        warnings = tuple(f"{text} (x{count})" if count > 1 else text
                         for text, count in self._warnings.items())
        receipt = PrintedReceipt(tuple(lines[first : last + 1]), tuple(self._codes),
                                 end - self._start, ended_by, cut, cut_feeds, self._start, cut_at,
                                 warnings)
        self._new_receipt(end)
        return receipt

    def _warn(self, text: str) -> None:
        if text in self._warnings or len(self._warnings) < MAX_WARNINGS:
            self._warnings[text] += 1

    # text and layout

    def _has_text(self) -> bool:
        return bool(self._run or self._parts)

    def _line_so_far(self) -> str:
        if self._run:
            self._parts.append(self._page.decode(self._run))
            self._run.clear()
        return "".join(self._parts)

    def _end_line(self) -> None:
        if self._band and not self._has_text():
            self._band = False  # the LF printed an image band, not an empty line
            return
        self._band = False
        self._lines.append(self._line_so_far())
        self._parts.clear()
        self.printed += 1

    def _column(self) -> int:
        """Printed width of the line so far: Thai vowel and tone marks take no column."""
        return sum(1 for ch in self._line_so_far() if unicodedata.category(ch) != "Mn")

    def _pad_to(self, column: int) -> None:
        """Keep a column layout readable: never let two fields run into each other."""
        current = self._column()
        if column > current:
            self._parts.append(" " * (column - current))
        elif current and not self._line_so_far().endswith(" "):
            self._parts.append(" ")

    def _char_dots(self) -> int:
        return (12 if self._font == 0 else 9) * self._width  # font A 12 dots, font B 9 dots

    def _control(self, byte: int) -> None:
        if byte == LF:
            self._end_line()
        elif byte == HT:
            column = self._column()
            stop = next((tab for tab in self._tabs if tab > column), None)
            if stop is not None:
                self._pad_to(stop)
        elif byte == FF and self._has_text():
            self._end_line()

    def _feed_lines(self, count: int) -> None:
        """ESC d n: print the line and feed n lines, i.e. n line ends in all."""
        if self._has_text():
            self._end_line()
            count -= 1
        self._lines.extend([""] * max(count, 0))

    # commands

    def _command(self, token: Token) -> PrintedReceipt | None:
        assert token.command is not None
        action, params = token.command.action, token.data
        if action in _NO_TEXT:
            return None
        if action is Action.INIT:
            self._init_printer()
        elif action is Action.PRINT_MODE:
            self._font, self._width = params[0] & 1, 2 if params[0] & 0x20 else 1
        elif action is Action.CHAR_SIZE:
            self._width = (params[0] >> 4 & 7) + 1
        elif action is Action.FONT:
            self._font = params[0] & 1
        elif action is Action.CODE_PAGE:
            self._set_code_page(params[0])
        elif action is Action.FEED_LINES:
            self._feed_lines(params[0])
        elif action is Action.PRINT_LINE and self._has_text():
            self._end_line()
        elif action is Action.TABS:
            self._tabs = tuple(sorted(set(params.rstrip(b"\0"))))
        elif action is Action.ABS_POSITION:
            self._pad_to((params[0] | params[1] << 8) // self._char_dots())
        elif action is Action.REL_POSITION:
            dots = int.from_bytes(params, "little", signed=True)
            if dots > 0:
                self._parts.append(" " * max(1, dots // self._char_dots()))
        elif action is Action.BARCODE:
            self._barcode(params, token.payload)
        elif action is Action.CODE_2D:
            self._code_2d(token.payload)
        elif action is Action.IMAGE_BAND:
            self._band = True
        elif action is Action.KANJI_ON:
            self._warn("Kanji mode text is not decoded (shown byte by byte)")
        elif action is Action.CUT:
            return self._cut(token)
        return None

    def _set_code_page(self, number: int) -> None:
        self._line_so_far()  # decode what came before with the old page
        self._page = self._pages.get(number)
        if not self._page.known:
            self._warn(f"unknown code page {number}; decoded as CP874 (latin-1 where it has "
                       "no letter)")
        elif self._page.approximate:
            self._warn(f"code page {number} decoded as {self._page.codec.upper()} "
                       "(a close variant)")

    def _barcode(self, params: bytes, payload: bytes | None) -> None:
        if payload is None:
            self._warn("barcode data too long; not captured")
            return
        kind = params[0]
        if kind <= 6 and payload.endswith(b"\0"):
            payload = payload[:-1]
        if payload:
            self._codes.append(barcode(kind, payload))
            self.printed += 1

    def _code_2d(self, payload: bytes | None) -> None:
        if payload is None:
            self._warn("2D code data too long; not captured")
            return
        if len(payload) < 2:
            return
        symbol, function = payload[0], payload[1]
        if function == STORE:
            self._stored_2d[symbol] = payload[3:]
        elif function == PRINT:
            data = self._stored_2d.get(symbol)
            if data is None:
                self._warn("a 2D code was printed without data")
            else:
                self._codes.append(code_2d(symbol, data))
                self.printed += 1

    def _cut(self, token: Token) -> PrintedReceipt | None:
        assert token.command is not None
        by_gs = token.command.name == "GS V"  # else ESC i (full) or ESC m (partial)
        mode = token.data[0] if by_gs else None
        if by_gs and mode not in CUT_MODES:
            self._warn(f"GS V with unknown mode {mode}; not a cut")
            return None
        partial = mode in PARTIAL_CUTS if by_gs else token.command.name == "ESC m"
        if self._has_text():
            self._end_line()
        return self._emit(CUT, token.end, "partial" if partial else "full",
                          by_gs and mode in CUT_WITH_FEED, token.start)


def decode_stream(data: bytes, default_code_page: int = 0,
                  code_pages: Mapping[int, str] | None = None) -> list[PrintedReceipt]:
    """Every receipt in a captured stream, the last one ended by the end of the data."""
    decoder = EscPosDecoder(default_code_page, code_pages)
    receipts = decoder.feed(data)
    last = decoder.flush(END)
    return receipts + ([last] if last is not None else [])
