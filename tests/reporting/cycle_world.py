"""A small region for the reporting cycle's tests, small enough to count by hand.

Division Alfa (div_alfa) follows its own 2022 scorecard with three indicators under two
perspectives, and has two units (Norr, Söder) below it:

- vantetid (Samhälle): at least 90, Alfa's own value 70 -> not fulfilled (red)
- besok (Samhälle): counts summed from the units, followed up only (no target); both
  reported it in T1; in T2 Norr has sent its value, Söder has not -> one value missing
- nojdhet (Medarbetare): at least 80 (band 8), Alfa's own value 75 -> partly (yellow)

So in 2022-T2 Alfa's board lacks: values 1 (besok at Söder), analyses 2 (vantetid, nojdhet),
perspective assessments 2 (Samhälle, Medarbetare), actions 1 (vantetid): 6 in all.

Division Beta (div_beta) has the same kind of scorecard with one indicator, complete.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from divisions.models import OrgUnit, OrgUnitKind, Role
from indicators import editing as indicator_editing
from indicators.models import Indicator, Target
from scorecard import editing as scorecard_editing
from scorecard.models import Perspective, Scorecard, StrategicGoal, SuccessFactor
from tests.factories import OrgUnitFactory, RoleAssignmentFactory, UserFactory, place

PERIOD = "2022-T2"


@dataclass
class World:
    region: OrgUnit
    alfa: OrgUnit
    beta: OrgUnit
    norr: OrgUnit
    soder: OrgUnit
    admin: object
    chef: object  # Alfa's division manager, with an e-mail address
    chef2: object  # Alfa's second manager, without one
    beta_chef: object
    indicators: dict[str, Indicator]
    perspectives: dict[str, Perspective]


def _user(username: str, role: str, unit: OrgUnit | None, email: str = "", password=None):
    user = UserFactory(
        username=username,
        email=email,
        password=password,
        first_name=username.capitalize(),
        is_staff=role == Role.ADMINISTRATOR,
        is_superuser=role == Role.ADMINISTRATOR,
    )
    RoleAssignmentFactory(user=user, role=role, org_unit=unit)
    return user


def build_world(password: str | None = None) -> World:
    region = OrgUnitFactory(code="region", name="Regionen", kind=OrgUnitKind.REGION)
    alfa = OrgUnitFactory(
        code="div_alfa", name="Division Alfa", kind=OrgUnitKind.DIVISION, parent=region
    )
    beta = OrgUnitFactory(
        code="div_beta", name="Division Beta", kind=OrgUnitKind.DIVISION, parent=region
    )
    norr = OrgUnitFactory(code="alfa_norr", name="Alfa Norr", kind=OrgUnitKind.UNIT, parent=alfa)
    soder = OrgUnitFactory(code="alfa_soder", name="Alfa Söder", kind=OrgUnitKind.UNIT, parent=alfa)
    perspectives = {
        "samhalle": Perspective.objects.create(code="samhalle", name="Samhälle", order=1),
        "medarbetare": Perspective.objects.create(code="medarbetare", name="Medarbetare", order=3),
    }
    goals = {
        code: StrategicGoal.objects.create(code=f"mal_{code}", perspective=p, name=f"Mål {p.name}")
        for code, p in perspectives.items()
    }
    indicators = {
        "vantetid": Indicator.objects.create(
            code="vantetid", name="Andel besök inom vårdgarantin", unit="percent",
            direction="increase", breakdowns=["total"],
        ),
        "besok": Indicator.objects.create(
            code="besok", name="Antal besök", unit="count", direction="increase",
            aggregation="sum", breakdowns=["total"],
        ),
        "nojdhet": Indicator.objects.create(
            code="nojdhet", name="Nöjd medarbetarindex", unit="index", direction="increase",
            breakdowns=["total"],
        ),
    }  # fmt: skip
    Target.objects.create(indicator=indicators["vantetid"], kind="at_least", value=90)
    Target.objects.create(indicator=indicators["nojdhet"], kind="at_least", value=80)
    Target.objects.create(indicator=indicators["besok"], kind="none", text="Följs upp")
    for division in (alfa, beta):
        scorecard = Scorecard.objects.create(org_unit=division, year=2022)
        factors = {
            code: SuccessFactor.objects.create(
                scorecard=scorecard, code=f"ff_{code}", strategic_goal=goal, name=f"FF {code}"
            )
            for code, goal in goals.items()
        }
        place(indicators["vantetid"], scorecard, success_factor=factors["samhalle"], order=1)
        if division == alfa:
            place(indicators["besok"], scorecard, success_factor=factors["samhalle"], order=2)
            place(indicators["nojdhet"], scorecard, success_factor=factors["medarbetare"])
    admin = _user("admin", Role.ADMINISTRATOR, None, "admin@example.org", password)
    chef = _user("chef", Role.DIVISION_MANAGER, alfa, "chef.alfa@example.org", password)
    chef2 = _user("chef2", Role.DIVISION_MANAGER, alfa, "", password)
    beta_chef = _user("betachef", Role.DIVISION_MANAGER, beta, "chef.beta@example.org", password)
    _user("ledamot", Role.BOARD_MEMBER, None, "ledamot@example.org", password)

    def value(indicator: str, unit: OrgUnit, number: str, period: str = PERIOD) -> None:
        indicator_editing.set_measurement(
            user=admin, indicator=indicators[indicator], org_unit=unit, period=period,
            value=Decimal(number),
        )  # fmt: skip

    # Söder reported besok in T1: it is one of the units the sum expects (domain.rollup).
    value("besok", soder, "90", "2022-T1")

    value("vantetid", alfa, "70")
    value("nojdhet", alfa, "75")
    value("besok", norr, "120")
    # Beta: fulfilled, and its one perspective assessed.
    value("vantetid", beta, "95")
    scorecard_editing.set_perspective_assessment(
        user=admin, org_unit=beta, perspective=perspectives["samhalle"], period=PERIOD,
        status="fulfilled", text="Bra.",
    )  # fmt: skip
    return World(
        region, alfa, beta, norr, soder, admin, chef, chef2, beta_chef, indicators, perspectives
    )
