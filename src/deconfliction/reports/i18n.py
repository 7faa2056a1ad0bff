"""The report's texts in English, Russian and Arabic: gettext catalogs read with Babel.

Every text of the report is marked in ``render.py`` (``_("...")`` where it is used,
``N_("...")`` where it is named before use) and translated in
``locale/<lang>/LC_MESSAGES/messages.po``. The ``.po`` files are read at run time,
compiled in memory and cached per language, as the hotline's are: no build step.

Numbers are formatted by Babel for the language, in Latin digits in every language
(as the hotline writes them, so that two versions of a report compare digit by
digit); times are UTC (``10:15:05Z``); dates also in the language's words. Arabic is
right to left: the HTML says so (``dir="rtl"``) and every number, time and id is
wrapped to keep its left-to-right order.

    python -m deconfliction.reports.i18n --check   # every text translated everywhere
    python -m deconfliction.reports.i18n --update  # add new texts to every catalog
"""

from __future__ import annotations

import argparse
import functools
import gettext
import io
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Final

from babel.core import Locale
from babel.dates import format_date
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from babel.numbers import format_decimal, get_decimal_symbol

from deconfliction.errors import InputError, Problem

LANGUAGES: Final = ("en", "ru", "ar")
DOMAIN: Final = "messages"
LOCALE_DIR: Final = Path(__file__).with_name("locale")
SOURCES: Final = (Path(__file__).with_name("render.py"),)
_FORMAT_LOCALE: Final = {"en": "en_GB"}  # "13 December 2017", as military letters
_NUMBERING_SYSTEM: Final = "latn"


def N_(text: str) -> str:
    """Mark a text for translation where it is named; it is translated where used."""
    return text


def check_lang(lang: str) -> str:
    """``lang`` if it is one of :data:`LANGUAGES`.

    Raises:
        InputError: otherwise.
    """
    if lang not in LANGUAGES:
        raise InputError(
            [
                Problem(
                    "request",
                    None,
                    "lang",
                    f"unknown language {lang!r}; one of {', '.join(LANGUAGES)}",
                )
            ]
        )
    return lang


def _po_path(lang: str, locale_dir: Path = LOCALE_DIR) -> Path:
    return locale_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(lang: str, locale_dir: Path = LOCALE_DIR) -> Catalog:
    """One language's catalog as Babel reads it.

    Raises:
        InputError: for an unknown language.
        OSError: if the file cannot be read.
    """
    check_lang(lang)
    with _po_path(lang, locale_dir).open("rb") as handle:
        return read_po(handle, locale=lang, domain=DOMAIN)


@functools.cache
def _translations(lang: str) -> gettext.GNUTranslations:
    # Package data, read-only at run time: compiled once per process.
    buffer = io.BytesIO()
    write_mo(buffer, read_catalog(lang))
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@dataclass(frozen=True, slots=True)
class Texts:
    """Everything the report needs to write in one language.

    Attributes:
        lang: the language.
        rtl: written right to left.
    """

    lang: str
    rtl: bool

    @classmethod
    def for_language(cls, lang: str) -> Texts:
        """The texts of ``lang``.

        Raises:
            InputError: for an unknown language.
        """
        check_lang(lang)
        order = Locale.parse(lang).character_order
        return cls(lang, order == "right-to-left")

    @property
    def direction(self) -> str:
        """``rtl`` or ``ltr``."""
        return "rtl" if self.rtl else "ltr"

    def _(self, text: str) -> str:
        """``text`` translated."""
        return _translations(self.lang).gettext(text)

    def number(self, value: float, decimals: int = 0) -> str:
        """A number in the language's format, in Latin digits.

        >>> Texts.for_language("ru").number(12345.678, 1)
        '12\\xa0345,7'
        """
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
        return format_decimal(
            round(value, decimals) + 0.0,
            pattern,
            locale=_FORMAT_LOCALE.get(self.lang, self.lang),
            numbering_system=_NUMBERING_SYSTEM,
        )

    @property
    def decimal_mark(self) -> str:
        """The language's decimal mark, as :meth:`number` writes it.

        >>> Texts.for_language("ru").decimal_mark
        ','
        """
        return get_decimal_symbol(
            _FORMAT_LOCALE.get(self.lang, self.lang),
            numbering_system=_NUMBERING_SYSTEM,
        )

    def date_words(self, day: date) -> str:
        """The day in the language's words.

        >>> Texts.for_language("en").date_words(date(2017, 12, 13))
        '13 December 2017'
        """
        return format_date(day, "long", locale=_FORMAT_LOCALE.get(self.lang, self.lang))

    @staticmethod
    def time(t_s: float) -> str:
        """A UTC time of day, ``10:15:05Z``."""
        return datetime.fromtimestamp(round(t_s), tz=UTC).strftime("%H:%M:%SZ")

    @staticmethod
    def stamp(t_s: float) -> str:
        """A UTC date and time, ``2017-12-13 10:15Z``."""
        return datetime.fromtimestamp(round(t_s), tz=UTC).strftime("%Y-%m-%d %H:%MZ")

    def duration(self, seconds: float) -> str:
        """A duration as ``h:mm:ss`` (or ``m:ss`` under an hour)."""
        total = round(seconds)
        h, rest = divmod(total, 3600)
        m, s = divmod(rest, 60)
        return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


# --------------------------------------------------------------------------------------
# Catalog maintenance


def extract_messages() -> Catalog:
    """The texts marked in the report's sources, as ``pybabel extract`` finds them.

    Raises:
        OSError: if a source cannot be read.
    """
    catalog = Catalog(project="deconfliction", domain=DOMAIN, charset="utf-8")
    keywords = {**DEFAULT_KEYWORDS, "_": None, "N_": None}
    for source in SOURCES:
        for _line, message, comments, context in extract_from_file(
            "python",
            source,
            keywords=keywords,
            comment_tags=("TRANSLATORS:",),
            strip_comment_tags=True,
        ):
            if catalog.get(message, context) is None:
                catalog.add(message, context=context, auto_comments=comments)
    return catalog


def missing(locale_dir: Path = LOCALE_DIR) -> dict[str, list[str]]:
    """Per language, the texts of the code with no translation in its catalog
    (English needs none: the code is written in it).

    Raises:
        OSError: if a file cannot be read.
    """
    wanted = [m.id for m in extract_messages() if m.id]
    out: dict[str, list[str]] = {}
    for lang in LANGUAGES:
        catalog = read_catalog(lang, locale_dir)
        gaps = []
        for msgid in wanted:
            entry = catalog.get(msgid)
            if entry is None or (lang != "en" and not entry.string):
                gaps.append(str(msgid))
        if gaps:
            out[lang] = gaps
    return out


def update_catalogs(locale_dir: Path = LOCALE_DIR) -> list[str]:
    """Add the code's new texts to every catalog (untranslated; English as written)
    and drop texts gone from the code.

    Returns:
        The languages whose file changed.

    Raises:
        OSError: if a file cannot be read or written.
    """
    extracted = extract_messages()
    changed = []
    for lang in LANGUAGES:
        path = _po_path(lang, locale_dir)
        catalog = read_catalog(lang, locale_dir)
        before = _po_bytes(catalog)
        wanted = {m.id for m in extracted if m.id}
        for message in extracted:
            if message.id and catalog.get(message.id) is None:
                catalog.add(message.id, string=message.id if lang == "en" else "")
        for message in list(catalog):
            if message.id and message.id not in wanted:
                catalog.delete(message.id)
        after = _po_bytes(catalog)
        if after != before:
            path.write_bytes(after)
            changed.append(lang)
    return changed


def _po_bytes(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=0, no_location=True, omit_header=False)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    """``--check`` (exit 1 when a text is untranslated) or ``--update``."""
    parser = argparse.ArgumentParser(prog="python -m deconfliction.reports.i18n")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--check", action="store_true")
    group.add_argument("--update", action="store_true")
    args = parser.parse_args(argv)
    if args.update:
        changed = update_catalogs()
        print("updated: " + (", ".join(changed) or "nothing"))
        return 0
    gaps = missing()
    for lang, texts in gaps.items():
        for text in texts:
            print(f"{lang}: untranslated: {text!r}")
    return 1 if gaps else 0


if __name__ == "__main__":
    sys.exit(main())
