"""Claim QR tokens: the till's promise that a receipt was printed here, claimable once, for a while.

When the POS bridge prints a receipt for a shopper who was not identified at the till, it adds a
QR code holding a token. At the kiosk the shopper scans it instead of the receipt: the token names
the receipt the bridge stored, so its fields come from the printer, not from OCR.

Token format, version 1 (ASCII, fields separated by ``;``, values %-encoded where needed)::

    LOYC1;b=B001;id=01JZ5Q8R3V6W7X8Y9Z0A1B2C3D;exp=1784393999;receipt_no=R-00042;
    total=59.00;date=2026-06-16T10:15;tax_id=0105536002341;sig=Qh3v0yJ7Qm2Zt4cW1sXkAg

- ``b`` branch id, ``id`` the stored receipt (`pos_receipts.id`), ``exp`` expiry in Unix
  seconds (the end of the last day the receipt may earn under the programme's
  `receipt_max_age_days`).
- ``receipt_no``, ``total``, ``date`` (Bangkok time, no offset) and ``tax_id`` are the receipt's
  fields in the key=value form `kiosk.receipts.codes.parse_claim` reads, so a reader that cannot
  verify the signature still gets exact fields. Only ``b``, ``id`` and ``exp`` are trusted after
  verification; the claim uses the stored receipt.
- ``sig`` is HMAC-SHA256 over every byte before ``;sig=``, truncated to 16 bytes (128 bits, as
  RFC 2104 allows) and base64url-encoded without padding: 22 characters, so the QR stays small
  enough to scan off a crumpled thermal receipt.

The key: with an HQ key in the settings, HMAC-SHA256(hq_key, "loyalty claim token v1"), so HQ can
verify a branch's tokens too; without one, 32 random bytes made once per branch. Either way the
bridge writes it to `meta` (`install_key`), where the kiosk on the same database finds it; the
key before a change is kept one round, so tokens printed just before the HQ key changed still
work. Single use is recorded on the stored receipt in the same transaction as the claim.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

from kiosk.clock import format_date, iso_utc, parse_iso_utc, to_bangkok
from kiosk.loyalty import claims
from kiosk.loyalty.claims import ClaimRefused, ClaimResult
from kiosk.money import format_money
from kiosk.receipts.model import Receipt
from kiosk.store import meta, pos_receipts
from kiosk.store.db import Store

if TYPE_CHECKING:
    from kiosk.loyalty.service import Loyalty

PREFIX = "LOYC1"
KEY_META, PREVIOUS_KEY_META = "claim_token_key", "claim_token_key_previous"
SIGNATURE_BYTES = 16
_DERIVATION = b"loyalty claim token v1"
_SIG = ";sig="
_FIELD = re.compile(r"^[a-z_]+$")


@dataclass(frozen=True)
class ClaimToken:
    """What a verified token promises: this branch printed receipt `receipt_id`."""

    branch: str
    receipt_id: str
    expires: int  # Unix seconds


# pure: make, parse, verify


def make_token(key: bytes, *, branch: str, receipt_id: str, expires_at: datetime,
               receipt: Receipt) -> str:
    """A signed token for a stored receipt (see the module docstring for the format)."""
    fields = [("b", branch), ("id", receipt_id), ("exp", str(int(expires_at.timestamp())))]
    if receipt.receipt_no:
        fields.append(("receipt_no", receipt.receipt_no))
    if receipt.total is not None:
        fields.append(("total", format_money(receipt.total) or ""))
    if isinstance(receipt.purchased_at, datetime):
        fields.append(("date", f"{to_bangkok(receipt.purchased_at):%Y-%m-%dT%H:%M}"))
    elif receipt.purchased_at is not None:
        fields.append(("date", receipt.purchased_at.isoformat()))
    if receipt.store.tax_id:
        fields.append(("tax_id", receipt.store.tax_id))
    body = ";".join([PREFIX, *(f"{name}={quote(value, safe='-._~:/+')}"
                               for name, value in fields)])
    return body + _SIG + _sign(key, body)


def is_claim_token(text: str) -> bool:
    """True for anything that claims to be a token (verification decides whether it is one)."""
    return text.strip().startswith(PREFIX + ";")


def verify_token(text: str, keys: Sequence[bytes], now: datetime) -> ClaimToken:
    """The token's promise, or ClaimRefused: token_invalid (damaged, forged, another programme's
    key) or token_expired."""
    body, _, signature = text.strip().rpartition(_SIG)
    if not is_claim_token(body) or not any(hmac.compare_digest(_sign(key, body), signature)
                                           for key in keys):
        raise ClaimRefused("token_invalid", "this claim QR cannot be verified here (damaged, or "
                           "not printed by this store): scan the receipt itself instead")
    fields = _fields(body)
    try:
        token = ClaimToken(fields["b"], fields["id"], int(fields["exp"]))
    except (KeyError, ValueError):
        raise ClaimRefused("token_invalid", "this claim QR is incomplete: scan the receipt "
                           "itself instead") from None
    if now.timestamp() > token.expires:
        expired = format_date(datetime.fromtimestamp(token.expires, UTC), "en")
        raise ClaimRefused("token_expired", f"this claim QR expired on {expired}: receipts "
                           "earn points only for a limited time after purchase")
    return token


def derive_key(hq_key: str) -> bytes:
    return hmac.new(hq_key.encode(), _DERIVATION, hashlib.sha256).digest()


def _sign(key: bytes, body: str) -> str:
    digest = hmac.new(key, body.encode(), hashlib.sha256).digest()[:SIGNATURE_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _fields(body: str) -> dict[str, str]:
    pairs = (part.partition("=") for part in body.split(";")[1:])
    return {name: unquote(value) for name, _, value in pairs if _FIELD.match(name)}


# keys, kept in the branch database


def install_key(store: Store, hq_key: str | None) -> bytes:
    """Make sure the branch has its signing key (see the module docstring); returns it."""
    with store.transaction():
        current = meta.get(store, KEY_META)
        if hq_key:
            wanted = derive_key(hq_key).hex()
        elif current:
            return bytes.fromhex(current)
        else:
            wanted = secrets.token_bytes(32).hex()
        if current != wanted:
            if current:
                meta.put(store, PREVIOUS_KEY_META, current)
            meta.put(store, KEY_META, wanted)
        return bytes.fromhex(wanted)


def signing_keys(store: Store) -> list[bytes]:
    """The current key first, then the one before it: what a token may be signed with."""
    found = (meta.get(store, KEY_META), meta.get(store, PREVIOUS_KEY_META))
    return [bytes.fromhex(value) for value in found if value]


# claiming


def claim_with_token(ctx: Loyalty, phone: str, token: str) -> ClaimResult:
    """Claim the receipt a claim QR names, for this member: signature, branch, expiry and single
    use are checked, then the stored receipt (printer's fields, not OCR) is claimed as usual.
    A refusal (no consent, already claimed...) leaves the token unused."""
    with ctx.store.transaction():
        promise = verify_token(token, signing_keys(ctx.store), ctx.clock())
        if promise.branch != ctx.branch:
            raise ClaimRefused("token_other_branch", f"this claim QR is from branch "
                               f"{promise.branch}: scan it at that branch's kiosk")
        row = pos_receipts.by_id(ctx.store, promise.receipt_id)
        if row is None or row["branch"] != ctx.branch:
            raise ClaimRefused("token_invalid", "this claim QR names a receipt this branch does "
                               "not have: scan the receipt itself instead")
        if row["refunded_by"]:
            raise ClaimRefused("refunded", "this receipt was refunded at the till, so it earns "
                               "no points")
        if not pos_receipts.use_token(ctx.store, row["id"], iso_utc(ctx.clock())):
            used = format_date(parse_iso_utc(row["token_used_at"]), "en")
            raise ClaimRefused("token_used", f"this claim QR was already used on {used}; "
                               "each receipt earns once")
        receipt = Receipt.from_json_text(row["document"])
        receipt.source = "pos"
        return claims.claim_receipt(ctx, phone, receipt)
