"""The pass-through tap: POS bytes go to the printer at once; a copy is decoded on the side.

Threads, and why each exists:
  pos-forward   reads the POS and writes the printer immediately. It never waits for decoding,
                except at a cut when a receipt hook is installed, and then for at most the hook
                budget (300 ms by default); after that the cut goes out unchanged.
  printer-link  owns the printer: status replies back to the POS, reconnects, spool draining.
  decode        turns the copy (through a bounded queue) into `PrintedReceipt`s and hands each
                one to the hook on a thread of its own, so a slow or crashed hook (the loyalty
                side) delays nothing. If the queue overflows, bytes are dropped from the copy
                only, and the receipt says so.

The footer: with a hook installed, the forwarder holds back a possible cut command (`GS V`,
`ESC i`, `ESC m`) and asks the decoder whether a real cut starts there (the same bytes can sit
inside an image). If so, the hook's reply (bytes or None) is written just before the cut.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pos_bridge.escpos_commands import cut_length
from pos_bridge.escpos_decode import END, IDLE, EscPosDecoder, PrintedReceipt
from pos_bridge.links import BACKOFF, PosLink, PrinterLink
from pos_bridge.spool import Spool
from pos_bridge.transport import SerialOptions, open_transport

log = logging.getLogger(__name__)

Hook = Callable[[PrintedReceipt], bytes | None]
MAX_FOOTER = 65536
_CUT_START = re.compile(rb"\x1dV|\x1b[im]|[\x1b\x1d]\Z")  # a cut, or what may become one


@dataclass(frozen=True)
class TapConfig:
    hook_budget: float = 0.3  # longest a cut waits for the hook's footer
    idle_flush: float = 5.0  # a receipt without a cut is handed over after this much quiet
    hold_expiry: float = 0.05  # longest a possible cut waits for its remaining bytes
    default_code_page: int = 0
    code_pages: Mapping[int, str] | None = None
    queue_items: int = 4096  # chunks waiting for the decoder before the copy drops bytes
    max_hook_threads: int = 4  # hooks still running (hung) before new receipts skip the hook
    reconnect_backoff: tuple[float, float] = BACKOFF  # first and longest wait between reopens


@dataclass(frozen=True)
class _Feed:
    offset: int
    data: bytes


_STOP = _Feed(-1, b"")  # tells the decoder thread to hand over the last receipt and end


class _HookCall:
    """One run of the hook for one receipt; the forwarder may wait on it, within its budget."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.footer: bytes | None = None


class _CutQuery:
    """The forwarder's question: does a cut command start at stream offset `offset`?"""

    def __init__(self, offset: int) -> None:
        self.offset = offset
        self.decided = threading.Event()
        self.call: _HookCall | None = None  # set when it is a cut and the hook runs


class Tap:
    def __init__(self, pos: PosLink, printer: PrinterLink, hook: Hook | None = None,
                 config: TapConfig | None = None, stop: threading.Event | None = None) -> None:
        self._pos = pos
        self._printer = printer
        self._hook = hook
        self._config = config or TapConfig()
        self._stop = stop or threading.Event()
        self._queue: queue.Queue[_Feed | _CutQuery] = queue.Queue(self._config.queue_items)
        self._offset = 0  # stream offset of the next byte from the POS
        self._held = bytearray()  # read but not yet written: a possible cut and what follows it
        self._unfed: _Feed | None = None  # read, not yet queued for the decoder
        self._dropped = 0  # bytes the decoder never saw (queue full)
        self._gap = False  # bytes were dropped and no later chunk has told the decoder yet
        self._decoder_slow_until = 0.0
        self._hooks_running = threading.BoundedSemaphore(self._config.max_hook_threads)
        self._threads = [
            threading.Thread(target=self._forward_loop, name="pos-forward", daemon=True),
            threading.Thread(target=self._decode_loop, name="decode", daemon=True),
        ]

    @classmethod
    def open(cls, pos: str, printer: str, spool_dir: Path, options: SerialOptions | None = None,
             hook: Hook | None = None, config: TapConfig | None = None) -> Tap:
        """Open the POS side now (TransportError if it cannot); the printer may come later."""
        config = config or TapConfig()
        stop = threading.Event()
        pos_link = PosLink(lambda: open_transport(pos, options), stop, open_transport(pos, options),
                           config.reconnect_backoff)
        link = PrinterLink(lambda: open_transport(printer, options), Spool(spool_dir),
                           pos_link.write, printer, config.reconnect_backoff)
        return cls(pos_link, link, hook, config, stop)

    @property
    def printer(self) -> PrinterLink:
        return self._printer

    def start(self) -> Tap:
        self._printer.start()
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        """Send what is held, hand over the last receipt, close both ends."""
        self._stop.set()
        self._threads[0].join()
        self._queue.put(_STOP)
        self._threads[1].join()
        self._printer.stop()
        self._pos.close()

    def __enter__(self) -> Tap:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # forwarding

    def _forward_loop(self) -> None:
        while not self._stop.is_set():
            data = self._pos.read(self._config.hold_expiry if self._held else 0.25)
            if data:
                self._forward(data)
            elif self._held:
                self._release(expired=True)
            elif self._gap:  # tell the decoder where the stream is now, so it reports the loss
                self._enqueue(_Feed(self._offset, b""))
        if self._held:
            self._release(expired=True)

    def _forward(self, data: bytes) -> None:
        if self._hook is None:  # nothing can be inserted: straight through, then the copy
            self._printer.write(data)
            self._enqueue(_Feed(self._offset, data))
            self._offset += len(data)
            return
        self._unfed = _Feed(self._offset, data)  # to the decoder after the writes, or before
        self._offset += len(data)                # a question about them, whichever comes first
        self._held += data
        self._release(expired=False)
        self._feed_decoder()

    def _feed_decoder(self) -> None:
        if self._unfed is not None:
            self._enqueue(self._unfed)
            self._unfed = None

    def _release(self, expired: bool) -> None:
        """Write held bytes up to the next possible cut; settle the footer for complete cuts."""
        held = self._held
        while held:
            match = _CUT_START.search(held)
            if match is None:
                self._send(len(held))
                return
            self._send(match.start())
            length = cut_length(held, 0) if len(held) > 1 else None
            if not length:
                if expired:
                    self._send(len(held))
                return
            footer = self._footer_for(self._offset - len(held))
            if footer:
                self._printer.write(footer)
            self._send(length)

    def _send(self, count: int) -> None:
        if count:
            self._printer.write(bytes(self._held[:count]))
            del self._held[:count]

    def _footer_for(self, offset: int) -> bytes | None:
        """The hook's bytes for the cut at `offset`, or None: never waits past the budget."""
        if time.monotonic() < self._decoder_slow_until:
            return None
        self._feed_decoder()
        query = _CutQuery(offset)
        if not self._enqueue(query):
            return None
        deadline = time.monotonic() + self._config.hook_budget
        if not query.decided.wait(self._config.hook_budget):
            log.warning("decoder behind; cut sent without footer, footers paused for 5 s")
            self._decoder_slow_until = time.monotonic() + 5.0
            return None
        if query.call is None:
            return None  # those bytes were inside an image or a code, not a cut
        if not query.call.done.wait(max(0.0, deadline - time.monotonic())):
            log.warning("receipt hook over its %d ms budget; cut sent without footer",
                        self._config.hook_budget * 1000)
            return None
        return query.call.footer

    def _enqueue(self, item: _Feed | _CutQuery) -> bool:
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            if isinstance(item, _Feed):
                if not self._dropped:
                    log.error("decoder cannot keep up; receipts will be incomplete")
                self._dropped += len(item.data)
                self._gap = True
            return False
        self._gap = self._gap and not isinstance(item, _Feed)
        return True

    # decoding

    def _decode_loop(self) -> None:
        config = self._config
        decoder = EscPosDecoder(config.default_code_page, config.code_pages)
        cuts: OrderedDict[int, _HookCall | None] = OrderedDict()  # recent cuts by stream offset
        waiting: list[_CutQuery] = []
        printed, changed_at, flushed = 0, time.monotonic(), 0
        next_offset = 0
        while True:
            try:
                item: _Feed | _CutQuery | None = self._queue.get(timeout=0.25)
            except queue.Empty:
                item = None  # a quiet moment: only the idle check below
            if item is _STOP:
                break
            try:
                if isinstance(item, _CutQuery):
                    waiting.append(item)
                elif item is not None:
                    next_offset = item.offset + len(item.data)
                    decoder.skip_to(item.offset)
                    for receipt in decoder.feed(item.data):
                        call = self._deliver(receipt)
                        if receipt.cut_at is not None:
                            cuts[receipt.cut_at] = call
                            while len(cuts) > 64:
                                cuts.popitem(last=False)
                waiting = self._answer(waiting, cuts, decoder.consumed)
            except Exception:  # a decoder bug must not stop the copy, nor hold a cut
                log.exception("decoder failed; starting afresh")
                decoder = EscPosDecoder(config.default_code_page, config.code_pages, next_offset)
                printed = flushed = 0
                for query in waiting:
                    query.decided.set()
                waiting = []
            now = time.monotonic()
            if decoder.printed != printed:
                printed, changed_at = decoder.printed, now
            elif printed != flushed and now - changed_at >= config.idle_flush:
                flushed = printed
                self._deliver_if(decoder.flush(IDLE))
        self._deliver_if(decoder.flush(END))

    @staticmethod
    def _answer(waiting: list[_CutQuery], cuts: Mapping[int, _HookCall | None],
                consumed: int) -> list[_CutQuery]:
        still = []
        for query in waiting:
            if query.offset in cuts:
                query.call = cuts[query.offset]
                query.decided.set()
            elif consumed > query.offset:
                query.decided.set()
            else:
                still.append(query)  # the bytes at that offset are not decoded yet
        return still

    def _deliver_if(self, receipt: PrintedReceipt | None) -> None:
        if receipt is not None:
            self._deliver(receipt)

    def _deliver(self, receipt: PrintedReceipt) -> _HookCall | None:
        log.info("receipt: %d lines, %d codes, ended by %s, %d bytes%s", len(receipt.lines),
                 len(receipt.codes), receipt.ended_by, receipt.byte_count,
                 f", {len(receipt.warnings)} warnings" if receipt.warnings else "")
        if self._hook is None:
            return None
        if not self._hooks_running.acquire(blocking=False):
            log.error("receipt hook stuck (%d calls running); receipt not handed over",
                      self._config.max_hook_threads)
            return None
        call = _HookCall()
        threading.Thread(target=self._run_hook, args=(call, receipt), name="receipt-hook",
                         daemon=True).start()
        return call

    def _run_hook(self, call: _HookCall, receipt: PrintedReceipt) -> None:
        assert self._hook is not None
        try:
            footer = self._hook(receipt)
            if footer is not None and not isinstance(footer, bytes | bytearray):
                log.error("receipt hook returned %s, not bytes; ignored", type(footer).__name__)
            elif footer and len(footer) > MAX_FOOTER:
                log.error("receipt hook returned %d bytes, over %d; ignored", len(footer),
                          MAX_FOOTER)
            elif footer:
                call.footer = bytes(footer)
        except Exception:
            log.exception("receipt hook failed; cut sent unchanged")
        finally:
            call.done.set()
            self._hooks_running.release()
