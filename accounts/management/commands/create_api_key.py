from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.services import create_token


class Command(BaseCommand):
    help = (
        "Create an API key for a user and print it (only the key, once: it is not stored), "
        "for scripts and the README's API examples. The same as 'Skapa nyckel' on /konto/."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="command line", help="shown on the user's page")

    def handle(self, *args, username: str, name: str, **options):
        try:
            user = get_user_model().objects.get(username=username, is_active=True)
        except get_user_model().DoesNotExist:
            raise CommandError(f"no active user '{username}'") from None
        _token, key = create_token(user=user, name=name)
        self.stdout.write(key)
