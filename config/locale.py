"""Swedish unless the user chose otherwise.

Django's LocaleMiddleware would follow the browser's Accept-Language, so most English
browsers would get an English page; a Swedish public-sector site starts in Swedish and
switches only on the user's own choice (the language cookie set by the switch).
"""

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class SwedishFirstLocaleMiddleware(LocaleMiddleware):
    def process_request(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = {code for code, _ in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
