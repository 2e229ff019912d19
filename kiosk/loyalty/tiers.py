"""Tiers from rolling points: promotion the moment a threshold is crossed, demotion on review."""

from __future__ import annotations

from kiosk.loyalty.programme import Programme, Tier


def tier_for_points(programme: Programme, points: int) -> Tier:
    """The highest tier whose threshold the rolling points reach."""
    reached = programme.tiers[0]
    for tier in programme.tiers:
        if points >= tier.threshold:
            reached = tier
    return reached


def rank(programme: Programme, tier_id: str) -> int:
    return next((i for i, t in enumerate(programme.tiers) if t.id == tier_id), 0)


def next_tier(programme: Programme, tier_id: str) -> Tier | None:
    index = rank(programme, tier_id) + 1
    return programme.tiers[index] if index < len(programme.tiers) else None
