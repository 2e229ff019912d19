"""The participation tab: members joining and taking part over time, as line charts drawn on
the server with the table behind them (sync.hq.participation has the figures).

It shares the analytics filters (console.analytics): the same GET parameters, form and date
handling as the sales tab, so a view moves between tabs with its filters.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from kiosk.clock import format_date
from sync.hq import participation
from sync.hq.console.analytics import filter_context, filter_query, read_filters
from sync.hq.console.i18n import Text, chosen_lang
from sync.hq.console.pages import page
from sync.hq.console.sessions import Login, require
from sync.hq.console.trend import line_chart

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Login, Depends(require("viewer"))]
COUNTS = ("new_members", "active", "receipts")
RATES = ("active_share", "repeat_rate")
RATIOS = ("receipts_per_active",)


@router.get("/analytics/participation", response_class=HTMLResponse)
async def show(request: Request, login: Viewer) -> Response:
    """The figures per day or week for the filters asked, default the last 30 Bangkok days."""
    filters, bad = read_filters(request)
    data = await run_in_threadpool(participation.participation, request.app.state.db, filters)
    t = Text(chosen_lang(request))
    return page(request, "participation.html", login=login, data=data, charts=_charts(t, data),
                names=(*COUNTS, *RATES, *RATIOS), ratio=ratio, query=filter_query(filters),
                **filter_context(t, filters, bad, data["choices"]))


def ratio(t: Text, value: float | None) -> str:
    """Receipts per active member, to two places; a dash when no one was active."""
    return f"{value:.2f}" if value is not None else t("no_rate")


def _charts(t: Text, data: dict[str, Any]) -> dict[str, Markup]:
    """One line per figure; each period labelled by its first day."""
    labels = [format_date(row["first"], t.lang, short=True) for row in data["rows"]]
    charts = {}
    for name in (*COUNTS, *RATES, *RATIOS):
        values = [row[name] for row in data["rows"]]
        if name in COUNTS:
            shown = [t.number(v) for v in values]
        elif name in RATES:
            shown = [t.rate(v) for v in values]
        else:
            shown = [ratio(t, v) for v in values]
        title = t("part_chart", figure=t(f"part_{name}"), unit=t(f"part_per_{data['unit']}"))
        charts[name] = line_chart(title, list(zip(labels, values, strict=True)), shown)
    return charts
