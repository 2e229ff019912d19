"""Which channels HQ may send through and how fast, from environment variables read once when
`hq serve` builds the app: tokens stay out of the database and out of the console.

A channel whose variables are not all set is not configured: the console shows it as such and
offers no way to choose it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kiosk.errors import KioskError
from sync.hq.messaging.channels import Channel, LineChannel, SmsChannel

CHANNEL_NAMES = ("line", "sms")
DEFAULT_RATE = 5.0  # messages a second, well inside LINE's and Thai gateways' limits
RETRY_DELAYS = (30.0, 120.0, 600.0)  # seconds before the 2nd, 3rd and 4th attempt


class SettingsError(KioskError):
    """A messaging variable that is set but cannot be used."""


@dataclass(frozen=True)
class Settings:
    line_token: str | None = None
    line_url: str = "https://api.line.me"
    sms_url: str | None = None
    sms_token: str | None = None
    sms_sender: str | None = None
    sms_body: str = "json"  # json | form
    sms_msisdn: str = "e164"  # e164 | national
    rate: float = DEFAULT_RATE
    retry_delays: tuple[float, ...] = RETRY_DELAYS

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """HQ_LINE_TOKEN, HQ_LINE_URL; HQ_SMS_URL, HQ_SMS_TOKEN, HQ_SMS_SENDER, HQ_SMS_BODY,
        HQ_SMS_MSISDN; HQ_MESSAGE_RATE (messages a second)."""
        given = {key: value.strip() for key, value in environ.items() if value.strip()}
        try:
            rate = float(given.get("HQ_MESSAGE_RATE", DEFAULT_RATE))
        except ValueError as exc:
            raise SettingsError("HQ_MESSAGE_RATE is messages a second, e.g. 5") from exc
        if not rate > 0:
            raise SettingsError("HQ_MESSAGE_RATE must be above 0")
        settings = cls(line_token=given.get("HQ_LINE_TOKEN"),
                       line_url=given.get("HQ_LINE_URL", "https://api.line.me"),
                       sms_url=given.get("HQ_SMS_URL"), sms_token=given.get("HQ_SMS_TOKEN"),
                       sms_sender=given.get("HQ_SMS_SENDER"),
                       sms_body=given.get("HQ_SMS_BODY", "json"),
                       sms_msisdn=given.get("HQ_SMS_MSISDN", "e164"), rate=rate)
        if settings.sms_body not in ("json", "form"):
            raise SettingsError("HQ_SMS_BODY is json or form")
        if settings.sms_msisdn not in ("e164", "national"):
            raise SettingsError("HQ_SMS_MSISDN is e164 or national")
        return settings

    @property
    def max_attempts(self) -> int:
        return len(self.retry_delays) + 1

    def channels(self) -> dict[str, Channel]:
        """The configured channels, by name."""
        found: dict[str, Channel] = {}
        if self.line_token:
            found["line"] = LineChannel(self.line_token, self.line_url)
        if self.sms_url and self.sms_token and self.sms_sender:
            found["sms"] = SmsChannel(self.sms_url, self.sms_token, self.sms_sender,
                                      body=self.sms_body, msisdn=self.sms_msisdn)
        return found
