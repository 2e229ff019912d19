"""The spool: nothing lost on paper out, offline or a crash; nothing printed twice on retry."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from kiosk.devices.layout import PAPER_80, Slip, Text, render
from kiosk.devices.print_queue import PrintJob, PrintQueue
from kiosk.devices.printer import FaultyPrinter, PrinterState
from kiosk.devices.slips import coupon_slip
from kiosk.errors import KioskError
from kiosk.loyalty import redemption


def slip(ref: str):
    return render(Slip("test", ref, (Text(f"Slip {ref}"),)), PAPER_80)


def test_paper_out_keeps_the_job_and_loading_paper_prints_it_exactly_once(tmp_path: Path):
    printer = FaultyPrinter()
    queue = PrintQueue(tmp_path, printer)
    printer.paper_out = True
    result = queue.submit(slip("A"))
    assert not result.printed and result.status.state == PrinterState.PAPER_OUT
    assert "load a new roll" in result.message
    (job,) = queue.pending()
    assert job.id == result.job_id and job.attempts == 1 and "out of paper" in job.last_error
    assert queue.retry_all()[0].printed is False  # still no paper: still pending
    assert queue.pending()[0].attempts == 2
    printer.load_paper()
    assert [r.printed for r in queue.retry_all()] == [True]
    assert queue.retry_all() == [] and queue.pending() == []
    assert [s.ref for s in printer.printed] == ["A"]
    assert queue.printed()[0].id == job.id and queue.printed()[0].printed_at


def test_retry_prints_oldest_first_and_stops_at_the_first_failure(tmp_path: Path):
    printer = FaultyPrinter()
    queue = PrintQueue(tmp_path, printer)
    printer.offline = True
    for ref in "ABC":
        queue.submit(slip(ref))
    assert len(queue.retry_all()) == 1  # the printer is still away: one try, not three
    printer.offline = False
    assert all(r.printed for r in queue.retry_all())
    assert [s.ref for s in printer.printed] == ["A", "B", "C"]


def test_a_job_spooled_before_a_crash_is_still_pending_after_restart(tmp_path: Path):
    printer = FaultyPrinter()
    job = PrintQueue(tmp_path, printer).spool(slip("A"))  # then the process dies
    reopened = PrintQueue(tmp_path, printer)
    (pending,) = reopened.pending()
    assert pending.id == job.id and pending.slip == job.slip
    assert reopened.retry_all()[0].printed
    assert [s.escpos for s in printer.printed] == [job.slip.escpos]


def test_restart_tidies_half_written_files_and_finished_moves(tmp_path: Path):
    printer = FaultyPrinter()
    queue = PrintQueue(tmp_path, printer)
    queue.submit(slip("A"))
    (done,) = queue.printed()
    # A crash after the printed copy was written but before the pending one was removed,
    # and another in the middle of writing a new job.
    (tmp_path / "pending" / f"{done.id}.job").write_bytes(
        (tmp_path / "printed" / f"{done.id}.job").read_bytes())
    (tmp_path / "pending" / ".half.job.x.tmp").write_bytes(b'{"format": 1, "id"')
    reopened = PrintQueue(tmp_path, printer)
    assert reopened.pending() == []
    assert list((tmp_path / "pending").iterdir()) == []


def test_offline_in_the_middle_of_a_job_prints_the_whole_slip_again(tmp_path: Path):
    printer = FaultyPrinter()
    queue = PrintQueue(tmp_path, printer)
    printer.offline_mid_job = True
    result = queue.submit(slip("A"))
    assert not result.printed and result.status.state == PrinterState.OFFLINE
    assert printer.partial and queue.pending()
    printer.offline = False
    assert queue.reprint(result.job_id).printed
    assert printer.printed[0].escpos == slip("A").escpos and queue.pending() == []


def test_reprint_of_a_printed_slip_is_a_new_job_spooled_first(tmp_path: Path):
    printer = FaultyPrinter()
    queue = PrintQueue(tmp_path, printer)
    first = queue.submit(slip("A"))
    printer.paper_out = True
    again = queue.reprint(first.job_id)
    assert not again.printed and again.job_id != first.job_id
    assert queue.pending()[0].reprint_of == first.job_id
    printer.load_paper()
    queue.retry_all()
    assert [s.ref for s in printer.printed] == ["A", "A"]
    with pytest.raises(KioskError, match="no print job nope"):
        queue.reprint("nope")


def test_only_the_last_printed_slips_are_kept(tmp_path: Path):
    queue = PrintQueue(tmp_path, FaultyPrinter(), keep_printed=2)
    for ref in "ABC":
        queue.submit(slip(ref))
    assert [job.slip.ref for job in queue.printed()] == ["C", "B"]


def test_concurrent_submits_and_retries_print_each_slip_once(tmp_path: Path):
    printer = FaultyPrinter(delay=0.01)
    queue = PrintQueue(tmp_path, printer)
    printer.paper_out = True
    for ref in "AB":
        queue.submit(slip(ref))
    printer.load_paper()
    workers = [threading.Thread(target=queue.retry_all) for _ in range(3)]
    workers.append(threading.Thread(target=queue.submit, args=(slip("C"),)))
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(s.ref for s in printer.printed) == ["A", "B", "C"]


def test_a_printed_coupon_is_marked_printed_in_the_branch_store(tmp_path: Path, shop):
    marked: list[str] = []

    def mark(job: PrintJob) -> None:
        if job.slip.kind == "coupon":
            redemption.mark_printed(shop.loyalty, job.slip.ref)
            marked.append(job.slip.ref)

    printer = FaultyPrinter()
    queue = PrintQueue(tmp_path, printer, on_printed=mark)
    printer.paper_out = True
    queue.submit(render(coupon_slip(shop.coupon, shop.loyalty.programme), PAPER_80))
    assert marked == [] and _printed_at(shop) is None  # not printed: not marked
    printer.load_paper()
    queue.retry_all()
    assert marked == [shop.coupon.code] and _printed_at(shop) is not None


def test_a_failing_after_print_hook_does_not_undo_the_print(tmp_path: Path):
    def broken(job: PrintJob) -> None:
        raise RuntimeError("database locked")

    printer = FaultyPrinter()
    queue = PrintQueue(tmp_path, printer, on_printed=broken)
    assert queue.submit(slip("A")).printed and queue.pending() == []


def _printed_at(shop) -> str | None:
    return shop.loyalty.store.scalar("SELECT printed_at FROM coupons WHERE code = ?",
                                     (shop.coupon.code,))
