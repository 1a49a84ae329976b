"""The domain's and the importer's messages in the user's language.

The rules and the file reader (domain/) write English text with a code and parameters
(domain.messages.Message); an import stores all three with each row error. Here each code
has its words in the UI's language (Swedish, with English in the locale files), so a page
says "rad 4, kolumn value: 'sju' är inte ett tal" to a Swedish reader of the same import
that the command line, the logs and the API report in English.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from domain.messages import code_of

MESSAGES = {
    # A cell (domain/exchange/cells.py) and a period (domain/periods.py).
    "empty": _("cellen är tom"),
    "not_a_number": _("'%(text)s' är inte ett tal"),
    "not_a_number_spaces": _(
        "'%(text)s' är inte ett tal (mellanslag får bara skilja grupper om tre siffror)"
    ),
    "date_not_number": _("'%(text)s' är ett datum eller en tid, inte ett tal"),
    "excel_error": _("'%(text)s' är ett fel från Excel, inte ett tal"),
    "mixed_separators": _(
        "'%(text)s' blandar ',' och '.'; använd ett decimaltecken, och mellanslag mellan tusental"
    ),
    "many_separators": _(
        "'%(text)s' har mer än ett decimaltecken; använd mellanslag mellan tusental"
    ),
    "not_a_period": _(
        "'%(text)s' är ingen period (skriv 2022, 2022-T1..2022-T3 eller 2022-01..2022-12)"
    ),
    "year_out_of_range": _("'%(text)s': året %(year)s går inte att använda"),
    "no_such_month": _("'%(text)s': månad %(month)s finns inte"),
    # The numbers of a value (domain/measurements.py).
    "too_large": _("%(number)s är för stort (högst 14 siffror före decimaltecknet)"),
    "denominator_zero": _("nämnaren är 0"),
    "denominator_negative": _("nämnaren %(denominator)s är negativ"),
    # The file (domain/exchange/reading.py).
    "not_text": _("filen är ingen textfil; skicka CSV (UTF-8 eller Windows-1252) eller XLSX"),
    "bad_utf8": _("ogiltig UTF-8-byte; spara hela filen som UTF-8 eller Windows-1252"),
    "old_xls": _(
        "%(filename)s är en gammal .xls-fil eller en lösenordsskyddad arbetsbok; spara den "
        "som .xlsx utan lösenord, eller som CSV"
    ),
    "utf16": _("filen är UTF-16 (Excels Unicode-text); spara den som CSV UTF-8 eller som XLSX"),
    "no_rows": _("filen har en rubrikrad men inga rader"),
    "unclosed_quote": _("en cell inom citattecken avslutas aldrig (ett '\"' saknas)"),
    "text_after_quote": _(
        "en cell inom citattecken fortsätter efter sitt sista citattecken (skriv '\"' två "
        "gånger inuti)"
    ),
    "not_csv": _("kan inte läsas som CSV: %(text)s"),
    "not_xlsx": _("%(filename)s är ett ZIP-arkiv men ingen läsbar XLSX-arbetsbok"),
    "file_empty": _("filen är tom"),
    "unnamed_column": _("kolumn %(number)s saknar namn"),
    "unknown_column": _("okänd kolumn; tillåtna: %(allowed)s"),
    "duplicate_column": _("kolumnen finns två gånger"),
    "missing_column": _("kolumnen saknas; rubrikraden måste innehålla %(required)s"),
    "too_many_cells": _("raden har %(used)s celler, rubrikraden %(width)s"),
    "too_many_cells_quote": _(
        "raden har %(used)s celler, rubrikraden %(width)s; sätt celler som innehåller "
        "%(delimiter)s inom citattecken"
    ),
    # A row against the database (indicators/imports/reader.py).
    "unknown_indicator": _("okänt styrmått '%(code)s'"),
    "unknown_org_unit": _("okänd organisationsenhet '%(code)s'"),
    "not_yours": _("du får inte ändra värden för '%(code)s'"),
    "period_closed": _("perioden %(period)s är stängd för '%(code)s'"),
    "not_a_breakdown": _(
        "'%(breakdown)s' är ingen uppdelning av %(indicator)s (uppdelningar: %(declared)s)"
    ),
    "not_placed": _(
        "%(indicator)s finns inte på styrkortet för '%(code)s' eller för en enhet ovanför den "
        "%(year)s"
    ),
    "duplicate_row": _("samma som rad %(first)s (%(codes)s)"),
    # The import as a whole (indicators/imports/).
    "file_too_large": _("filen är %(size)s byte; gränsen är %(limit)s byte"),
    "same_file": _(
        "samma fil (SHA-256 %(sha)s…) togs emot som import #%(pk)s %(when)s; den används inte "
        "två gånger"
    ),
    "worker_stopped": _(
        "importen avbröts %(times)s gånger (processen stoppades, eller minnet tog slut?); "
        "inget genomfördes"
    ),
    "file_missing": _("den sparade filen saknas; inget importerades, skicka den igen"),
    "internal_error": _(
        "importen stannade på ett internt fel; inget genomfördes. Administratörerna hittar "
        "detaljerna i loggen under import #%(pk)s"
    ),
    "database_gone": _(
        "databasen gick inte att nå eller bröt importen (%(attempts)s försök); inget "
        "genomfördes. Skicka filen igen när tjänsten fungerar"
    ),
    "changed_while_taken": _(
        "filen växte medan den hämtades (skrevs den fortfarande?); inget importerades. Skriv "
        "den under ett namn som börjar med '.' och byt namn när den är klar."
    ),
}
# Parameters that are counts of bytes: grouped as the language groups thousands.
_GROUPED = {"size", "limit"}


def say(message: str) -> str:
    """A domain message (domain.messages.Message) in the active language; text without a
    code as it is."""
    code, params = code_of(message)
    return translated(code, params, str(message))


def say_stored(error: Mapping) -> str:
    """A stored row error ({"message", "code", "params"}) in the active language; one stored
    before errors carried codes, in the English it was stored in."""
    return translated(error.get("code") or "", error.get("params") or {}, error.get("message", ""))


def translated(code: str, params: Mapping, fallback: str) -> str:
    template = MESSAGES.get(code)
    if template is None:
        return fallback
    shown = {
        name: number_format(value, force_grouping=True) if name in _GROUPED else value
        for name, value in params.items()
    }
    try:
        return str(template) % shown
    except (KeyError, TypeError, ValueError):  # a stored error from another version
        return fallback
