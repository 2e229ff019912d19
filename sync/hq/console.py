"""The console's home page: plain server-rendered HTML, no script and nothing loaded from
elsewhere, so it works on an HQ network with no internet and in any browser staff have."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from kiosk.clock import format_datetime, parse_iso_utc
from sync.hq.report import overview

router = APIRouter(include_in_schema=False)

STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;margin-bottom:2rem}
th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}.num{text-align:right}.warn{color:#a40000}
"""


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    state = request.app.state
    data = await run_in_threadpool(overview, state.db, state.clock())
    return HTMLResponse(render(data))


def render(data: dict[str, Any]) -> str:
    """The page for `report.overview` data; every value from the database is escaped."""
    totals = data["totals"]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>Loyalty HQ</title>", f"<style>{STYLE}</style></head><body>",
        "<h1>Loyalty HQ</h1>", f"<p>As of {_when(data['at'])} (Bangkok time)</p>",
        "<h2>Totals</h2><table>",
        _row("Branches", totals["branches"]), _row("Members", totals["members"]),
        _row("Events received", totals["events"]),
        _row("Points owed to members", totals["liability"]),
        _row("Open alerts", totals["open_alerts"]), "</table>",
        "<h2>Branches</h2>",
    ]
    if data["branches"]:
        parts.append("<table><tr><th>Branch</th><th>Last upload</th><th>Last seen</th>"
                     "<th>Epochs (acked seq)</th></tr>")
        for branch in data["branches"]:
            epochs = "<br>".join(f"{escape(e['epoch'])}: {e['acked']}" for e in branch["epochs"])
            parts.append(f"<tr><td>{escape(branch['id'])}</td>"
                         f"<td>{_when(branch['last_upload_at'])}</td>"
                         f"<td>{_when(branch['last_seen_at'])}</td><td>{epochs or '—'}</td></tr>")
        parts.append("</table>")
    else:
        parts.append("<p>No branches yet: add one with <code>hq branch add ID</code>.</p>")
    parts.append("<h2>Open alerts</h2>")
    if data["alerts"]:
        parts.append("<table><tr><th>When</th><th>Kind</th><th>Branch</th><th>Member</th>"
                     "<th>Detail</th></tr>")
        for alert in data["alerts"]:
            detail = json.dumps(alert["detail"], ensure_ascii=False, sort_keys=True)
            parts.append(f"<tr><td>{_when(alert['at'])}</td>"
                         f"<td class='warn'>{escape(alert['kind'])}</td>"
                         f"<td>{escape(alert['branch'] or '—')}</td>"
                         f"<td>{escape(alert['member_id'] or '—')}</td>"
                         f"<td><code>{escape(detail)}</code></td></tr>")
        parts.append("</table>")
    else:
        parts.append("<p>None.</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _row(label: str, value: int) -> str:
    return f"<tr><th>{escape(label)}</th><td class='num'>{value:,}</td></tr>"


def _when(text: str | None) -> str:
    return escape(format_datetime(parse_iso_utc(text), "en")) if text else "never"
