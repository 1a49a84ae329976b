"""Every UI string has its English translation, and the compiled catalogue matches the .po."""

import re
from pathlib import Path

from django.conf import settings
from django.utils import translation

PO = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"
ENTRY = re.compile(r'^msgid "(.+)"\nmsgstr "(.*)"$', re.MULTILINE)


def test_every_swedish_string_is_translated_and_compiled():
    entries = ENTRY.findall(PO.read_text(encoding="utf-8"))
    assert len(entries) > 100
    untranslated = [msgid for msgid, msgstr in entries if not msgstr]
    assert untranslated == []
    with translation.override("en"):
        stale = [msgid for msgid, msgstr in entries if translation.gettext(msgid) != msgstr]
    assert stale == [], "run: make messages (compile locale/en/LC_MESSAGES/django.mo)"
