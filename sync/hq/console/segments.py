"""The segments page: members by RFM segment as of the latest stored snapshot
(sync.hq.segment_snapshots), how they moved between two stored month ends, and the lists for
the brand's messaging channel (sync.hq.segment_export).

Scoring a million members takes a minute, so the page never scores: it reads the snapshot's
summary and asks the database only for the live reach counts and, for a pair of month ends
other than the default, one join of two snapshots. Operators can queue a refresh ("refresh
now", a POST with the CSRF token, audited); the background thread does it, not the request.

Every viewer sees the sizes, ranges and movement; operators and admins also get the download
forms, which are POSTs carrying the CSRF token, since each download is a copy of phone numbers
leaving HQ and is audited. Before anyone downloads, the page says how many members a list has
and how many of them HQ may message on each channel right now. Months are Bangkok calendar
months whose ends are stored, as plain GET parameters so a view can be bookmarked; one that
cannot be read shows the default (the latest stored month end to now) with a note.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from kiosk.clock import bangkok_day, iso_utc, parse_iso_utc
from sync.hq import segment_export, segment_snapshots, segments
from sync.hq.console import audit
from sync.hq.console.charts import bar_chart
from sync.hq.console.i18n import Text, chosen_lang
from sync.hq.console.pages import client, page
from sync.hq.console.sessions import Login, require
from sync.hq.db import Database

router = APIRouter(include_in_schema=False)
DEFAULT_DAYS = 30  # the expiring-points list looks this far ahead unless asked otherwise
REFRESH_ACTION = "segment_refresh"
NOW = "now"
Viewer = Annotated[Login, Depends(require("viewer"))]
Operator = Annotated[Login, Depends(require("operator"))]
FormText = Annotated[str, Form()]


class Problem(Exception):
    """A download form that does not fit (a hand-edited segment, channel or day count), named
    by its text key (`seg_problem_<key>`)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@router.get("/segments", response_class=HTMLResponse)
async def show(request: Request, login: Viewer) -> Response:
    return await _render(request, login)


@router.post("/segments/refresh")
async def refresh(request: Request, login: Operator, csrf: FormText = "") -> Response:
    """Queue a refresh for the background thread and record who asked; the page says it is
    queued until the new snapshot is there."""
    login.check_csrf(csrf)
    state = request.app.state
    await run_in_threadpool(_record_refresh, state.db, login.operator.name, iso_utc(state.clock()),
                            client(request))
    state.segment_refresher.request()
    return RedirectResponse("/segments", status_code=303)


@router.post("/segments/export")
async def export_segment(request: Request, login: Operator, segment: FormText = "",
                         channel: FormText = "", csrf: FormText = "") -> Response:
    """A segment's reachable members as CSV, read and audited at this moment."""
    login.check_csrf(csrf)
    state = request.app.state
    if segment not in segments.SEGMENT_NAMES:
        return await _render(request, login, problem="segment", status=400)
    if channel not in segment_export.CHANNELS:
        return await _render(request, login, problem="channel", status=400)
    done = await run_in_threadpool(
        segment_export.export_segment, state.db, segment, channel, state.clock(),
        who=login.operator.name, client=client(request))
    return _download(done)


@router.post("/segments/expiring")
async def export_expiring(request: Request, login: Operator, days: FormText = "",
                          channel: FormText = "", csrf: FormText = "") -> Response:
    """Members whose points expire within the days asked, reachable ones only, as CSV."""
    login.check_csrf(csrf)
    state = request.app.state
    within = _within(days)
    if within is None:
        return await _render(request, login, problem="days", status=400)
    if channel not in segment_export.CHANNELS:
        return await _render(request, login, problem="channel", status=400)
    done = await run_in_threadpool(
        segment_export.export_expiring, state.db, within, channel, state.clock(),
        who=login.operator.name, client=client(request))
    return _download(done)


async def _render(request: Request, login: Login, *, problem: str | None = None,
                  status: int = 200) -> Response:
    state, params = request.app.state, request.query_params
    now = state.clock()
    days = _within(params.get("days", "")) or DEFAULT_DAYS
    data = await run_in_threadpool(_read, state.db, now, days, params.get("from", ""),
                                   params.get("to", ""))
    t = Text(chosen_lang(request))
    query = {"from": data["chosen"][0], "to": data["chosen"][1], "days": days}
    chart = _chart(t, data["summaries"]) if data["snapshot"] else Markup("")
    return page(request, "segments.html", status=status, login=login, data=data, chart=chart,
                ends=data["ends"], query=query, chosen=query, bad_months=data["bad_months"],
                days=days, max_days=segment_export.MAX_DAYS, channels=segment_export.CHANNELS,
                names=segments.SEGMENT_NAMES, sources=(segments.JOINED, *segments.SEGMENT_NAMES),
                cells=_cells(), problem=problem, may_export=login.operator.may("operator"),
                queued=state.segment_refresher.queued)


def _read(db: Database, now: datetime, days: int, given_from: str,
          given_to: str) -> dict[str, Any]:
    """Everything the page shows, in one read: the latest snapshot's summary, the movement
    between the stored month ends chosen (or since the last one), live reach and expiry."""
    with db.read() as conn:
        if conn.dialect.name == "postgresql":  # compiling these joins took seconds, running
            conn.exec_driver_sql("SET LOCAL jit = off")  # them a fraction of one
        latest = segment_snapshots.latest_snapshot(conn)
        ends = [e for e in segment_snapshots.month_end_snapshots(conn)
                if latest is None or e.as_of < latest.as_of]
        offered = {_month_key(e.as_of): e for e in ends}
        (first, last), bad_months = _period(given_from, given_to, list(offered))
        soon = segments.expiring_totals(conn, days, now)
        reach = segment_export.snapshot_reach(conn, latest and latest.id, days, now)
        data: dict[str, Any] = {
            "snapshot": latest, "reach": reach, "bad_months": bad_months,
            "ends": [(key, bangkok_day(parse_iso_utc(e.as_of))) for key, e in offered.items()],
            "chosen": (first or "", last or NOW), "summaries": [], "moved": None,
            "expiring": {"members": soon[0], "points": soon[1]}}
        if latest is None:
            return data
        stored = segment_snapshots.summary(conn, latest.id)
        data.update(summaries=stored["summaries"], ranges=stored["ranges"],
                    total=stored["total"])
        if first is None:
            return data
        since, until = offered[first], offered[last] if last else latest
        moved = stored["movement"]
        if last is None and moved and moved["since"] == since.as_of:
            pairs = moved["pairs"]
        else:
            pairs = segment_snapshots.movement(conn, since.id, until.id)
    data.update(since=since.as_of, until=until.as_of, moved=pairs,
                moved_from={name: sum(n for (a, _), n in pairs.items() if a == name)
                            for name in (segments.JOINED, *segments.SEGMENT_NAMES)},
                moved_to={name: sum(n for (_, b), n in pairs.items() if b == name)
                          for name in segments.SEGMENT_NAMES})
    return data


def _record_refresh(db: Database, who: str, at: str, from_client: str | None) -> None:
    with db.write(stamped=False) as w:
        audit.record(w.conn, who, REFRESH_ACTION, at, client=from_client)


def _month_key(as_of: str) -> str:
    return bangkok_day(parse_iso_utc(as_of)).strftime("%Y-%m")


def _period(given_from: str, given_to: str,
            offered: list[str]) -> tuple[tuple[str | None, str | None], bool]:
    """(stored month end that starts the movement, one that ends it or None for the latest
    snapshot), and whether what was asked had to be replaced by the default: the newest stored
    month end to now. Both None when no month end is stored yet."""
    default = (offered[0] if offered else None, None)
    if not given_from and not given_to:
        return default, False
    first = given_from if given_from in offered else None
    last = None if given_to in ("", NOW) else given_to
    if first is None or (last is not None and last not in offered) or (
            last is not None and last <= first):
        return default, True
    return (first, last), False


def _within(given: str) -> int | None:
    """The days asked for the expiring-points list, if a whole number in range."""
    text = given.strip()
    if not text.isdigit() or not 1 <= int(text) <= segment_export.MAX_DAYS:
        return None
    return int(text)


def _cells() -> dict[str, list[tuple[int, int, int]]]:
    return {name: segments.grid_cells(name) for name in segments.SEGMENT_NAMES}


def _chart(t: Text, summaries: list[segments.Summary]) -> Markup:
    bars = [(t("seg_name_" + s.segment), Decimal(s.members)) for s in summaries]
    return bar_chart(t("seg_chart"), bars, [t.number(s.members) for s in summaries])


def _download(done: segment_export.ExportFile) -> Response:
    return Response(done.text, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{done.name}"',
        "Cache-Control": "no-store"})
