"""The shoppers tab: where members shop (sync.hq.shoppers has the figures): by the branch and
region where they claim, by the chain of the shops whose receipts they scan, and how many scan
at more than one chain; each as a chart of members with its table, under the shared filters.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from sync.hq import shoppers
from sync.hq.console.analytics import chain_label, filter_context, filter_query, read_filters
from sync.hq.console.charts import bar_chart
from sync.hq.console.i18n import Text, chosen_lang
from sync.hq.console.pages import page
from sync.hq.console.sessions import Login, require

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Login, Depends(require("viewer"))]


@router.get("/analytics/shoppers", response_class=HTMLResponse)
async def shopper_page(request: Request, login: Viewer) -> Response:
    filters, bad = read_filters(request)
    data = await run_in_threadpool(shoppers.shoppers, request.app.state.db, filters)
    t = Text(chosen_lang(request))
    labels = {row["chains"]: spread_label(t, row["chains"]) for row in data["chain_spread"]}
    return page(request, "shoppers.html", login=login, data=data, charts=_charts(t, data),
                spread_labels=labels, query=filter_query(filters),
                **filter_context(t, filters, bad, data["choices"]))


def spread_label(t: Text, chains: int) -> str:
    """'only other shops', '1 chain', ..., '4 or more chains'."""
    if chains == 0:
        return t("am_spread_none")
    if chains >= shoppers.SPREAD_CAP:
        return t("am_spread_many", count=chains)
    return t("am_spread_one") if chains == 1 else t("am_spread_some", count=chains)


def _charts(t: Text, data: dict[str, Any]) -> dict[str, Markup]:
    """Members per group: how many people, not how much money, is this tab's question."""
    labelled = {
        "by_branch": [(r["branch"], r["members"]) for r in data["by_branch"]],
        "by_region": [(r["region"] or t("am_no_region"), r["members"])
                      for r in data["by_region"]],
        "by_chain": [(chain_label(t, r["chain"]), r["members"]) for r in data["by_chain"]],
        "chain_spread": [(spread_label(t, r["chains"]), r["members"])
                         for r in data["chain_spread"]],
    }
    return {name: bar_chart(t("am_chart_members", title=t(f"am_shoppers_{name}")),
                            [(label, Decimal(n)) for label, n in bars],
                            [t.number(n) for _, n in bars])
            for name, bars in labelled.items()}
