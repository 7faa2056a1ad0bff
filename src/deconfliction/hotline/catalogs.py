"""The hotline catalogues, maintained (not used when rendering): extract the messages
of :mod:`deconfliction.hotline.templates` into ``locale/messages.pot``, merge it into
every ``.po`` and check that they are current and complete::

    python -m deconfliction.hotline.catalogs --check    # .pot current, .po complete
    python -m deconfliction.hotline.catalogs --extract  # rewrite messages.pot
    python -m deconfliction.hotline.catalogs --update   # merge it into every .po
"""

from __future__ import annotations

import argparse
import io
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Final

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po, write_po

from deconfliction import __version__
from deconfliction.hotline import builders, phrases, templates, wording
from deconfliction.hotline.templates import (
    DOMAIN,
    LANGUAGES,
    LOCALE_DIR,
    SOURCE_LANGUAGE,
)

POT_PATH: Final = LOCALE_DIR / "messages.pot"
# The modules whose messages are extracted, in the order the .pot lists them.
MESSAGE_MODULES: Final = (phrases, wording, builders, templates)
EXTRACT_KEYWORDS: Final = MappingProxyType({**DEFAULT_KEYWORDS, "_msg": ((1, "c"), 2)})
COMMENT_TAG: Final = "TRANSLATORS:"
POT_HEADER: Final = (
    "# Hotline message templates of Deconfliction.\n"
    "# Extracted from src/deconfliction/hotline/templates.py by\n"
    "# `python -m deconfliction.hotline.catalogs --extract`: do not edit by hand."
)
_PLACEHOLDER_RE: Final = re.compile(r"%\((\w+)\)s")


def placeholders(text: str) -> set[str]:
    """The named ``%(name)s`` placeholders of a message.

    >>> sorted(placeholders("%(a)s and %(b)s"))
    ['a', 'b']
    """
    return set(_PLACEHOLDER_RE.findall(text))


def extract_messages() -> Catalog:
    """The messages of this module, extracted by Babel as ``pybabel extract`` would.

    Raises:
        OSError: if this module's source cannot be read.
    """
    catalog = Catalog(
        project="deconfliction",
        version=__version__,
        domain=DOMAIN,
        header_comment=POT_HEADER,
        charset="utf-8",
    )
    found = (
        found
        for module in MESSAGE_MODULES
        for found in extract_from_file(
            "python",
            Path(module.__file__ or ""),
            keywords=EXTRACT_KEYWORDS,
            comment_tags=(COMMENT_TAG,),
            strip_comment_tags=True,
        )
    )
    for _line, message, comments, context in found:
        existing = catalog.get(message, context)
        if existing is not None:
            for comment in comments:
                if comment not in existing.auto_comments:
                    existing.auto_comments.append(comment)
            continue
        catalog.add(message, context=context, auto_comments=comments)
    return catalog


def _hashable(message_id: object) -> object:
    return tuple(message_id) if isinstance(message_id, list | tuple) else message_id


def _keys(catalog: Catalog) -> set[tuple[object, str | None]]:
    return {(_hashable(m.id), m.context) for m in catalog if m.id}


def _comments(catalog: Catalog) -> dict[tuple[object, str | None], list[str]]:
    return {
        (_hashable(m.id), m.context): list(m.auto_comments) for m in catalog if m.id
    }


def _read_file(path: Path, lang: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=lang, domain=DOMAIN)


def _po_bytes(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    # No locations: line numbers would change the files at every edit of the code.
    write_po(buffer, catalog, width=0, no_location=True)
    return buffer.getvalue()


def update_template(locale_dir: Path = LOCALE_DIR) -> bool:
    """Rewrite ``messages.pot`` when the messages in the code changed.

    Args:
        locale_dir: the ``locale`` directory (another one in tests).

    Returns:
        True if the file was written.

    Raises:
        OSError: if a file cannot be read or written.
    """
    extracted = extract_messages()
    pot = locale_dir / POT_PATH.name
    if pot.exists() and _comments(_read_file(pot)) == _comments(extracted):
        return False
    pot.parent.mkdir(parents=True, exist_ok=True)
    pot.write_bytes(_po_bytes(extracted))
    return True


def update_catalogs(
    locale_dir: Path = LOCALE_DIR, languages: Sequence[str] = LANGUAGES
) -> list[str]:
    """Merge ``messages.pot`` into every language's ``.po`` file, creating it if new.

    New messages arrive untranslated (never fuzzy-matched: a guessed translation of
    a safety message is worse than none), except in English, the language of the
    code, where the translation is the message itself; messages gone from the code
    are dropped.

    Args:
        locale_dir: the ``locale`` directory (another one in tests).
        languages: the languages to update.

    Returns:
        The languages whose file changed.

    Raises:
        OSError: if a file cannot be read or written.
    """
    changed = []
    for lang in languages:
        # Read afresh for each language: Catalog.update adds the template's own
        # message objects, and English then writes its msgstr into them.
        template = _read_file(locale_dir / POT_PATH.name)
        path = locale_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        if path.exists():
            before = path.read_bytes()
            catalog = read_po(io.BytesIO(before), locale=lang, domain=DOMAIN)
        else:
            before = b""
            catalog = Catalog(
                locale=lang,
                domain=DOMAIN,
                project=template.project,
                version=template.version,
                fuzzy=False,
                charset="utf-8",
            )
        catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
        catalog.obsolete.clear()
        if lang == SOURCE_LANGUAGE:
            for message in catalog:
                strings = message.string
                empty = not any(strings) if isinstance(strings, tuple) else not strings
                if message.id and empty:
                    message.string = message.id
        after = _po_bytes(catalog)
        if after != before:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(after)
            changed.append(lang)
    return changed


def _translation_problems(lang: str, catalog: Catalog, template: Catalog) -> list[str]:
    problems: list[str] = []
    expected = get_plural(lang).num_plurals
    if catalog.num_plurals != expected:
        problems.append(
            f"{lang}: Plural-Forms has {catalog.num_plurals} forms, "
            f"the language has {expected}"
        )
    for extra in sorted(_keys(catalog) - _keys(template), key=repr):
        problems.append(f"{lang}: {extra[0]!r} is not in messages.pot (obsolete)")
    for message in template:
        if not message.id:
            continue
        name = f"{lang}: {message.id!r}" + (
            f" (context {message.context!r})" if message.context else ""
        )
        found = catalog.get(message.id, message.context)
        if found is None:
            problems.append(f"{name}: missing")
            continue
        if found.fuzzy:
            problems.append(f"{name}: marked fuzzy")
        strings = (
            found.string if isinstance(found.string, tuple | list) else (found.string,)
        )
        if isinstance(message.id, tuple | list):
            if len(strings) != expected:
                problems.append(
                    f"{name}: {len(strings)} plural forms, expected {expected}"
                )
            wanted = placeholders(message.id[0]) | placeholders(message.id[1])
            must = wanted - {"count"}  # a form may spell its number out
        else:
            wanted = must = placeholders(message.id)
        for form, text in enumerate(strings):
            if not text or not str(text).strip():
                problems.append(f"{name}: form {form} untranslated")
                continue
            got = placeholders(str(text))
            if got - wanted:
                problems.append(
                    f"{name}: form {form} has unknown {sorted(got - wanted)}"
                )
            if must - got:
                problems.append(f"{name}: form {form} lacks {sorted(must - got)}")
        problems += [f"{name}: {error}" for error in found.check(catalog)]
    return problems


def check_catalogs(locale_dir: Path = LOCALE_DIR) -> list[str]:
    """Every problem with the catalogs, in words; empty when all is well.

    Checks that ``messages.pot`` holds exactly the messages of the code and that
    every language translates every message, in every plural form its language
    has, with the same placeholders, and nothing fuzzy or obsolete.

    Args:
        locale_dir: the ``locale`` directory (another one in tests).

    Raises:
        OSError: if a file cannot be read.
    """
    problems: list[str] = []
    extracted = extract_messages()
    template = _read_file(locale_dir / POT_PATH.name)
    missing = _keys(extracted) - _keys(template)
    stale = _keys(template) - _keys(extracted)
    problems += [f"messages.pot: lacks {key[0]!r} (run --extract)" for key in missing]
    problems += [f"messages.pot: has stale {key[0]!r} (run --extract)" for key in stale]
    for lang in LANGUAGES:
        path = locale_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        if not path.exists():
            problems.append(f"{lang}: no catalog at {path} (run --update)")
            continue
        problems += _translation_problems(lang, _read_file(path, lang), extracted)
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m deconfliction.hotline.catalogs``: extract, update, check.

    Returns:
        0 when the catalogs are complete and current, 1 otherwise.
    """
    parser = argparse.ArgumentParser(
        prog="python -m deconfliction.hotline.catalogs",
        description="Maintain the hotline message catalogs.",
    )
    parser.add_argument("--extract", action="store_true", help="rewrite messages.pot")
    parser.add_argument(
        "--update", action="store_true", help="merge messages.pot into every .po"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="check (the default, also after the others)",
    )
    args = parser.parse_args(argv)
    if args.extract:
        written = update_template()
        print(f"messages.pot {'rewritten' if written else 'already current'}")
    if args.update:
        changed = update_catalogs()
        print(f"updated: {', '.join(changed) if changed else 'nothing'}")
    problems = check_catalogs()
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} catalog problems", file=sys.stderr)
        return 1
    count = len(_keys(extract_messages()))
    print(f"ok: {count} messages, translated in {', '.join(LANGUAGES)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
