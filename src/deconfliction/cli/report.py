"""``deconfliction report``: the daily report as HTML and PDF."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from deconfliction.cli._common import guarded, stderr
from deconfliction.cli.server import DatabaseOpt
from deconfliction.config_defaults import DEFAULT_DATABASE_URL


@guarded
def report(
    day: Annotated[str, typer.Option(help="UTC day, YYYY-MM-DD.")],
    out: Annotated[
        Path, typer.Option(file_okay=False, help="Directory for the files (created).")
    ],
    party: Annotated[
        str | None,
        typer.Option(
            help="The party the report is for: it shows only what that party may see. "
            "Without it, the operator's report of every party."
        ),
    ] = None,
    lang: Annotated[
        str | None,
        typer.Option(help="en, ru or ar; default: the party's language, else en."),
    ] = None,
    pdf: Annotated[
        bool, typer.Option("--pdf/--no-pdf", help="Also write the PDF.")
    ] = True,
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
) -> None:
    """Write the daily report of DAY: sorties, conflicts, violations, closest
    approaches, hotline traffic, open incidents and a map, as self-contained HTML and
    a PDF of it."""
    from deconfliction.reports.daily import parse_day
    from deconfliction.reports.i18n import LANGUAGES, check_lang
    from deconfliction.reports.render import write_report
    from deconfliction.service.daily_report import gather, reader_language
    from deconfliction.store import engine as store_engine

    when = parse_day(day)
    if lang is not None:
        check_lang(lang)
    engine = store_engine.open_existing(database)
    try:
        with engine.connect() as conn:
            data = gather(conn, when, party, time.time())
            language = lang or reader_language(conn, party, LANGUAGES)
    finally:
        engine.dispose()
    files = write_report(data, language, out, pdf=pdf)
    stderr.print("wrote " + ", ".join(str(f) for f in files))


def register(app: typer.Typer) -> None:
    """Add the ``report`` command to ``app``."""
    app.command("report")(report)
