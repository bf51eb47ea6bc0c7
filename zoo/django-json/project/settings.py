"""A hand-written Django JSON API (no DRF), the way many teams write one.

Flawed (default) variant: the mistakes listed in README.md. --hardened (ZOO_HARDENED=1):
each fixed, see the `settings.HARDENED` branches in api/views.py and below.
serve.py sets ZOO_DB (fresh SQLite per start) and ZOO_SECRET_KEY (random per start).
"""

import os

HARDENED = os.environ.get("ZOO_HARDENED") == "1"

SECRET_KEY = os.environ.get("ZOO_SECRET_KEY") or os.urandom(32).hex()
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "api",
]

# startproject's security middleware stays on in both variants: nosniff,
# Referrer-Policy: same-origin, X-Frame-Options: DENY. No sessions: the API uses tokens.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
if HARDENED:
    MIDDLEWARE.insert(0, "api.views.ContentSecurityPolicyMiddleware")

ROOT_URLCONF = "project.urls"
TEMPLATES = []
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("ZOO_DB", ":memory:"),
        "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
    }
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
TIME_ZONE = "UTC"
USE_TZ = True
# Zoo only: a fast hasher keeps the many scan logins cheap (not a flaw under test).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
