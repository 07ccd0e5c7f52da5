from pathlib import Path

import pytest
from pydantic import ValidationError

from mediastudio.settings import DEFAULT_PORT, Settings, default_data_dir


def test_defaults_listen_on_loopback_in_the_user_data_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEDIASTUDIO_DATA_DIR", raising=False)
    settings = Settings()
    assert settings.host == "127.0.0.1"
    assert settings.port == DEFAULT_PORT == 8750
    assert settings.data_dir == default_data_dir().resolve()
    assert settings.database_path == settings.data_dir / "mediastudio.sqlite"


def test_environment_overrides_the_data_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MEDIASTUDIO_DATA_DIR", str(tmp_path / "studio"))
    assert Settings().data_dir == tmp_path / "studio"


def test_explicit_values_win_over_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MEDIASTUDIO_PORT", "9000")
    assert Settings(port=9100, data_dir=tmp_path).port == 9100


def test_a_bad_port_is_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(port=70000)


def test_settings_are_frozen(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        Settings(data_dir=tmp_path).port = 1  # type: ignore[misc]


@pytest.mark.parametrize(("host", "url"), [
    ("127.0.0.1", "http://127.0.0.1:8750/"),
    ("0.0.0.0", "http://127.0.0.1:8750/"),
    ("::1", "http://[::1]:8750/"),
])
def test_public_url(host: str, url: str, tmp_path: Path) -> None:
    assert Settings(host=host, data_dir=tmp_path).public_url == url
