"""Settings for the test suite: production settings with one difference.

The test client and the live server for browser tests speak plain HTTP on 127.0.0.1, so
Django's own HTTP->HTTPS redirect (on by default in production) is off here. Everything
else, including DEBUG off, secure cookies and the Content-Security-Policy, stays as in
production so that the tests see what users see.
"""

from .settings import *  # noqa: F403

SECURE_SSL_REDIRECT = False
