"""`kiosk doctor`: proves the ledger rules hold on a database, or says which row breaks which."""

from __future__ import annotations

from dataclasses import dataclass, field

from kiosk.clock import parse_iso_utc
from kiosk.loyalty.ids import id_millis
from kiosk.store import checks
from kiosk.store.db import Store
from kiosk.store.migrations import LATEST_VERSION, current_version

EXPECTED_TRIGGERS = {"ledger_no_update", "ledger_no_delete", "outbox_no_delete"}
SHOWN_PER_RULE = 5


@dataclass
class Finding:
    rule: str
    meaning: str
    examples: list[str] = field(default_factory=list)
    count: int = 0


def examine(store: Store) -> list[Finding]:
    """Every broken rule with a few offending rows; an empty list means healthy."""
    findings: list[Finding] = []
    problems = checks.integrity(store)
    if problems:
        findings.append(Finding("sqlite_integrity", "SQLite reports damage", problems[:5],
                                len(problems)))
    version = current_version(store)
    if version != LATEST_VERSION:
        findings.append(Finding("schema_version", f"schema is version {version}, the code "
                                f"expects {LATEST_VERSION}", count=1))
    missing = EXPECTED_TRIGGERS - checks.immutability_triggers(store)
    if missing:
        findings.append(Finding("ledger_is_immutable", "immutability triggers are missing",
                                sorted(missing), len(missing)))
    for rule, (meaning, sql) in checks.RULES.items():
        rows = checks.violations(store, sql)
        if rows:
            findings.append(Finding(rule, meaning, [str(r) for r in rows[:SHOWN_PER_RULE]],
                                    len(rows)))
    mismatched = [event_id for event_id, created in checks.event_ids_and_times(store)
                  if id_millis(event_id) < int(parse_iso_utc(created).timestamp() * 1000)]
    if mismatched:
        findings.append(Finding("ids_time_ordered", "event id older than its time stamp",
                                mismatched[:SHOWN_PER_RULE], len(mismatched)))
    return findings
