from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from indicators.definitions import DefinitionError, load_scorecard, read_definition


class Command(BaseCommand):
    help = (
        "Load one org unit's scorecard for one year (YAML). Loading the same file twice "
        "changes nothing; another unit's or year's scorecard is never touched."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--org-unit",
            default=None,
            help="Whose scorecard this is (default: the file's `owner:`, else its one division).",
        )
        parser.add_argument(
            "--year",
            type=int,
            default=None,
            help="The year the scorecard holds from (default: the file's `year:`).",
        )

    def handle(self, *args, file: Path, year: int | None, org_unit: str | None, **options):
        try:
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{file}: cannot read: {exc}") from exc
        try:
            result = load_scorecard(
                definition=read_definition(text), year=year, org_unit=org_unit, source=file.name
            )
        except DefinitionError as exc:
            for problem in exc.problems:
                self.stderr.write(f"{file}: {problem}")
            raise CommandError(
                f"{file}: {len(exc.problems)} problem(s); nothing was loaded"
            ) from None
        parts = ", ".join(
            f"{name} {result.created.get(name, 0)} created/{result.changed.get(name, 0)} changed"
            for name in result.created
        )
        self.stdout.write(
            f"{file}: {result.total_created} created, {result.total_changed} changed ({parts})"
        )
