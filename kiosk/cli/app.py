"""`kiosk run`, `kiosk demo`, `kiosk selfcheck` and `kiosk staff-pin`: the touch-screen app.

Qt is imported inside the handlers only, so the other kiosk commands start without it.
"""

from __future__ import annotations

import argparse
import getpass
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from kiosk.cli.common import add_json_flag, emit
from kiosk.cli.demo_hq import local_hq
from kiosk.config import Settings, load_settings
from kiosk.errors import KioskError
from kiosk.paths import assets_dir

SELFCHECK_RECEIPT = "ui/selfcheck-receipt.jpg"


def register(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser("run", help="the touch-screen kiosk app, full screen")
    run.add_argument("--windowed", action="store_true",
                     help="an ordinary window instead of full screen (setting up, testing)")
    run.set_defaults(handler=_run)

    demo = commands.add_parser("demo", help="the kiosk app on a fresh demo branch")
    demo.add_argument("--headless", action="store_true",
                      help="no window: walk the whole journey by itself, off screen")
    demo.add_argument("--screenshots", metavar="DIR",
                      help="save every screen as DIR/th/NN-name.png and DIR/en/NN-name.png")
    demo.add_argument("--folder", metavar="DIR",
                      help="the demo branch's folder (default: a new temporary folder)")
    demo.add_argument("--tour", action="store_true", help=argparse.SUPPRESS)
    demo.set_defaults(handler=_demo)

    check = commands.add_parser("selfcheck", help="prove this installation works (bundle smoke "
                                "test): database, programme, slip, OCR, Qt")
    add_json_flag(check)
    check.set_defaults(handler=_selfcheck)

    pin = commands.add_parser("staff-pin", help="make the staff PIN hash for the settings file "
                              "(PIN from the terminal, or one line on standard input)")
    pin.set_defaults(handler=_staff_pin)


def _run(args: argparse.Namespace) -> int:
    settings = load_settings(args.config, db=args.db)
    if not settings.staff_pin_hash:
        raise KioskError("no staff PIN is set, so nobody could open the staff console or leave "
                         "the app: run `kiosk staff-pin` and put its line under [branch] in the "
                         "settings file")
    from kiosk.ui.app import parts_from_settings, run_kiosk

    return run_kiosk(parts_from_settings(settings), fullscreen=not args.windowed)


# Demo
def _demo(args: argparse.Namespace) -> int:
    folder = Path(args.folder) if args.folder else Path(tempfile.mkdtemp(prefix="kiosk-demo-"))
    tour = args.headless or args.tour
    if not tour and not _has_display():
        xvfb = shutil.which("xvfb-run")
        shots = args.screenshots or str(folder / "screens")
        print("kiosk demo: no display here, so the app walks the journey by itself on a "
              f"virtual one; screenshots go to {shots}")
        if xvfb:
            command = [xvfb, "-a", "-s", "-screen 0 1920x1080x24", sys.executable, "-m",
                       "kiosk.cli.main", "demo", "--tour", "--folder", str(folder),
                       "--screenshots", shots]
            return os.spawnv(os.P_WAIT, xvfb, command)
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        args.screenshots, tour = shots, True
    if args.headless:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    print(f"kiosk demo: branch folder {folder} (database, slips/ as PNG pictures, photos)")
    print(f"kiosk demo: staff PIN {_demo_pin()}; returning member 081-234-5678 has points")
    with local_hq(folder, _demo_branch(folder)) as settings:
        if tour:
            return _tour(settings, folder, Path(args.screenshots) if args.screenshots else None)
        from kiosk.ui.app import parts_from_settings, run_kiosk

        return run_kiosk(parts_from_settings(settings), fullscreen=False, allow_close=True)


def _demo_pin() -> str:
    from kiosk.ui.demo import DEMO_PIN

    return DEMO_PIN


def _demo_branch(folder: Path) -> Settings:
    """A fresh database with the default programme's rewards and one member with points."""
    from kiosk.loyalty.service import Loyalty
    from kiosk.ui.demo import RETURNING_PHONE, STARTING_POINTS
    from kiosk.ui.pin import hash_pin

    folder.mkdir(parents=True, exist_ok=True)
    for name in ("branch.db", "branch.db-wal", "branch.db-shm"):
        (folder / name).unlink(missing_ok=True)
    for name in ("slips", "spool", "photos", "tray"):
        shutil.rmtree(folder / name, ignore_errors=True)
    settings = Settings(branch="DEMO01", db=str(folder / "branch.db"), camera="samples",
                        printer=f"file:{folder / 'slips'}", staff_pin_hash=hash_pin(_demo_pin()))
    loyalty = Loyalty.open(settings)
    try:
        loyalty.join(RETURNING_PHONE, consent=True)
        loyalty.adjust(RETURNING_PHONE, STARTING_POINTS, reason="demo starting balance",
                       staff="demo")
    finally:
        loyalty.close()
    return settings


def _tour(settings: Settings, folder: Path, screenshots: Path | None) -> int:
    from kiosk.devices.camera import FaultyCamera, make_camera
    from kiosk.ui.app import SCREEN_SIZE, apply_look, build, ensure_app, parts_from_settings
    from kiosk.ui.demo import ReceiptTray, Walk, tour_receipts

    started = time.monotonic()
    samples = getattr(make_camera("samples"), "images", [])
    tray = ReceiptTray(tour_receipts(folder / "tray", samples))
    camera = FaultyCamera(tray)
    parts = parts_from_settings(settings)
    parts.camera = camera
    app = ensure_app()
    apply_look(app)
    ctx, window = build(parts, allow_close=True)
    window.setFixedSize(*SCREEN_SIZE)
    window.show()
    out = screenshots or folder / "screens"
    try:
        saved = Walk(ctx, window, camera, tray, out).run()
    finally:
        window.leave_for_good()
        ctx.shutdown()
    slips = sorted((folder / "slips").glob("*.png"))
    print(f"kiosk demo: walked the journey in {time.monotonic() - started:.0f} s; "
          f"{len(saved)} screenshots in {out}; {len(slips)} slips printed to {folder / 'slips'}")
    return 0


def _has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                or os.environ.get("QT_QPA_PLATFORM"))


# Self-check
def _selfcheck(args: argparse.Namespace) -> int:
    """What a packaged kiosk needs, tried for real on scratch data; exit 0 only if all works."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    report: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="kiosk-selfcheck-") as scratch:
        report.update(_check_core(Path(scratch)))
    report.update(_check_reader())
    from kiosk.ui.app import check_thai_rendering

    report["qt"] = check_thai_rendering()
    lines = [f"{name:<10} {value}" for name, value in report.items()]
    emit(args, report, "kiosk selfcheck: all good\n" + "\n".join(lines))
    return 0


def _check_core(scratch: Path) -> dict[str, str]:
    from kiosk.devices.layout import render
    from kiosk.devices.slips import member_slip
    from kiosk.loyalty.service import Loyalty

    loyalty = Loyalty.open(Settings(branch="CHECK", db=str(scratch / "check.db")))
    try:
        member = loyalty.join("0812345678", consent=True)
        slip = render(member_slip(member, loyalty.programme))
        programme = loyalty.programme
        return {"database": f"SQLite ok ({scratch.name})",
                "programme": f"{programme.id} v{programme.version}, "
                             f"{len(loyalty.rewards())} rewards",
                "slip": f"member slip {len(slip.escpos)} bytes, picture "
                        f"{slip.image().width}x{slip.image().height}"}
    finally:
        loyalty.close()


def _check_reader() -> dict[str, str]:
    import pytesseract

    from kiosk.receipts.pipeline import scan_image

    try:
        version = str(pytesseract.get_tesseract_version())
    except (OSError, pytesseract.TesseractNotFoundError) as exc:
        raise KioskError("Tesseract is not installed: install tesseract-ocr and "
                         "tesseract-ocr-tha (the kiosk uses the system's)") from exc
    receipt = scan_image(assets_dir() / SELFCHECK_RECEIPT)
    if receipt.total is None:
        raise KioskError(f"Tesseract {version} ran but read no total from the sample receipt: "
                         "check the Thai language data (tesseract-ocr-tha) is installed")
    command = pytesseract.pytesseract.tesseract_cmd
    return {"tesseract": f"{version} at {shutil.which(command) or command}",
            "ocr": f"sample receipt read: {receipt.store.name}, total {receipt.total}, "
                   f"{receipt.timings_ms.get('total', 0):.0f} ms"}


# Staff PIN
def _staff_pin(args: argparse.Namespace) -> int:
    from kiosk.ui.pin import check_pin_format, hash_pin

    if sys.stdin.isatty():
        pin = getpass.getpass("New staff PIN (4-8 digits): ")
        if getpass.getpass("Again: ") != pin:
            raise KioskError("the two PINs differ; nothing was made")
    else:
        pin = sys.stdin.readline().strip()
    check_pin_format(pin)
    print("# put this line under [branch] in the kiosk settings file")
    print(f'staff_pin_hash = "{hash_pin(pin)}"')
    return 0
