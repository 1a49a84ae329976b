from django.core.management.base import BaseCommand, CommandError

from dashboard import freezing
from dashboard.management.closing_arguments import actor_and_unit, add_close_arguments
from scorecard.closing import NotClosed, ReasonRequired


class Command(BaseCommand):
    help = (
        "Reopen a report period closed on an org unit (an administrator's act; the reason is "
        "recorded in the audit trail). The frozen reports stay: a correction made now shows "
        "as 'rättad efter fastställande' against them."
    )

    def add_arguments(self, parser):
        add_close_arguments(parser, reason_required=True)

    def handle(self, *args, org_unit: str, period: str, reason: str, user: str | None, **options):
        actor, unit, period_code = actor_and_unit(org_unit, period, user)
        try:
            close = freezing.reopen_report(
                actor=actor, org_unit=unit, period=period_code, reason=reason
            )
        except (NotClosed, ReasonRequired) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Reopened {close.period} for {unit.name} ({unit.code}).")
