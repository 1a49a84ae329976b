from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    """The read side: selectors, charts, exports and the pages built from them."""

    name = "dashboard"
    verbose_name = _("Översikt")

    def ready(self) -> None:
        from dashboard import page_cache

        # After every migrate (and flush), so that every table the pages read is watched.
        # Django signals post_migrate per app with models (this one has none), once all
        # migrations have run: one of the watched apps is the sender to follow.
        post_migrate.connect(
            page_cache.install_triggers, sender=self.apps.get_app_config("indicators")
        )
