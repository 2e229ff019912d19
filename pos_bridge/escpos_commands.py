"""The ESC/POS command table: how long each command is, so a reader can step over it exactly.

Lengths are data, not code paths. Each entry names a command, says what it means for the receipt
text (an `Action`) and measures its parameter and payload bytes from the stream. Parameters are
small and always buffered; payloads (images, code data) are either captured (barcode and 2D code
data, which we want) or skipped as they stream past (images, which can be large).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10
PREFIXES = frozenset((ESC, GS, FS, DLE))
PREFIX_NAMES = {ESC: "ESC", GS: "GS", FS: "FS", DLE: "DLE"}

MAX_PAYLOAD = 1 << 20  # a declared length above this is garbage, not an image (a logo is ~10 KB)
MAX_CAPTURE = 8192  # the largest code payload kept (a QR code holds at most 7,089 digits)
MAX_BARCODE = 255  # GS k form A data runs to a NUL; give up after this many bytes
CUT_MODES = frozenset((0, 1, 48, 49, 65, 66, 97, 98, 103, 104))
CUT_WITH_FEED = frozenset((65, 66, 97, 98, 103, 104))  # GS V m n: feed n, then cut
PARTIAL_CUTS = frozenset((1, 49, 66, 98, 104))
_CONTROL_BYTE = re.compile(rb"[\x00-\x1f]")


class Action(enum.Enum):
    """What a command does to the receipt text; everything not listed here is layout only."""

    STYLE = "style"
    INIT = "init"
    PRINT_MODE = "print_mode"  # ESC !: font and double width
    CHAR_SIZE = "char_size"  # GS !: width and height multipliers
    FONT = "font"
    CODE_PAGE = "code_page"
    FEED_LINES = "feed_lines"  # prints the line, then feeds n lines
    PRINT_LINE = "print_line"  # prints the line, feeds by dots or backwards
    TABS = "tabs"
    ABS_POSITION = "abs_position"
    REL_POSITION = "rel_position"
    CUT = "cut"
    BARCODE = "barcode"
    CODE_2D = "code_2d"
    IMAGE = "image"
    IMAGE_BAND = "image_band"  # ESC *: a band of image in the line buffer, printed by the next LF
    STATUS = "status"  # a request the printer answers on the back channel
    KANJI_ON = "kanji_on"
    KANJI_OFF = "kanji_off"


@dataclass(frozen=True, slots=True)
class Measured:
    """Bytes after the command's key: `params` (buffered) then `payload` (captured or skipped)."""

    params: int
    payload: int = 0
    capture: bool = False
    then: Measure | None = None  # a follow-on block measured after the payload (FS q, ESC &)
    repeat: int = 0  # how many follow-on blocks


Measure = Callable[[bytes | bytearray, int], Measured | None]  # None: not enough bytes yet


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    action: Action
    measure: Measure


def _fixed(count: int) -> Measure:
    result = Measured(count)

    def measure(buf: bytes | bytearray, i: int) -> Measured | None:
        return result if len(buf) - i >= count else None

    return measure


def _until_nul(limit: int) -> Measure:
    """Parameters that end with a NUL (ESC D tab stops); bounded so garbage cannot stall us."""

    def measure(buf: bytes | bytearray, i: int) -> Measured | None:
        end = buf.find(0, i, i + limit)
        if end >= 0:
            return Measured(end - i + 1)
        return Measured(limit) if len(buf) - i >= limit else None

    return measure


def _sized(capture: bool = False, lead: int = 0) -> Measure:
    """`[lead bytes] pL pH` then pL + 256 pH bytes of data: the GS ( / ESC ( / FS ( family."""

    def measure(buf: bytes | bytearray, i: int) -> Measured | None:
        if len(buf) - i < lead + 2:
            return None
        return Measured(lead + 2, buf[i + lead] | buf[i + lead + 1] << 8, capture)

    return measure


def _sized4(buf: bytes | bytearray, i: int) -> Measured | None:
    """GS 8 L p1 p2 p3 p4: a 32-bit length for large graphics."""
    if len(buf) - i < 4:
        return None
    return Measured(4, int.from_bytes(buf[i : i + 4], "little"))


def _raster(buf: bytes | bytearray, i: int) -> Measured | None:
    """GS v 0 / GS Q 0: m xL xH yL yH, then x bytes per row times y rows."""
    if len(buf) - i < 5:
        return None
    width = buf[i + 1] | buf[i + 2] << 8
    height = buf[i + 3] | buf[i + 4] << 8
    return Measured(5, width * height)


def _column_image(buf: bytes | bytearray, i: int) -> Measured | None:
    """ESC * m nL nH: n columns of 1 byte (8-dot modes 0, 1) or 3 bytes (24-dot modes 32, 33)."""
    if len(buf) - i < 3:
        return None
    columns = buf[i + 1] | buf[i + 2] << 8
    return Measured(3, columns * (3 if buf[i] & 0x20 else 1))


def _downloaded_image(buf: bytes | bytearray, i: int) -> Measured | None:
    """GS * x y: x * y * 8 bytes."""
    if len(buf) - i < 2:
        return None
    return Measured(2, buf[i] * buf[i + 1] * 8)


def _nv_image(buf: bytes | bytearray, i: int) -> Measured | None:
    """One image of FS q: xL xH yL yH then x * y * 8 bytes."""
    if len(buf) - i < 4:
        return None
    return Measured(4, (buf[i] | buf[i + 1] << 8) * (buf[i + 2] | buf[i + 3] << 8) * 8)


def _nv_images(buf: bytes | bytearray, i: int) -> Measured | None:
    """FS q n: define n NV images, each measured on its own as it streams."""
    if len(buf) - i < 1:
        return None
    return Measured(1, then=_nv_image, repeat=buf[i])


def _user_chars(buf: bytes | bytearray, i: int) -> Measured | None:
    """ESC & y c1 c2: then, per character, x followed by y * x bytes."""
    if len(buf) - i < 3:
        return None
    rows = buf[i]

    def one_char(data: bytes | bytearray, j: int) -> Measured | None:
        return Measured(1, rows * data[j]) if len(data) - j >= 1 else None

    return Measured(3, then=one_char, repeat=max(0, buf[i + 2] - buf[i + 1] + 1))


def _barcode(buf: bytes | bytearray, i: int) -> Measured | None:
    """GS k m: form A (m 0..6) data ends with NUL; form B (m 65..79) gives its length n."""
    if len(buf) - i < 1:
        return None
    kind = buf[i]
    if kind <= 6:
        stop = _CONTROL_BYTE.search(buf, i + 1, i + 2 + MAX_BARCODE)
        if stop is not None:  # a NUL belongs to the command; any other control byte does not
            end = stop.start()
            return Measured(1, end - i if buf[end] == 0 else end - i - 1, capture=True)
        return Measured(1, MAX_BARCODE, capture=True) if len(buf) - i > MAX_BARCODE + 1 else None
    if 65 <= kind <= 79:
        return Measured(2, buf[i + 1], capture=True) if len(buf) - i >= 2 else None
    return Measured(1)


def _cut(buf: bytes | bytearray, i: int) -> Measured | None:
    """GS V m, or GS V m n for the feeding variants."""
    if len(buf) - i < 1:
        return None
    if buf[i] not in CUT_WITH_FEED:
        return Measured(1)
    return Measured(2) if len(buf) - i >= 2 else None


def _realtime(buf: bytes | bytearray, i: int) -> Measured | None:
    """DLE DC4 fn ...: the parameter count depends on fn."""
    if len(buf) - i < 1:
        return None
    count = {1: 3, 2: 3, 7: 2, 8: 8}.get(buf[i], 3)
    return Measured(count) if len(buf) - i >= count else None


_S = Action.STYLE
_F0, _F1, _F2, _F3, _F4, _F8 = (_fixed(n) for n in (0, 1, 2, 3, 4, 8))

_ENTRIES: list[tuple[int, bytes, Action, Measure]] = [
    # ESC: text style, layout, feeds, code pages, cuts, images, drawer
    (ESC, b" ", _S, _F1), (ESC, b"!", Action.PRINT_MODE, _F1),
    (ESC, b"$", Action.ABS_POSITION, _F2), (ESC, b"%", _S, _F1), (ESC, b"&", _S, _user_chars),
    (ESC, b"*", Action.IMAGE_BAND, _column_image),
    (ESC, b"-", _S, _F1), (ESC, b"2", _S, _F0), (ESC, b"3", _S, _F1), (ESC, b"=", _S, _F1),
    (ESC, b"?", _S, _F1), (ESC, b"@", Action.INIT, _F0), (ESC, b"B", _S, _F2),
    (ESC, b"D", Action.TABS, _until_nul(33)), (ESC, b"E", _S, _F1), (ESC, b"G", _S, _F1),
    (ESC, b"J", Action.PRINT_LINE, _F1), (ESC, b"K", Action.PRINT_LINE, _F1), (ESC, b"L", _S, _F0),
    (ESC, b"M", Action.FONT, _F1), (ESC, b"R", _S, _F1), (ESC, b"S", _S, _F0), (ESC, b"T", _S, _F1),
    (ESC, b"U", _S, _F1), (ESC, b"V", _S, _F1), (ESC, b"W", _S, _F8),
    (ESC, b"\\", Action.REL_POSITION, _F2), (ESC, b"a", _S, _F1), (ESC, b"c", _S, _F2),
    (ESC, b"d", Action.FEED_LINES, _F1), (ESC, b"e", Action.PRINT_LINE, _F1),
    (ESC, b"i", Action.CUT, _F0), (ESC, b"j", Action.PRINT_LINE, _F1), (ESC, b"m", Action.CUT, _F0),
    (ESC, b"p", _S, _F3), (ESC, b"r", _S, _F1), (ESC, b"t", Action.CODE_PAGE, _F1),
    (ESC, b"u", Action.STATUS, _F1), (ESC, b"v", Action.STATUS, _F0), (ESC, b"{", _S, _F1),
    (ESC, b"<", _S, _F0), (ESC, b"\x0c", Action.PRINT_LINE, _F0), (ESC, b"(", _S, _sized(lead=1)),
    # GS: sizes, margins, barcodes, 2D codes, graphics, cut, status
    (GS, b"!", Action.CHAR_SIZE, _F1), (GS, b"$", _S, _F2),
    (GS, b"*", Action.IMAGE, _downloaded_image),
    (GS, b"/", _S, _F1), (GS, b":", _S, _F0), (GS, b"B", _S, _F1), (GS, b"E", _S, _F1),
    (GS, b"H", _S, _F1), (GS, b"I", Action.STATUS, _F1), (GS, b"L", _S, _F2), (GS, b"P", _S, _F2),
    (GS, b"T", _S, _F1), (GS, b"V", Action.CUT, _cut), (GS, b"W", _S, _F2), (GS, b"\\", _S, _F2),
    (GS, b"^", _S, _F3), (GS, b"a", _S, _F1), (GS, b"b", _S, _F1), (GS, b"f", _S, _F1),
    (GS, b"g", _S, _F4), (GS, b"h", _S, _F1), (GS, b"j", _S, _F1),
    (GS, b"k", Action.BARCODE, _barcode),
    (GS, b"r", Action.STATUS, _F1), (GS, b"w", _S, _F1), (GS, b"z", _S, _F3),
    (GS, b"(k", Action.CODE_2D, _sized(capture=True)), (GS, b"(L", Action.IMAGE, _sized()),
    (GS, b"(", _S, _sized(lead=1)), (GS, b"8L", Action.IMAGE, _sized4),
    (GS, b"v0", Action.IMAGE, _raster), (GS, b"Q0", Action.IMAGE, _raster),
    # FS: Kanji mode, NV images
    (FS, b"!", _S, _F1), (FS, b"&", Action.KANJI_ON, _F0), (FS, b".", Action.KANJI_OFF, _F0),
    (FS, b"-", _S, _F1), (FS, b"2", _S, lambda b, i: Measured(2, 72) if len(b) - i >= 2 else None),
    (FS, b"?", _S, _F2), (FS, b"C", _S, _F1), (FS, b"S", _S, _F2), (FS, b"W", _S, _F1),
    (FS, b"p", Action.IMAGE, _F2), (FS, b"q", Action.IMAGE, _nv_images),
    (FS, b"(", _S, _sized(lead=1)),
    # DLE: real-time status requests and commands
    (DLE, b"\x04", Action.STATUS, _F1), (DLE, b"\x05", Action.STATUS, _F1),
    (DLE, b"\x14", Action.STATUS, _realtime),
]


def _key_name(prefix: int, rest: bytes) -> str:
    shown = " ".join(chr(b) if 0x21 <= b < 0x7F else f"0x{b:02X}" for b in rest)
    return f"{PREFIX_NAMES[prefix]} {shown}"


COMMANDS: dict[bytes, Command] = {
    bytes((prefix,)) + rest: Command(_key_name(prefix, rest), action, measure)
    for prefix, rest, action, measure in _ENTRIES
}
# The same table keyed by the key's bytes read as one big-endian number, so the framer finds a
# command without building a bytes object for each; two-byte codes that a third byte extends.
BY_CODE: dict[int, Command] = {int.from_bytes(key, "big"): cmd for key, cmd in COMMANDS.items()}
EXTENDED_CODES = frozenset(int.from_bytes(key[:2], "big") for key in COMMANDS if len(key) == 3)


def command_name(key: bytes) -> str:
    """A readable name for any key, known or not, e.g. 'ESC t' or 'GS 0x99'."""
    return _key_name(key[0], key[1:]) if key and key[0] in PREFIX_NAMES else key.hex(" ")


def cut_length(buf: bytes | bytearray, i: int) -> int | None:
    """Length of a cut command at buf[i], 0 if there is none, None if more bytes are needed.

    Used on the forwarding path, which must hold a cut back until the footer is decided.
    """
    head = buf[i : i + 2]
    if head in (b"\x1bi", b"\x1bm"):
        return 2
    if head != b"\x1dV":
        return 0
    if len(buf) - i < 3:
        return None
    if buf[i + 2] not in CUT_WITH_FEED:
        return 3
    return 4 if len(buf) - i >= 4 else None
