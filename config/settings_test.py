"""Settings for the test suite: production settings with two differences.

The test client and the live server for browser tests speak plain HTTP on 127.0.0.1, so
Django's own HTTP->HTTPS redirect (on by default in production) is off here. Everything
else, including DEBUG off, secure cookies and the Content-Security-Policy, stays as in
production so that the tests see what users see. Passwords are hashed with MD5 (below).
"""

from .settings import *  # noqa: F403

SECURE_SSL_REDIRECT = False

# Hashing a password for real (PBKDF2, over a million rounds) costs about a second on a
# busy CI machine; tests that log in or load the demo users need a hash, not a strong one.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
