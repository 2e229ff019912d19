"""Where the shipped assets live: beside the packages in a checkout, inside a PyInstaller bundle."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def assets_dir() -> Path:
    if os.environ.get("KIOSK_ASSETS"):
        return Path(os.environ["KIOSK_ASSETS"])
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "assets"
    return Path(__file__).resolve().parent.parent / "assets"


DEFAULT_PROGRAMME = "programmes/default.toml"
