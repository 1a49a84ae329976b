from django.core.management.base import BaseCommand, CommandError

from dashboard import freezing
from dashboard.management.closing_arguments import actor_and_unit, add_close_arguments
from scorecard.closing import AlreadyClosed


class Command(BaseCommand):
    help = (
        "Close a report period for an org unit and every unit under it, freezing each unit's "
        "report as it stands (what the report page's close button does)."
    )

    def add_arguments(self, parser):
        add_close_arguments(parser, reason_required=False)

    def handle(self, *args, org_unit: str, period: str, reason: str, user: str | None, **options):
        actor, unit, period_code = actor_and_unit(org_unit, period, user)
        try:
            close = freezing.close_report(
                actor=actor, org_unit=unit, period=period_code, reason=reason
            )
        except AlreadyClosed as exc:
            raise CommandError(str(exc)) from None
        frozen = close.frozen_reports.count()
        self.stdout.write(
            f"Closed {close.period} for {unit.name} ({unit.code}) and the units under it; "
            f"{frozen} report(s) frozen."
        )
