"""Defaults of the settings that the command line shows in its options.

Kept apart from :mod:`deconfliction.config` (pydantic settings) so that building the
command line, which every ``deconfliction`` process does, imports no pydantic.
"""

from __future__ import annotations

DEFAULT_DATABASE_URL = "sqlite:///deconfliction.db"
