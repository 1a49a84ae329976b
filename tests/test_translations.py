"""Every UI string has its English translation, and the compiled catalogue matches the .po."""

import ast
from pathlib import Path

from django.conf import settings
from django.utils import translation

PO = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"


def po_entries(text: str) -> list[tuple[str, str]]:
    """(msgid, msgstr) of every singular entry, joining wrapped lines; skips the header."""
    entries, current, field = [], {}, None
    for line in [*text.splitlines(), ""]:
        if line.startswith(("msgid ", "msgstr ", "msgid_plural ", "msgstr[")):
            field, _, literal = line.partition(" ")
            if field == "msgid" and current:
                entries.append(current)
                current = {}
            current[field] = ast.literal_eval(literal)
        elif line.startswith('"') and field:
            current[field] += ast.literal_eval(line)
        elif not line.strip() and current:
            entries.append(current)
            current, field = {}, None
    return [
        (e["msgid"], e.get("msgstr", ""))
        for e in entries
        if e.get("msgid") and "msgid_plural" not in e
    ]


def test_every_swedish_string_is_translated_and_compiled():
    entries = po_entries(PO.read_text(encoding="utf-8"))
    assert len(entries) > 300
    untranslated = [msgid for msgid, msgstr in entries if not msgstr]
    assert untranslated == []
    with translation.override("en"):
        stale = [msgid for msgid, msgstr in entries if translation.gettext(msgid) != msgstr]
    assert stale == [], "run: make messages (compile locale/en/LC_MESSAGES/django.mo)"
