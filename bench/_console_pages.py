"""The console pages bench/console.py times, and each page's floor: the main aggregate query its
data module issues for its biggest figure, written out as PostgreSQL receives it (SQLAlchemy's
SQL, parameters by name), to run bare with psycopg.

Adding a page is a line in PAGES; a page with no floor yet (None) is timed without a ratio.
The parameters are worked out as the pages work out their defaults: the overview's 30 days up
to now, the analytics pages' last 30 Bangkok days up to today, segments' now and the end of
last month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from kiosk.clock import bangkok_day, iso_utc, start_of_bangkok_day

STANDING = ("receipts.receipt_id = receipt_lines.receipt_id AND receipts.status IN "
            "('earned', 'review') AND receipts.duplicate_of IS NULL")
IN_RANGE = "receipt_lines.purchased_at >= %(from)s AND receipt_lines.purchased_at < %(to)s"


@dataclass(frozen=True)
class Page:
    path: str  # {phone}: a random known member's number, another each time
    floor: str | None  # a key of FLOORS
    where: str = ""  # a condition the floor gains, as the page's queries do with its filter


PAGES = [
    Page("/", "overview"),
    Page("/members?phone={phone}", "member"),
    Page("/analytics", "sales"),
    Page("/analytics?sku=SD-GT-500", "sales", "AND sales_days.sku = 'SD-GT-500'"),
    Page("/analytics?branch=B001", "sales", "AND sales_days.branch = 'B001'"),
    Page("/analytics/baskets", "baskets"),
    Page("/analytics/shoppers", "shoppers"),
    Page("/analytics/participation", "participation"),
    Page("/analytics/campaigns", "campaigns"),
    Page("/segments", "segments"),
    Page("/messages", "messages"),
    Page("/programme", "programme"),
    Page("/review", "review"),
]


def _periods(column: str, count: int = 31) -> str:
    """participation.period_of: the day each time falls in, -1 before the first."""
    steps = " ".join(f"WHEN ({column} < %(day{k})s) THEN {k - 1}" for k in range(count + 1))
    return f"CASE {steps} ELSE {count} END"


FLOORS = {
    # figures.active_members: members with a points event or a claim in the 30 days
    "overview": """
        SELECT count(*) AS count_1 FROM (
          SELECT ledger.member_id AS member_id FROM ledger
          WHERE ledger.stored_at > %(since)s AND ledger.stored_at <= %(now)s
          UNION SELECT receipts.member_id AS member_id FROM receipts
          WHERE receipts.at > %(since)s AND receipts.at <= %(now)s
            AND receipts.member_id IS NOT NULL) AS anon_1""",
    # admin.member_view: the member's latest ledger events
    "member": """
        SELECT ledger.id, ledger.kind, ledger.points, ledger.applied, ledger.branch,
               ledger.created_at, ledger.reason
        FROM ledger WHERE ledger.member_id = %(member_id)s
        ORDER BY ledger.hq_seq DESC LIMIT 50""",
    # sales.by_sku, from the daily summary (every day of the dataset is summarised)
    "sales": """
        SELECT sales_days.sku AS key, max(sales_days.name) AS name,
               sum(sales_days.qty) AS qty, sum(sales_days.amount_satang) AS satang,
               sum(sales_days.receipts) AS receipts
        FROM sales_days
        WHERE sales_days.sku IS NOT NULL AND sales_days.day >= %(first_day)s
          AND sales_days.day <= %(last_day)s {where}
        GROUP BY sales_days.sku""",
    # baskets.pairs: (brand SKU, other item) pairs on at least 3 receipts
    "baskets": f"""
        WITH basket_items AS (
          SELECT DISTINCT lines_in_filters.receipt_id AS receipt_id,
                 lines_in_filters.item AS item, lines_in_filters.sku AS sku
          FROM (SELECT receipt_lines.receipt_id AS receipt_id,
                       CASE WHEN (receipt_lines.sku IS NOT NULL)
                            THEN 'sku:' || receipt_lines.sku
                            ELSE 'name:' || lower(trim(receipt_lines.name)) END AS item,
                       receipt_lines.sku AS sku, receipt_lines.name AS name
                FROM receipt_lines, receipts
                WHERE {STANDING} AND {IN_RANGE}) AS lines_in_filters)
        SELECT a.item, b.item AS item_1, count(*) AS together
        FROM basket_items AS a JOIN basket_items AS b ON a.receipt_id = b.receipt_id
        WHERE a.sku IS NOT NULL AND a.item != b.item GROUP BY a.item, b.item
        HAVING count(*) >= 3""",
    # shoppers: members, receipts and baht by region, from the daily summary
    "shoppers": """
        SELECT branch_regions.region, count(DISTINCT shopper_days.member_id) AS members,
               sum(shopper_days.receipts) AS receipts, sum(shopper_days.satang) AS satang,
               sum(shopper_days.brand_satang) AS brand_satang
        FROM shopper_days LEFT OUTER JOIN branch_regions
             ON branch_regions.branch = shopper_days.branch
        WHERE shopper_days.day >= %(first_day)s AND shopper_days.day <= %(last_day)s
        GROUP BY branch_regions.region""",
    # participation: members active in each day, and how many of them were the day before
    "participation": f"""
        SELECT ordered.period, count(*) AS n,
               sum(CASE WHEN (ordered.before = ordered.period - 1) THEN 1 ELSE 0 END) AS repeat
        FROM (SELECT active_pairs.period AS period,
                     lag(active_pairs.period) OVER (PARTITION BY active_pairs.member_id
                                                    ORDER BY active_pairs.period) AS before
          FROM (SELECT DISTINCT anon_1.member_id AS member_id, anon_1.period AS period
            FROM (SELECT ledger.member_id AS member_id, {_periods("ledger.created_at")} AS period
                  FROM ledger
                  WHERE ledger.kind IN ('earn', 'checkin', 'redeem')
                    AND ledger.stored_at >= %(slack)s AND ledger.created_at >= %(day0)s
                    AND ledger.created_at < %(day31)s
                    AND (ledger.id NOT IN (SELECT ledger.corrects FROM ledger
                         WHERE ledger.kind = 'reverse' AND ledger.corrects IS NOT NULL))
                  UNION SELECT receipts.member_id AS member_id,
                         {_periods("events.at")} AS period
                  FROM receipts JOIN events ON events.hq_seq = receipts.hq_seq
                  WHERE receipts.status IN ('earned', 'review')
                    AND receipts.duplicate_of IS NULL AND receipts.at >= %(slack)s
                    AND events.topic = 'receipt' AND events.at >= %(day0)s
                    AND events.at < %(day31)s AND receipts.member_id IS NOT NULL) AS anon_1
            ) AS active_pairs) AS ordered
        GROUP BY ordered.period""",
    # campaign_results.points_given: campaign points of standing receipts bought in the range
    "campaigns": """
        SELECT campaign_points.ref, campaign_points.points,
               coalesce((SELECT min(receipt_lines.purchased_at) AS min_1 FROM receipt_lines
                         WHERE receipt_lines.receipt_id = campaign_points.receipt_id),
                        campaign_points.created_at) AS bought
        FROM campaign_points JOIN receipts
             ON receipts.receipt_id = campaign_points.receipt_id
        WHERE receipts.status IN ('earned', 'review')
          AND receipts.duplicate_of IS NULL AND campaign_points.stored_at >= %(day0)s
          AND coalesce((SELECT min(receipt_lines.purchased_at) AS min_1 FROM receipt_lines
                        WHERE receipt_lines.receipt_id = campaign_points.receipt_id),
                       campaign_points.created_at) >= %(from)s
          AND coalesce((SELECT min(receipt_lines.purchased_at) AS min_1 FROM receipt_lines
                        WHERE receipt_lines.receipt_id = campaign_points.receipt_id),
                       campaign_points.created_at) < %(to)s""",
    # segments._visits: every member's visits, now and at the end of last month
    "segments": """
        SELECT ledger.member_id,
          max(CASE WHEN (ledger.created_at <= %(now)s) THEN ledger.created_at END) AS max_1,
          sum(CASE WHEN (ledger.created_at <= %(now)s) THEN 1 ELSE 0 END) AS sum_1,
          sum(CASE WHEN (ledger.created_at > %(year_ago)s AND ledger.created_at <= %(now)s)
              THEN 1 ELSE 0 END) AS sum_2,
          max(CASE WHEN (ledger.created_at <= %(month_end)s) THEN ledger.created_at END)
              AS max_2,
          sum(CASE WHEN (ledger.created_at <= %(month_end)s) THEN 1 ELSE 0 END) AS sum_3,
          sum(CASE WHEN (ledger.created_at > %(month_end_year_ago)s
                         AND ledger.created_at <= %(month_end)s) THEN 1 ELSE 0 END) AS sum_4
        FROM ledger LEFT OUTER JOIN ledger AS reversal
             ON reversal.corrects = ledger.id AND reversal.kind = 'reverse'
        WHERE ledger.kind = 'earn' AND ledger.points > 0 AND ledger.created_at <= %(now)s
          AND reversal.id IS NULL GROUP BY ledger.member_id""",
    # messaging: the latest jobs
    "messages": """
        SELECT message_jobs.id, message_jobs.kind, message_jobs.audience, message_jobs.channel,
               message_jobs.lang, message_jobs.template, message_jobs.programme,
               message_jobs.created_by, message_jobs.created_at, message_jobs.status,
               message_jobs.counts, message_jobs.finished_at
        FROM message_jobs ORDER BY message_jobs.id DESC LIMIT 50""",
    # programme: this month's reversed redemptions, by reward
    "programme": """
        SELECT original.reason, sum(ledger.points) AS points
        FROM ledger JOIN ledger AS original ON original.id = ledger.corrects
        WHERE ledger.kind = 'reverse' AND original.kind = 'redeem'
          AND ledger.stored_at >= %(month)s AND ledger.stored_at <= %(now)s
        GROUP BY original.reason""",
    # review: receipts waiting for staff
    "review": "SELECT count(*) AS count_1 FROM receipts WHERE receipts.status = 'review'",
}


def parameters(now: datetime) -> dict[str, str]:
    today = bangkok_day(now)
    first = today - timedelta(days=29)
    month_end = start_of_bangkok_day(today.replace(day=1)) - timedelta(microseconds=1)
    days = {f"day{k}": iso_utc(start_of_bangkok_day(first + timedelta(days=k - 1)))
            for k in range(32)}
    return {"now": iso_utc(now), "since": iso_utc(now - timedelta(days=30)),
            "from": iso_utc(start_of_bangkok_day(first)),
            "to": iso_utc(start_of_bangkok_day(today + timedelta(days=1))),
            "slack": iso_utc(start_of_bangkok_day(first - timedelta(days=2))),
            "year_ago": iso_utc(now - timedelta(days=365)), "month_end": iso_utc(month_end),
            "month_end_year_ago": iso_utc(month_end - timedelta(days=365)),
            "month": iso_utc(start_of_bangkok_day(today.replace(day=1))),
            "first_day": first.isoformat(), "last_day": today.isoformat(), **days}
