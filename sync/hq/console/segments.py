"""The segments page: members by RFM segment now (sync.hq.segments), how they moved between two
month ends, and the lists for the brand's messaging channel (sync.hq.segment_export).

Every viewer sees the sizes, ranges and movement; operators and admins also get the download
forms, which are POSTs carrying the CSRF token, since each download is a copy of phone numbers
leaving HQ and is audited. Before anyone downloads, the page says how many members a list has
and how many of them HQ may message on each channel right now. Months are Bangkok calendar
months, as plain GET parameters so a view can be bookmarked; one that cannot be read shows the
default (the end of last month to now) with a note, not an error page.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from kiosk.clock import bangkok_day, iso_utc
from sync.hq import segment_export, segments
from sync.hq.console.charts import bar_chart
from sync.hq.console.i18n import Text, chosen_lang
from sync.hq.console.pages import client, page
from sync.hq.console.sessions import Login, require
from sync.hq.db import Database

router = APIRouter(include_in_schema=False)
DEFAULT_DAYS = 30  # the expiring-points list looks this far ahead unless asked otherwise
MONTHS_OFFERED = 24
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
    months = _months(bangkok_day(now))
    chosen, bad_months = _period(params.get("from", ""), params.get("to", ""), months)
    days = _within(params.get("days", "")) or DEFAULT_DAYS
    data = await run_in_threadpool(_read, state.db, now, chosen, days)
    t = Text(chosen_lang(request))
    query = {"from": chosen[0].strftime("%Y-%m"),
             "to": chosen[1].strftime("%Y-%m") if chosen[1] else NOW, "days": days}
    ends = [(m.strftime("%Y-%m"), bangkok_day(segments.month_end(m))) for m in months[1:]]
    return page(request, "segments.html", status=status, login=login, data=data,
                chart=_chart(t, data["summaries"]), ends=ends, query=query, chosen=query,
                bad_months=bad_months, days=days, max_days=segment_export.MAX_DAYS,
                channels=segment_export.CHANNELS, names=segments.SEGMENT_NAMES,
                sources=(segments.JOINED, *segments.SEGMENT_NAMES), cells=_cells(),
                problem=problem, may_export=login.operator.may("operator"))


def _read(db: Database, now: datetime, chosen: tuple[date, date | None],
          days: int) -> dict[str, Any]:
    """Everything the page shows, in one snapshot. The segments now and at the movement's
    two ends (the later usually now) come from one pass over the data."""
    first, last = chosen
    since, until = segments.month_end(first), segments.month_end(last) if last else now
    with db.read() as conn:
        moments = [now, since] if last is None else [now, since, until]
        scored, earlier, *later = segments.scores_at(conn, moments)
        before = {m: r.segment for m, r in earlier.items()}
        after = {m: r.segment for m, r in (later[0] if later else scored).items()}
        groups: dict[str, list[str]] = {name: [] for name in segments.SEGMENT_NAMES}
        for rfm in scored.values():
            groups[rfm.segment].append(rfm.member_id)
        soon = segments.expiring(conn, days, now)
        reach = segment_export.reach_counts(conn, {**groups, "expiring": [
            e.member_id for e in soon]})
    moved = segments.movement(before, after)
    return {
        "at": iso_utc(now), "since": iso_utc(since), "until": iso_utc(until),
        "summaries": segments.summarise(scored.values()),
        "ranges": segments.score_ranges(scored.values()),
        "total": len(scored), "reach": reach, "moved": moved,
        "moved_from": {name: sum(n for (a, _), n in moved.items() if a == name)
                       for name in (segments.JOINED, *segments.SEGMENT_NAMES)},
        "moved_to": {name: sum(n for (_, b), n in moved.items() if b == name)
                     for name in segments.SEGMENT_NAMES},
        "expiring": {"members": len(soon), "points": sum(e.points for e in soon)}}


def _months(today: date) -> list[date]:
    """The first days of the months whose ends the movement may compare: this month (its end
    not yet reached, so it stands for now) and the ones before, newest first."""
    first, found = today.replace(day=1), []
    for _ in range(MONTHS_OFFERED):
        found.append(first)
        first = (first - timedelta(days=1)).replace(day=1)
    return found


def _period(given_from: str, given_to: str,
            months: list[date]) -> tuple[tuple[date, date | None], bool]:
    """(month whose end starts the movement, month whose end ends it or None for now), and
    whether what was asked had to be replaced by the default: the end of last month to now."""
    default = (months[1], None)
    if not given_from and not given_to:
        return default, False
    offered = {m.strftime("%Y-%m"): m for m in months[1:]}
    first = offered.get(given_from)
    last = None if given_to in ("", NOW) else offered.get(given_to)
    if first is None or (given_to not in ("", NOW) and last is None) or (
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
