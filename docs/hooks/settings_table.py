"""MkDocs hook: the configuration page's table of settings, rendered from the settings class at build time.

`docs/configuration.md` holds the marker below where the table goes; `on_page_markdown` replaces it with
`implementor.config.settings.settings_table()`, so the page lists exactly the fields of `Settings` and
cannot drift from the code. Registered under `hooks:` in mkdocs.yml; `tests/config/test_settings.py`
renders the page through `render` and checks every setting is on it.
"""

from __future__ import annotations

from typing import Any

from implementor.config.settings import settings_table

PAGE = "configuration.md"
MARKER = "<!-- settings-table -->"


def render(markdown: str) -> str:
    """The configuration page's markdown with the settings table in place of its marker."""
    if markdown.count(MARKER) != 1:
        raise ValueError(f"docs/{PAGE} must hold the marker {MARKER} exactly once, where the settings table goes")
    return markdown.replace(MARKER, settings_table())


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    return render(markdown) if page.file.src_uri == PAGE else markdown
