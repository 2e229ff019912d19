"""Errors a person can act on. Their message is a sentence shown as-is to staff or a shopper."""

from __future__ import annotations


class KioskError(Exception):
    """Base of every error whose message tells the reader what is wrong and what to do."""


class Refused(KioskError):
    """A request the rules refuse: `code` picks the screen's wording, the message is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
