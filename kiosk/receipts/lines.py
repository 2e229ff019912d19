"""A line of receipt text and how sure the reader is of it: what OCR and the POS tap yield."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TextLine:
    text: str
    confidence: float = 1.0  # 0..1; POS bytes are exact (1.0), OCR gives its word confidences
