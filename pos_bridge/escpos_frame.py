"""Cut an ESC/POS byte stream into tokens (text runs, control bytes, whole commands).

Incremental: chunks may split anywhere, even inside a command; an incomplete command waits in a
small buffer for the rest. Image payloads are skipped as they stream past, never buffered, and a
length field too large to be real is rejected, so garbage can neither stall the framer nor make it
hold megabytes. Offsets are absolute positions in the stream, which lets the tap ask "is there a
cut command starting at byte N?".
"""

from __future__ import annotations

import enum
import re
from typing import NamedTuple

from pos_bridge.escpos_commands import (
    BY_CODE,
    EXTENDED_CODES,
    MAX_CAPTURE,
    MAX_PAYLOAD,
    PREFIXES,
    Command,
    Measure,
    command_name,
)

_CONTROL = re.compile(rb"[\x00-\x1f]")
# Control bytes that print nothing and start nothing (NUL, CR, CAN, ...): stepped over in runs.
_IGNORED = re.compile(rb"[\x00-\x08\x0b\x0d-\x0f\x11-\x1a\x1e\x1f]+")


class Kind(enum.Enum):
    TEXT = "text"  # printable bytes, still in the printer's code page
    CONTROL = "control"  # a layout byte: LF, HT or FF (other control bytes print nothing)
    COMMAND = "command"
    BAD = "bad"  # an unknown command or an impossible length, stepped over


class Token(NamedTuple):  # a tuple, not a dataclass: the framer makes one per command
    kind: Kind
    start: int
    end: int  # one past the last byte, payload included even when it was skipped
    data: bytes  # text bytes, the control byte, or the command's parameters
    command: Command | None = None
    payload: bytes | None = None  # captured payload (codes); None when skipped
    problem: str | None = None  # why a BAD token was stepped over


class EscPosFramer:
    """Feed chunks, get tokens. Never raises on any input and always consumes what it can."""

    def __init__(self, offset: int = 0) -> None:
        self.reset(offset)

    def reset(self, offset: int) -> None:
        """Start afresh at stream position `offset` (after bytes were lost, for instance)."""
        self._buf = bytearray()
        self._base = offset  # stream position of self._buf[0]
        self._skip = 0  # payload bytes still to step over
        self._block: tuple[Measure, int] | None = None  # follow-on blocks still to come

    @property
    def consumed(self) -> int:
        """Stream position up to which every byte has been turned into a token or skipped."""
        return self._base

    @property
    def pending(self) -> int:
        """Bytes held back because the command they start is not complete yet."""
        return len(self._buf)

    def feed(self, chunk: bytes) -> list[Token]:
        tokens: list[Token] = []
        buf = self._buf
        buf += chunk
        pos, size = 0, len(buf)
        while pos < size:
            if self._skip:
                step = min(self._skip, size - pos)
                pos += step
                self._skip -= step
                continue
            if self._block is not None:
                nxt = self._next_block(buf, pos, tokens)
            elif buf[pos] >= 0x20:
                match = _CONTROL.search(buf, pos)
                nxt = match.start() if match else size
                tokens.append(Token(Kind.TEXT, self._base + pos, self._base + nxt,
                                    bytes(buf[pos:nxt])))
            elif buf[pos] in PREFIXES:
                nxt = self._command(buf, pos, tokens)
            elif match := _IGNORED.match(buf, pos):
                nxt = match.end()
            else:  # LF, HT, FF
                nxt = pos + 1
                tokens.append(Token(Kind.CONTROL, self._base + pos, self._base + nxt,
                                    bytes(buf[pos:nxt])))
            if nxt < 0:
                break  # an incomplete command: wait for more bytes
            pos = nxt
        del buf[:pos]
        self._base += pos
        return tokens

    def _command(self, buf: bytearray, pos: int, tokens: list[Token]) -> int:
        size = len(buf)
        if size - pos < 2:
            return -1
        code, i = buf[pos] << 8 | buf[pos + 1], pos + 2
        command = None
        if code in EXTENDED_CODES:
            if size - pos < 3:
                return -1
            command = BY_CODE.get(code << 8 | buf[pos + 2])
            if command is not None:
                i += 1
        command = command or BY_CODE.get(code)
        start = self._base + pos
        if command is None:  # the bounded rule: step over the prefix and the command byte
            key = bytes(buf[pos : pos + 2])
            tokens.append(Token(Kind.BAD, start, start + 2, key,
                                problem=f"unknown command {command_name(key)}"))
            return pos + 2
        measured = command.measure(buf, i)
        if measured is None:
            return -1
        head_end = i + measured.params
        params = bytes(buf[i:head_end])
        if measured.payload > MAX_PAYLOAD:
            tokens.append(Token(Kind.BAD, start, self._base + head_end, params, command,
                                problem=f"{command.name} claims {measured.payload} bytes; ignored"))
            return head_end
        end = head_end + measured.payload
        if measured.capture and measured.payload <= MAX_CAPTURE:
            if size < end:
                return -1
            tokens.append(Token(Kind.COMMAND, start, self._base + end, params, command,
                                bytes(buf[head_end:end])))
            return end
        tokens.append(Token(Kind.COMMAND, start, self._base + end, params, command))
        self._skip = measured.payload
        if measured.then is not None and measured.repeat > 0:
            self._block = (measured.then, measured.repeat)
        return head_end

    def _next_block(self, buf: bytearray, pos: int, tokens: list[Token]) -> int:
        """The next image of FS q or character of ESC &: a header, then a skipped payload."""
        assert self._block is not None
        measure, left = self._block
        measured = measure(buf, pos)
        if measured is None:
            return -1
        head_end = pos + measured.params
        if measured.payload > MAX_PAYLOAD:
            self._block = None
            tokens.append(Token(Kind.BAD, self._base + pos, self._base + head_end,
                                bytes(buf[pos:head_end]), problem="image block too large; ignored"))
            return head_end
        self._block = (measure, left - 1) if left > 1 else None
        self._skip = measured.payload
        return head_end
