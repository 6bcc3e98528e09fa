"""The English catalogue is complete, well-formed, compiled and in step with the sources.

No database, no app: only the files under quizengine/translations and the sources Babel reads.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "quizengine" / "translations"
POT = TRANSLATIONS / "messages.pot"
PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
MO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.mo"

# The same options as `make translations` (keywords on top of Babel's defaults).
EXTRACT_ARGS = ["-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext", "--no-location"]
HINT = "run `make translations` and translate them in quizengine/translations/en"

# %(name)s, %s, %d, ... (with flags, width, precision) and {name}; "%%" is a literal percent.
PLACEHOLDER = re.compile(
    r"%\(\w+\)[#0\- +]*\d*(?:\.\d+)?[diouxXeEfFgGcrs]"
    r"|%[#0\- +]*\d*(?:\.\d+)?[diouxXeEfFgGcrs]"
    r"|\{\w*\}"
)
TAG = re.compile(r"</?[a-zA-Z][^>]*>")

Key = tuple[str | None, str | tuple[str, ...]]


def _read_po(path: Path) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh)


def _entries(catalog: Catalog) -> list[Message]:
    """Active messages (not the header, not obsolete entries)."""
    return [m for m in catalog if m.id]


def _key(message: Message) -> Key:
    # read_mo gives a plural msgid as a list, read_po as a tuple.
    msgid = message.id if isinstance(message.id, str) else tuple(message.id)
    return (message.context, msgid)


def _show(key: Key) -> str:
    context, msgid = key
    text = " | ".join(msgid) if isinstance(msgid, tuple) else msgid
    return f"{context}: {text!r}" if context else repr(text)


def _forms(message: Message) -> list[tuple[str, str]]:
    """(source, translation) pairs: msgid ↔ msgstr[0], msgid_plural ↔ msgstr[1:]."""
    if isinstance(message.id, tuple):
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        return [
            (message.id[0] if i == 0 else message.id[1], s or "") for i, s in enumerate(strings)
        ]
    return [(message.id, message.string or "")]


def _placeholders(text: str) -> Counter[str]:
    return Counter(PLACEHOLDER.findall(text.replace("%%", "")))


@pytest.fixture(scope="module")
def po() -> Catalog:
    return _read_po(PO)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The sources re-extracted now, the way `make translations` does it."""
    out = tmp_path_factory.mktemp("babel") / "messages.pot"
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", *EXTRACT_ARGS, "-o", str(out), "--sort-output", str(ROOT)]
    )
    return _read_po(out)


def test_catalogue_exists_and_is_english(po: Catalog) -> None:
    assert str(po.locale) == "en"
    assert po.num_plurals == 2
    assert _entries(po), "the English catalogue has no messages"


def test_every_message_is_translated_and_none_is_fuzzy(po: Catalog) -> None:
    untranslated = [
        _show(_key(m))
        for m in _entries(po)
        if not all(t.strip() for _source, t in _forms(m))
        or (isinstance(m.id, tuple) and len(_forms(m)) != po.num_plurals)
    ]
    fuzzy = [_show(_key(m)) for m in _entries(po) if m.fuzzy]
    assert not untranslated, f"{len(untranslated)} untranslated:\n" + "\n".join(untranslated)
    assert not fuzzy, f"{len(fuzzy)} fuzzy (check and unmark them):\n" + "\n".join(fuzzy)


def test_placeholders_and_markup_are_kept(po: Catalog) -> None:
    problems = []
    for message in _entries(po):
        for source, translation in _forms(message):
            if _placeholders(source) != _placeholders(translation):
                problems.append(f"placeholders differ: {source!r} → {translation!r}")
            if sorted(TAG.findall(source)) != sorted(TAG.findall(translation)):
                problems.append(f"HTML tags differ: {source!r} → {translation!r}")
    # Babel's own checks (python-format compatibility, plural count).
    problems += [f"{_show(_key(m))}: {e}" for m, errors in po.check() for e in errors]
    assert not problems, "\n".join(problems)


def _compiled(catalog: Catalog) -> dict[Key, str | tuple[str, ...]]:
    return {
        _key(m): m.string if isinstance(m.string, str) else tuple(m.string)
        for m in _entries(catalog)
    }


def test_compiled_catalogue_is_up_to_date(po: Catalog) -> None:
    assert MO.exists(), "messages.mo is missing: run `pybabel compile -d quizengine/translations`"
    fresh = io.BytesIO()
    write_mo(fresh, po)
    fresh.seek(0)
    with MO.open("rb") as fh:
        committed = read_mo(fh)
    assert _compiled(committed) == _compiled(read_mo(fresh)), (
        "messages.mo is older than messages.po: run `pybabel compile -d quizengine/translations`"
    )


def _difference(have: set[Key], want: set[Key]) -> Iterator[str]:
    yield from sorted(_show(k) for k in want - have)


def test_catalogue_has_every_message_in_the_sources(po: Catalog, extracted: Catalog) -> None:
    in_sources = {_key(m) for m in _entries(extracted)}
    in_po = {_key(m) for m in _entries(po)}
    missing = list(_difference(in_po, in_sources))
    stale = list(_difference(in_sources, in_po))
    assert not missing, (
        f"{len(missing)} message(s) in the sources are not in messages.po ({HINT}):\n"
        + "\n".join(missing)
    )
    assert not stale, (
        f"{len(stale)} message(s) in messages.po are gone from the sources ({HINT}):\n"
        + "\n".join(stale)
    )


def test_template_matches_the_sources(extracted: Catalog) -> None:
    in_sources = {_key(m) for m in _entries(extracted)}
    in_pot = {_key(m) for m in _entries(_read_po(POT))}
    missing = list(_difference(in_pot, in_sources))
    stale = list(_difference(in_sources, in_pot))
    assert not missing and not stale, f"messages.pot is out of date ({HINT}):\n" + "\n".join(
        [*(f"+ {m}" for m in missing), *(f"- {s}" for s in stale)]
    )
