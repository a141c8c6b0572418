from __future__ import annotations

from pathlib import Path

import pytest

from implementor.config import ConfigError, Settings, get_settings


def test_defaults_need_no_environment() -> None:
    settings = Settings()
    assert settings.device == "auto"
    assert settings.face_model is None
    assert settings.face_png_size >= 128


def test_environment_uses_the_implementor_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMPLEMENTOR_FACE_MODEL", "/srv/faces")
    monkeypatch.setenv("IMPLEMENTOR_LOG_LEVEL", "debug")
    monkeypatch.setenv("FACE_MODEL", "/ignored/without/prefix")
    settings = get_settings()
    assert settings.face_model == Path("/srv/faces")
    assert settings.log_level == "DEBUG"


def test_empty_face_model_means_the_bundled_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMPLEMENTOR_FACE_MODEL", "  ")
    assert get_settings().face_model is None


def test_invalid_values_raise_a_config_error_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMPLEMENTOR_FACE_PNG_SIZE", "64")
    with pytest.raises(ConfigError, match="IMPLEMENTOR_FACE_PNG_SIZE"):
        get_settings()


def test_dotenv_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("IMPLEMENTOR_DEVICE", raising=False)
    (tmp_path / ".env").write_text("IMPLEMENTOR_DEVICE=cpu\n")
    assert get_settings().device == "cpu"


def test_the_readme_configuration_table_matches_the_settings() -> None:
    from implementor.config.settings import settings_table

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    start, end = "<!-- settings-table:start -->", "<!-- settings-table:end -->"
    assert start in readme and end in readme, "README.md lost its configuration table markers"
    table = readme.split(start, 1)[1].split(end, 1)[0].strip()
    assert table == settings_table(), (
        "README.md's configuration table is out of date; replace it with the output of\n"
        "  python -c 'from implementor.config.settings import settings_table; print(settings_table())'"
    )
