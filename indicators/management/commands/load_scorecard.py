from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from indicators.definitions import DefinitionError, load_scorecard, read_definition


class Command(BaseCommand):
    help = "Load a scorecard definition (YAML). Loading the same file twice changes nothing."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--year",
            type=int,
            default=None,
            help="Year the targets apply to (default: the file's `year:`, else every year).",
        )

    def handle(self, *args, file: Path, year: int | None, **options):
        try:
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{file}: cannot read: {exc}") from exc
        try:
            result = load_scorecard(definition=read_definition(text), year=year)
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
