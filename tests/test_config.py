"""Settings precedence: flag > environment > file > defaults."""

import pytest

from kiosk.config import SettingsError, load_settings


def test_flag_beats_environment_beats_file(tmp_path, monkeypatch):
    config = tmp_path / "kiosk.toml"
    config.write_text('[branch]\nid = "B777"\ndb = "data/branch.db"\n'
                      '[devices]\nprinter = "file:slips"\n[hq]\nurl = "https://hq.example"\n')
    monkeypatch.delenv("KIOSK_DB", raising=False)
    monkeypatch.setenv("KIOSK_BRANCH", "B888")
    settings = load_settings(config)
    assert settings.branch == "B888"
    assert settings.db == str(tmp_path / "data/branch.db")
    assert settings.printer == "file:" + str(tmp_path / "slips")
    assert settings.hq_url == "https://hq.example"
    monkeypatch.setenv("KIOSK_DB", "/env/branch.db")
    assert load_settings(config).db == "/env/branch.db"
    assert load_settings(config, db="/flag/branch.db").db == "/flag/branch.db"


def test_kiosk_config_variable_names_the_file(tmp_path, monkeypatch):
    config = tmp_path / "k.toml"
    config.write_text('[branch]\nid = "B123"\n')
    monkeypatch.setenv("KIOSK_CONFIG", str(config))
    monkeypatch.delenv("KIOSK_BRANCH", raising=False)
    assert load_settings().branch == "B123"


@pytest.mark.parametrize(("text", "says"), [
    ('[branch]\nid = 5\n', "branch.id should be text"),
    ('[branch]\nfavourite = "x"\n', "unknown key branch.favourite"),
    ('[branch\n', "not valid TOML"),
    ('[sync]\ninterval_seconds = "often"\n', "whole number of seconds"),
])
def test_bad_settings_files_name_the_problem(tmp_path, text, says):
    config = tmp_path / "k.toml"
    config.write_text(text)
    with pytest.raises(SettingsError, match=says):
        load_settings(config)


def test_sync_schedule_reads_from_the_file(tmp_path):
    config = tmp_path / "k.toml"
    config.write_text('[sync]\ninterval_seconds = 30\nnightly_at = "03:15"\n')
    settings = load_settings(config)
    assert (settings.sync_interval, settings.sync_nightly_at) == (30, "03:15")
    assert load_settings(config, sync_interval=5).sync_interval == 5
