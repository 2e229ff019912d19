"""The analytics page: sales of the brand's products read from claimed receipts, as bar charts
drawn on the server with the table behind each (sync.hq.sales has the figures).

Filters are plain GET parameters, so a view can be bookmarked or sent to a colleague. Dates are
Bangkok calendar days, as a shop's staff and the brand's sales people count them. A date that
cannot be read (a hand-edited link) shows the default range with a note, not an error page.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy import select

from kiosk.clock import bangkok_day
from sync.hq import sales, schema
from sync.hq.console.charts import bar_chart
from sync.hq.console.i18n import Text, chosen_lang
from sync.hq.console.pages import page
from sync.hq.console.sessions import Login, require
from sync.hq.db import Database

router = APIRouter(include_in_schema=False)
DEFAULT_DAYS = 30
Viewer = Annotated[Login, Depends(require("viewer"))]


@router.get("/analytics", response_class=HTMLResponse)
async def analytics(request: Request, login: Viewer) -> Response:
    """The three charts for the filters asked, default the last 30 Bangkok days."""
    state, params = request.app.state, request.query_params
    filters, bad = _filters(params.get("from", ""), params.get("to", ""),
                            bangkok_day(state.clock()), params.get("branch", "").strip(),
                            params.get("sku", "").strip())
    data, branches = await run_in_threadpool(_read, state.db, filters)
    t = Text(chosen_lang(request))
    charts = _charts(t, data)
    query = {"from": filters.first.isoformat(), "to": filters.last.isoformat(),
             "branch": filters.branch or "", "sku": filters.sku or ""}
    return page(request, "analytics.html", login=login, filters=filters, bad_dates=bad,
                data=data, charts=charts, branches=branches, query=query)


def _filters(first: str, last: str, today: date, branch: str,
             sku: str) -> tuple[sales.Filters, bool]:
    """The range asked for (either end may be left out), or the default with bad=True when a
    date does not parse or the range runs backwards."""
    default_first = today - timedelta(days=DEFAULT_DAYS - 1)
    try:
        end = date.fromisoformat(last) if last else today
        start = date.fromisoformat(first) if first else end - timedelta(days=DEFAULT_DAYS - 1)
        bad = start > end
    except ValueError:
        bad = True
    if bad:
        start, end = default_first, today
    return sales.Filters(start, end, branch or None, sku or None), bad


def _read(db: Database, filters: sales.Filters) -> tuple[dict[str, Any], list[str]]:
    data = sales.sales(db, filters)
    with db.read() as conn:
        branches = list(conn.execute(select(schema.branches.c.id)
                                     .order_by(schema.branches.c.id)).scalars())
    return data, branches


def _charts(t: Text, data: dict[str, Any]) -> dict[str, Markup]:
    """One chart of baht per group; labels in the page's language."""
    labelled = {
        "by_sku": [(f"{r['sku']} {r['name']}", r["amount"]) for r in data["by_sku"]],
        "by_store": [(r["name"] or t("unknown_store"), r["amount"]) for r in data["by_store"]],
        "by_hour": [(f"{r['hour']:02d}:00", r["amount"]) for r in data["by_hour"]],
        "by_weekday": [(t(f"weekday_{r['weekday']}"), r["amount"]) for r in data["by_weekday"]],
    }
    return {name: _chart(t, t(name), bars) for name, bars in labelled.items()}


def _chart(t: Text, title: str, bars: list[tuple[str, Decimal]]) -> Markup:
    return bar_chart(t("chart_amount", title=title), bars, [t.baht(value) for _, value in bars])
