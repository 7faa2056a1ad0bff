"""The duty officer's console: a single-page web application, built from ``web/`` at the
repository root into ``static/`` here and shipped with the package (the page fetches
nothing from anywhere but the server). ``deconfliction.api.routes.console`` serves it.
"""

from __future__ import annotations

from pathlib import Path

STATIC_SUBDIR: str = "static"


def static_path() -> Path:
    """The directory of the built assets (``index.html``, ``app.js``, ``app.css``,
    ``fonts/``, ``i18n/``)."""
    return Path(__file__).parent / STATIC_SUBDIR
