"""The baskets tab: what members buy together with the brand's products (sync.hq.baskets has
the figures), the strongest pairs by lift and the commonest by count, each as a chart with its
table, under the filters every analytics tab shares plus the least receipts a pair needs.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from sync.hq import baskets
from sync.hq.console.analytics import filter_context, filter_query, read_filters
from sync.hq.console.charts import bar_chart
from sync.hq.console.i18n import Text, chosen_lang
from sync.hq.console.pages import page
from sync.hq.console.sessions import Login, require

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Login, Depends(require("viewer"))]


@router.get("/analytics/baskets", response_class=HTMLResponse)
async def basket_page(request: Request, login: Viewer) -> Response:
    filters, bad = read_filters(request)
    minimum = _minimum(request.query_params.get("min", ""))
    data = await run_in_threadpool(baskets.baskets, request.app.state.db, filters, minimum)
    t = Text(chosen_lang(request))
    choice = {"name": "min", "label": t("am_minimum"), "selected": str(minimum),
              "options": [(str(n), t.number(n)) for n in baskets.MINIMUMS]}
    return page(request, "baskets.html", login=login, data=data, charts=_charts(t, data),
                extra_filters=[choice], query={**filter_query(filters), "min": minimum},
                **filter_context(t, filters, bad, data["choices"]))


def pair_label(pair: dict[str, Any]) -> str:
    """'SD-GT-500 + potato chips': the SKU and what was bought with it."""
    other = pair["other_name"]
    return f"{pair['sku']} + {pair['other_sku'] + ' ' + other if pair['other_sku'] else other}"


def _minimum(given: str) -> int:
    """The least receipts a pair needs, if it is one the page offers; else the default."""
    return int(given) if given in {str(n) for n in baskets.MINIMUMS} else \
        baskets.DEFAULT_MINIMUM


def _charts(t: Text, data: dict[str, Any]) -> dict[str, Markup]:
    """Lift to two places, and receipts together, for the pairs in each table."""
    lifts = [(pair_label(p), Decimal(f"{p['lift']:.2f}")) for p in data["by_lift"]]
    counts = [(pair_label(p), Decimal(p["together"])) for p in data["by_count"]]
    return {"by_lift": bar_chart(t("am_chart_lift"), lifts, [str(v) for _, v in lifts]),
            "by_count": bar_chart(t("am_chart_together"), counts,
                                  [t.number(int(v)) for _, v in counts])}
