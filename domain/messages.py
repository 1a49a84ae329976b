"""Messages of the rules and readers: English text that also carries a code and parameters.

The domain has no translations (no Django). A Message is the English text the command line,
the logs and the API show, and it still compares and prints as that plain string; its
`code` and `params` let a layer with translations say it in the user's language
(indicators.messages). Parameters are plain text or whole numbers, so they can be stored
(an import's errors are JSON) and translated later, in whatever language the reader uses.
"""

from __future__ import annotations

from typing import Any


class Message(str):
    """English text with the code and parameters it was made from."""

    code: str
    params: dict[str, str | int]

    def __new__(cls, code: str, template: str, /, **params: Any) -> Message:
        plain = {
            name: value
            if isinstance(value, int | str) and not isinstance(value, bool)
            else str(value)
            for name, value in params.items()
        }
        message = super().__new__(cls, template.format(**plain))
        message.code = code
        message.params = plain
        return message

    def __reduce__(self):  # pickled (a Celery result, a cache) with its code and params
        return (_rebuild, (str(self), self.code, self.params))


def _rebuild(text: str, code: str, params: dict[str, str | int]) -> Message:
    message = str.__new__(Message, text)
    message.code, message.params = code, params
    return message


def code_of(text: object) -> tuple[str, dict[str, str | int]]:
    """A message's code and parameters; ("", {}) for plain text."""
    if isinstance(text, Message):
        return text.code, dict(text.params)
    return "", {}
