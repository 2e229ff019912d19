"""The campaigns tab: each campaign of the published programme, the days it ran in the range,
the points it gave and the brand's sales on its days against comparable days, as bar charts with
the tables behind them (sync.hq.campaign_results has the figures and says how they are made).

It shares the analytics filters (console.analytics), so a view keeps its filters across tabs.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from kiosk.clock import bangkok_day
from kiosk.loyalty.programme import Campaign
from sync.hq import campaign_results
from sync.hq.console.analytics import filter_context, filter_query, read_filters
from sync.hq.console.charts import bar_chart
from sync.hq.console.i18n import Text, chosen_lang
from sync.hq.console.pages import page
from sync.hq.console.sessions import Login, require

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Login, Depends(require("viewer"))]


@router.get("/analytics/campaigns", response_class=HTMLResponse)
async def show(request: Request, login: Viewer) -> Response:
    """Every campaign's results for the filters asked, default the last 30 Bangkok days."""
    filters, bad = read_filters(request)
    state = request.app.state
    data = await run_in_threadpool(campaign_results.results, state.db, filters,
                                   bangkok_day(state.clock()))
    t = Text(chosen_lang(request))
    return page(request, "campaigns.html", login=login, data=data, charts=_charts(t, data),
                name=name, rules=rules, money=money, baht=campaign_results.baht,
                query=filter_query(filters),
                **filter_context(t, filters, bad, data["choices"]))


def name(t: Text, campaign: Campaign) -> str:
    return campaign.name_th if t.lang == "th" else campaign.name_en


def money(t: Text, value: Decimal | None) -> str:
    """Baht, or a dash where there was nothing to compare with."""
    return t.baht(value) if value is not None else t("no_rate")


def rules(t: Text, campaign: Campaign) -> str:
    """What the campaign gives and when, in the page's language, from its programme entry."""
    parts = []
    if campaign.multiplier != 1:
        parts.append(t("cres_rule_multiplier", multiplier=campaign.multiplier))
    if campaign.bonus_points:
        parts.append(t("cres_rule_bonus", points=campaign.bonus_points))
    if campaign.start:
        parts.append(t("cres_rule_from", day=t.day(campaign.start)))
    if campaign.end:
        parts.append(t("cres_rule_until", day=t.day(campaign.end)))
    if campaign.weekdays:
        parts.append(", ".join(t(f"weekday_{d}") for d in sorted(campaign.weekdays)))
    if campaign.days_of_month:
        parts.append(t("cres_rule_days_of_month",
                       days=", ".join(str(d) for d in sorted(campaign.days_of_month))))
    if campaign.month_end_days:
        parts.append(t("cres_rule_month_end", days=campaign.month_end_days))
    if campaign.double_day:
        parts.append(t("cres_rule_double_day"))
    if campaign.birthday_month:
        parts.append(t("cres_rule_birthday"))
    if campaign.min_spend is not None:
        parts.append(t("cres_rule_min_spend", amount=t.baht(campaign.min_spend)))
    if campaign.skus:
        parts.append(t("cres_rule_skus", skus=", ".join(sorted(campaign.skus))))
    if campaign.branches:
        parts.append(t("cres_rule_branches", branches=", ".join(sorted(campaign.branches))))
    return "; ".join(parts)


def _charts(t: Text, data: dict[str, Any]) -> dict[str, Markup]:
    """Points by campaign; baht per day on campaign days and on comparable days."""
    found = data["campaigns"]
    points = [(name(t, c["campaign"]), Decimal(c["points"])) for c in found]
    compared = [c for c in found if c["compared_days"]]
    sales = [bar for c in compared for bar in (
        (t("cres_bar_campaign", name=name(t, c["campaign"])), c["actual_per_day"]),
        (t("cres_bar_comparable", name=name(t, c["campaign"])), c["expected_per_day"]))]
    return {"points": bar_chart(t("cres_points_chart"), points,
                                [t.number(int(value)) for _, value in points]),
            "sales": bar_chart(t("cres_sales_chart"), sales,
                               [t.baht(value) for _, value in sales])}
