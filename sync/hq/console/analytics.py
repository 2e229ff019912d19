"""The analytics page: sales of the brand's products read from claimed receipts, as bar charts
drawn on the server with the table behind each (sync.hq.sales has the figures); and the filters
every analytics tab shares (`read_filters`, `filter_query`, templates/_analytics_filters.html).

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

from kiosk.clock import bangkok_day
from sync.hq import chains, sales
from sync.hq.console.charts import bar_chart
from sync.hq.console.i18n import Text, chosen_lang
from sync.hq.console.pages import page
from sync.hq.console.sessions import Login, require

router = APIRouter(include_in_schema=False)
DEFAULT_DAYS = 30
Viewer = Annotated[Login, Depends(require("viewer"))]


@router.get("/analytics", response_class=HTMLResponse)
async def analytics(request: Request, login: Viewer) -> Response:
    """The charts for the filters asked, default the last 30 Bangkok days."""
    filters, bad = read_filters(request)
    data = await run_in_threadpool(sales.sales, request.app.state.db, filters)
    t = Text(chosen_lang(request))
    return page(request, "analytics.html", login=login, data=data, charts=_charts(t, data),
                query=filter_query(filters), **filter_context(t, filters, bad, data["choices"]))


def read_filters(request: Request) -> tuple[sales.Filters, bool]:
    """The filters in the request's GET parameters (from, to, branch, region, chain, sku), with
    bad=True when the dates could not be read and the default range is shown instead. A chain
    the filter does not offer is dropped rather than showing nothing."""
    params = request.query_params
    first, last, bad = _dates(params.get("from", ""), params.get("to", ""),
                              bangkok_day(request.app.state.clock()))
    chain = params.get("chain", "").strip()
    return sales.Filters(
        first, last, branch=params.get("branch", "").strip() or None,
        sku=params.get("sku", "").strip() or None,
        region=params.get("region", "").strip() or None,
        chain=chain if chain in (*chains.NAMES, chains.OTHER) else None), bad


def filter_context(t: Text, filters: sales.Filters, bad: bool,
                   choices: dict[str, list[str]]) -> dict[str, Any]:
    """What templates/_analytics_filters.html reads; `choices` is sales.choices(conn)."""
    return {"filters": filters, "bad_dates": bad, "choices": choices,
            "chain_names": {chain: chain_label(t, chain) for chain in choices["chains"]}}


def filter_query(filters: sales.Filters) -> dict[str, str]:
    """The filters as GET parameters: the language switch keeps them."""
    return {"from": filters.first.isoformat(), "to": filters.last.isoformat(),
            "branch": filters.branch or "", "region": filters.region or "",
            "chain": filters.chain or "", "sku": filters.sku or ""}


def chain_label(t: Text, chain: str) -> str:
    """A chain's own name (the same in both languages), or 'other shops' in the page's."""
    return t("am_other_shops") if chain == chains.OTHER else chain


def _dates(first: str, last: str, today: date) -> tuple[date, date, bool]:
    """The range asked for (either end may be left out), or the default with bad=True when a
    date does not parse or the range runs backwards."""
    try:
        end = date.fromisoformat(last) if last else today
        start = date.fromisoformat(first) if first else end - timedelta(days=DEFAULT_DAYS - 1)
    except ValueError:
        return today - timedelta(days=DEFAULT_DAYS - 1), today, True
    if start > end:
        return today - timedelta(days=DEFAULT_DAYS - 1), today, True
    return start, end, False


def _charts(t: Text, data: dict[str, Any]) -> dict[str, Markup]:
    """One chart of baht per group; labels in the page's language."""
    labelled = {
        "by_sku": [(f"{r['sku']} {r['name']}", r["amount"]) for r in data["by_sku"]],
        "by_store": [(r["name"] or t("unknown_store"), r["amount"]) for r in data["by_store"]],
        "by_region": [(r["region"] or t("am_no_region"), r["amount"])
                      for r in data["by_region"]],
        "by_chain": [(chain_label(t, r["chain"]), r["amount"]) for r in data["by_chain"]],
        "by_hour": [(f"{r['hour']:02d}:00", r["amount"]) for r in data["by_hour"]],
        "by_weekday": [(t(f"weekday_{r['weekday']}"), r["amount"]) for r in data["by_weekday"]],
    }
    titles = {"by_region": t("am_by_region"), "by_chain": t("am_by_chain")}
    return {name: _chart(t, titles.get(name) or t(name), bars)
            for name, bars in labelled.items()}


def _chart(t: Text, title: str, bars: list[tuple[str, Decimal]]) -> Markup:
    return bar_chart(t("chart_amount", title=title), bars, [t.baht(value) for _, value in bars])
