"""The demo: Division Nära's T2 2022 scorecard beside a second division's 2022 and 2023
scorecards, one user per role, optional synthetic history.

Nära's data set is a copy of the region's extracted report inside the package, so the app
never reads outside its own tree at run time. Division Länssjukvård's files are hand-written
in the same format (fixtures/lanssjukvard/): they place many of Nära's indicators under their
own success factors, so the region overview shows two divisions that share a catalogue.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml
from django.contrib.auth import get_user_model
from django.db import transaction

from audit.models import Source
from audit.services import Actor
from benchmarks.recorded import RecordedKolada
from benchmarks.sync import SyncResult, configured_areas, sync_benchmarks
from divisions.models import OrgUnit, Role, RoleAssignment
from domain.periods import InvalidPeriod, Period
from indicators.definitions import LoadResult, load_scorecard, read_definition
from indicators.editing import annotate_indicator
from indicators.imports.run import ImportResult, import_measurements
from indicators.models import Assessment, ImportSource, Indicator
from scorecard.closing import closed_lookup
from scorecard.deadlines import set_deadline
from scorecard.models import Action, Perspective

FIXTURES = Path(__file__).resolve().parent / "fixtures"
DATA_DIR = FIXTURES / "nara_2022_t2"
# Earlier periods the report gives only in its analysis texts (narrative.md): the demo's
# history beside the tables' values; the tests' `nara` fixture imports measurements.csv alone.
HISTORY_FILE = DATA_DIR / "history.csv"
# The analysis the report writes below its tables, per indicator (written by its manager).
ANALYSES_FILE = DATA_DIR / "analyses.yaml"
ANALYSIS_AUTHOR = "chef.nara"
DEMO_YEAR = 2022  # the targets in the file are those of the year of its data
DEMO_DIVISION = "div_nara"
SECOND_DIR = FIXTURES / "lanssjukvard"
SECOND_DIVISION = "div_lanssjukvard"
# Oldest first; each file's `year:` is the year its scorecard holds from. Its 2023 values
# (measurements_2023.csv) are the tests', not the demo's: the demo opens on 2022-T2, the
# latest period with values, which both divisions report.
SECOND_SCORECARDS = ("scorecard_2022.yaml", "scorecard_2023.yaml")
# The region's own key figures (its December 2019 management report): a scorecard of the
# region org unit, holding from 2019; sjukfrånvaro and resultat mot budget are the same
# catalogue entries the divisions report, so from 2022 the region shows their sums.
REGION_DIR = FIXTURES / "region_2019"
# The national comparison without network: Kolada's answers in its v3 format for the two
# indicators Nära's file maps (telefon_teleq, medicinsk_bedomning_3d), loaded through the
# same sync as the live API. The figures are example data, not Kolada's: the source says so
# on every page that shows them.
KOLADA_FILE = FIXTURES / "kolada" / "recorded.json"
KOLADA_SOURCE = "Exempeldata i demon i Koladas format, inte Koladas publicerade värden"
KOLADA_YEARS = (2019, 2020, 2021, 2022)
DEMO_PASSWORD = "styrkort-demo"  # stated in the README; demo databases only


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    role: str
    org_unit: str | None
    email: str = ""


DEMO_USERS = [
    DemoUser("admin", "Administratör", Role.ADMINISTRATOR, None),
    DemoUser(
        "chef.nara",
        "Divisionschef Nära",
        Role.DIVISION_MANAGER,
        DEMO_DIVISION,
        "chef.nara@example.org",  # the deadline reminders' recipient (README "Reporting cycle")
    ),
    DemoUser("ledamot", "Ledamot regionstyrelsen", Role.BOARD_MEMBER, None),
    DemoUser("analytiker", "Analytiker", Role.ANALYST, None),
]


@dataclass
class DemoResult:
    scorecard: LoadResult  # every scorecard file's counts, added up
    measurements: list[ImportResult]  # one per file; a file whose rows are all closed: none
    actions_created: int
    users_created: int
    # Rows of the demo file left out because their period is closed for their unit, and
    # those (period, org unit) pairs: a close freezes values, the demo included.
    skipped_rows: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    analyses: AnalysesResult | None = None
    benchmarks: SyncResult | None = None


@dataclass
class AnalysesResult:
    written: int = 0
    unchanged: int = 0
    closed: int = 0  # in a closed period: left as they are, like the values there
    # Indicators without a value in the period have no assessment to hold an analysis yet.


@transaction.atomic
def load_demo() -> DemoResult:
    """Load (or refresh) the demo; running it again changes nothing.

    Values in a period closed for their unit are left as they are: the import refuses the
    whole file for one such row, so those rows are taken out before it (and reported).
    """
    scorecard = _load_scorecard(DATA_DIR / "scorecard.yaml", year=DEMO_YEAR)
    for name in SECOND_SCORECARDS:
        _add_counts(scorecard, _load_scorecard(SECOND_DIR / name, source=f"lanssjukvard/{name}"))
    _add_counts(
        scorecard,
        _load_scorecard(REGION_DIR / "scorecard.yaml", source="region_2019/scorecard.yaml"),
    )
    measurements: list[ImportResult] = []
    skipped: dict[tuple[str, str], int] = {}
    files = (
        DATA_DIR / "measurements.csv",
        HISTORY_FILE,
        SECOND_DIR / "measurements.csv",
        REGION_DIR / "measurements.csv",
    )
    for path in files:
        imported = _import_open_rows(path, skipped)
        if imported is not None:
            measurements.append(imported)
    result = DemoResult(
        scorecard=scorecard,
        measurements=measurements,
        actions_created=_load_actions(DATA_DIR / "actions.csv", DEMO_DIVISION),
        users_created=_create_users(),
        skipped_rows=sum(skipped.values()),
        skipped=sorted(skipped),
    )
    result.analyses = _load_analyses(ANALYSES_FILE, DEMO_DIVISION)
    result.benchmarks = sync_benchmarks(
        client=RecordedKolada(KOLADA_FILE, source=KOLADA_SOURCE),
        areas=configured_areas(),
        years=KOLADA_YEARS,
        actor=Actor(user=None, source=Source.COMMAND),
    )
    _set_deadlines()
    return result


# The demo's report periods and when they were due: the completeness board has a deadline
# to show, and, being past, no reminder goes out from a demo.
DEMO_DEADLINES = {"2022-T2": date(2022, 9, 15)}


def _set_deadlines() -> None:
    admin = get_user_model().objects.get(username="admin")
    for period, due in DEMO_DEADLINES.items():
        set_deadline(
            actor=Actor(admin, Source.COMMAND), period=period, due_date=due, remind_days_before=7
        )


def _load_scorecard(path: Path, *, year: int | None = None, source: str = "") -> LoadResult:
    definition = read_definition(path.read_text(encoding="utf-8"))
    return load_scorecard(definition=definition, year=year, source=source)


def _add_counts(total: LoadResult, more: LoadResult) -> None:
    for counts, extra in ((total.created, more.created), (total.changed, more.changed)):
        for name, number in extra.items():
            counts[name] = counts.get(name, 0) + number


def _import_open_rows(path: Path, skipped: dict[tuple[str, str], int]) -> ImportResult | None:
    """Import the file's rows outside closed periods (adding the others to `skipped`)."""
    kept, closed = _without_closed_rows(path.read_text(encoding="utf-8"))
    for key, count in closed.items():
        skipped[key] = skipped.get(key, 0) + count
    if kept.count("\n") <= 1:  # only the header: an import of no rows is refused
        return None
    return import_measurements(
        fileobj=io.BytesIO(kept.encode("utf-8")),
        filename=f"{path.parent.name}/{path.name}",
        source=ImportSource.DEMO,
    )


def _period_code(text: str) -> str:
    try:
        return Period.parse(text.strip()).code
    except InvalidPeriod:
        return text  # the import reports it as a row error, as for any file


def _without_closed_rows(text: str) -> tuple[str, dict[tuple[str, str], int]]:
    """The file without rows in closed periods, and how many were taken out per period/unit."""
    is_closed = closed_lookup()
    paths = dict(OrgUnit.objects.values_list("code", "path"))
    reader = csv.DictReader(io.StringIO(text, newline=""))
    kept = io.StringIO(newline="")
    writer = csv.DictWriter(kept, fieldnames=reader.fieldnames or [], lineterminator="\n")
    writer.writeheader()
    skipped: dict[tuple[str, str], int] = {}
    for row in reader:
        unit, period = (row["org_unit"] or "").strip(), _period_code(row["period"] or "")
        if unit in paths and is_closed(paths[unit], period):
            skipped[(period, unit)] = skipped.get((period, unit), 0) + 1
        else:
            writer.writerow(row)
    return kept.getvalue(), skipped


def _load_actions(path: Path, org_unit_code: str) -> int:
    unit = OrgUnit.objects.get(code=org_unit_code)
    perspectives = {p.code: p for p in Perspective.objects.all()}
    created = 0
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            _, was_created = Action.objects.update_or_create(
                org_unit=unit,
                perspective=perspectives[row["perspective"]],
                goal=row["goal"].strip(),
                defaults={
                    "number": row["number"].strip(),
                    "description": row["action"].strip(),
                    "comment": row["status_comment"].strip(),
                    # The plan of the report the file is from (nara_2022_t2).
                    "period": f"{DEMO_YEAR}-T2",
                },
            )
            created += was_created
    return created


def _load_analyses(path: Path, org_unit_code: str) -> AnalysesResult:
    """Each indicator's analysis, written as its manager writes it (editing service, audited).

    A text already there is left alone; a period closed for the unit is left as it is.
    """
    unit = OrgUnit.objects.get(code=org_unit_code)
    author = get_user_model().objects.get(username=ANALYSIS_AUTHOR)
    is_closed = closed_lookup()
    result = AnalysesResult()
    for entry in yaml.safe_load(path.read_text(encoding="utf-8")):
        period = Period.parse(str(entry["period"])).code
        text = entry["analysis"].strip()
        if is_closed(unit.path, period):
            result.closed += 1
            continue
        assessment = Assessment.objects.filter(
            indicator__code=entry["indicator"], org_unit=unit, period=period
        ).first()
        if assessment is not None and assessment.analysis == text:
            result.unchanged += 1
            continue
        # The report explains missing values too ("därför saknas utfall"): an analysis
        # without a value creates its assessment, as the manager's form does.
        annotate_indicator(
            user=author,
            indicator=Indicator.objects.get(code=entry["indicator"]),
            org_unit=unit,
            period=period,
            analysis=text,
            source=Source.COMMAND,
        )
        result.written += 1
    return result


def _create_users() -> int:
    user_model = get_user_model()
    created = 0
    for spec in DEMO_USERS:
        user, was_created = user_model.objects.get_or_create(
            username=spec.username,
            defaults={
                "first_name": spec.first_name,
                "is_staff": spec.role == Role.ADMINISTRATOR,
                "is_superuser": spec.role == Role.ADMINISTRATOR,
                "email": spec.email,
            },
        )
        if was_created:
            user.set_password(DEMO_PASSWORD)
            user.save()
            created += 1
        unit = OrgUnit.objects.get(code=spec.org_unit) if spec.org_unit else None
        RoleAssignment.objects.get_or_create(user=user, role=spec.role, org_unit=unit)
    return created
