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


def test_the_configuration_page_lists_every_setting() -> None:
    """docs/configuration.md as the docs site builds it: its hook puts the table rendered from Settings in place."""
    import importlib.util

    import yaml

    root = Path(__file__).parents[2]
    hook_path = root / "docs" / "hooks" / "settings_table.py"
    assert "docs/hooks/settings_table.py" in yaml.safe_load((root / "mkdocs.yml").read_text())["hooks"]
    spec = importlib.util.spec_from_file_location("settings_table_hook", hook_path)
    assert spec is not None and spec.loader is not None
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)

    page = (root / "docs" / "configuration.md").read_text(encoding="utf-8")
    built = hook.render(page)
    prefix = Settings.model_config["env_prefix"]
    assert prefix == "IMPLEMENTOR_"
    missing = [name for name in Settings.model_fields if f"| `{prefix}{name.upper()}` |" not in built]
    assert not missing, f"docs/configuration.md, as built, lacks the settings {missing}"
    assert hook.MARKER not in built
