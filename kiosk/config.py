"""Branch settings: one TOML file, each value overridable by an environment variable.

Precedence: a command-line flag beats the environment, which beats the file, which beats the
embedded defaults. The file is KIOSK_CONFIG, else ~/.config/kiosk/kiosk.toml if it exists.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from kiosk.errors import KioskError
from kiosk.paths import DEFAULT_PROGRAMME, assets_dir

ENVIRONMENT = {
    "db": "KIOSK_DB",
    "branch": "KIOSK_BRANCH",
    "hq_url": "KIOSK_HQ_URL",
    "hq_key": "KIOSK_HQ_KEY",
    "camera": "KIOSK_CAMERA",
    "printer": "KIOSK_PRINTER",
    "programme": "KIOSK_PROGRAMME",
}

# TOML layout: [branch] id, db, programme, staff_pin_hash; [devices] camera, printer;
# [hq] url, key; [sync] interval_seconds, nightly_at. Each maps to one Settings field.
FILE_KEYS = {
    ("branch", "id"): "branch",
    ("branch", "db"): "db",
    ("branch", "programme"): "programme",
    ("branch", "staff_pin_hash"): "staff_pin_hash",
    ("devices", "camera"): "camera",
    ("devices", "printer"): "printer",
    ("hq", "url"): "hq_url",
    ("hq", "key"): "hq_key",
    ("sync", "interval_seconds"): "sync_interval",
    ("sync", "nightly_at"): "sync_nightly_at",
}
NUMBER_KEYS = ("sync_interval",)


class SettingsError(KioskError):
    """A settings file that cannot be read or has an unknown or mistyped key."""


@dataclass(frozen=True)
class Settings:
    branch: str = "B001"
    db: str = str(Path.home() / ".local/share/kiosk/branch.db")
    programme: str = str(assets_dir() / DEFAULT_PROGRAMME)
    staff_pin_hash: str | None = None
    camera: str = "samples"
    printer: str = "file:" + str(Path.home() / ".local/share/kiosk/slips")
    hq_url: str | None = None
    hq_key: str | None = None
    sync_interval: int = 60  # seconds between rounds while HQ answers
    sync_nightly_at: str = "02:30"  # Asia/Bangkok: a round that must succeed every night


def default_config_path() -> Path | None:
    if os.environ.get("KIOSK_CONFIG"):
        return Path(os.environ["KIOSK_CONFIG"])
    candidate = Path.home() / ".config/kiosk/kiosk.toml"
    return candidate if candidate.exists() else None


def load_settings(config: str | Path | None = None, **flags: Any) -> Settings:
    """Defaults, then the file, then the environment, then flags that are not None."""
    settings = Settings()
    path = Path(config) if config else default_config_path()
    if path is not None:
        settings = replace(settings, **_read_file(path))
    env = {name: os.environ[var] for name, var in ENVIRONMENT.items() if os.environ.get(var)}
    settings = replace(settings, **env)
    known = {f.name for f in fields(Settings)}
    return replace(settings, **{k: v for k, v in flags.items() if v is not None and k in known})


def _read_file(path: Path) -> dict[str, Any]:
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(f"cannot read settings file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"settings file {path} is not valid TOML: {exc}") from exc
    values: dict[str, Any] = {}
    for section, table in doc.items():
        if not isinstance(table, dict):
            raise SettingsError(f"settings file {path}: {section!r} should be a [section]")
        for key, value in table.items():
            name = FILE_KEYS.get((section, key))
            if name is None:
                known = ", ".join(f"{s}.{k}" for s, k in FILE_KEYS)
                raise SettingsError(f"settings file {path}: unknown key {section}.{key} "
                                    f"(known: {known})")
            if name in NUMBER_KEYS:
                if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                    raise SettingsError(f"settings file {path}: {section}.{key} should be a "
                                        f"whole number of seconds, got {value!r}")
            elif not isinstance(value, str):
                raise SettingsError(f"settings file {path}: {section}.{key} should be text, "
                                    f"got {value!r}")
            if name in ("db", "programme") or (name == "printer" and value.startswith("file:")):
                value = _relative_to(path, value)
            values[name] = value
    return values


def _relative_to(config_path: Path, value: str) -> str:
    """Paths in the file are relative to the file, so a branch folder can move as a whole."""
    prefix, raw = ("file:", value[5:]) if value.startswith("file:") else ("", value)
    resolved = Path(raw).expanduser()
    if not resolved.is_absolute():
        resolved = config_path.parent / resolved
    return prefix + str(resolved)
