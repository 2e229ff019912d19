"""One message as the operator composed it, made ready: its audience found, split by reach,
and every member's text rendered, so a preview, a dry run and a send all see the same thing
and a text too long for the channel is refused before anything is queued.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from kiosk.clock import iso_utc
from kiosk.loyalty.phone import mask_phone
from sync.hq.messaging import audience as audiences
from sync.hq.messaging.channels import Channel, sms_parts, ucs2_length
from sync.hq.messaging.compose import Draft, check, programme_name
from sync.hq.messaging.targets import Plan, plan

SAMPLES = 3


@dataclass(frozen=True)
class Sample:
    phone: str  # masked
    text: str
    parts: int  # SMS parts it would take


@dataclass
class Prepared:
    draft: Draft
    audience: audiences.Audience
    channel: str
    plan: Plan
    longest: str  # the longest text of any reachable member, what must fit the channel
    fits: bool  # whether it does: a send is refused when not

    def samples(self, count: int = SAMPLES) -> list[Sample]:
        shown = []
        for recipient, contact in self.plan.reachable[:count]:
            text = self.draft.text(recipient.points, recipient.expires_at)
            shown.append(Sample(mask_phone(contact.phone), text, sms_parts(text)))
        return shown

    @property
    def most_parts(self) -> int:
        return sms_parts(self.longest) if self.longest else 0


def prepare(conn: Connection, audience: audiences.Audience, channel: Channel, lang: str,
            template: str, now: datetime) -> Prepared:
    """Everything a preview, dry run or send needs, read in one snapshot. TemplateError when
    the template is malformed."""
    check(template)
    draft = Draft(audience.kind, template, lang, programme_name(conn, lang), iso_utc(now))
    found = audiences.recipients(conn, audience, now)
    split = plan(conn, found, channel.name)
    longest = max((draft.text(r.points, r.expires_at) for r, _ in split.reachable),
                  key=ucs2_length, default="")
    return Prepared(draft, audience, channel.name, split, longest,
                    not longest or channel.fits(longest))
