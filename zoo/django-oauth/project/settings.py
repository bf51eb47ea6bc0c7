"""A django-oauth-toolkit (DOT) OAuth2 provider as DOT's "Django Rest Framework - Getting
started" tutorial sets it up (admin + oauth2_provider + DRF with OAuth2Authentication),
with a seeded public client for the resource-owner password grant. Flawed variant only.

serve.py sets ZOO_DB (fresh SQLite per start) and ZOO_SECRET_KEY (random per start).
"""

import os

SECRET_KEY = os.environ.get("ZOO_SECRET_KEY") or os.urandom(32).hex()
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

# startproject's apps (the tutorial keeps the admin: it registers the client there) + DOT + DRF.
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "oauth2_provider",
    "rest_framework",
    "notes",
]

# startproject's middleware: nosniff, Referrer-Policy and X-Frame-Options: DENY are on.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "project.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("ZOO_DB", ":memory:"),
        "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
TIME_ZONE = "UTC"
USE_TZ = True
STATIC_URL = "static/"
# Zoo only: a fast hasher keeps the many scan logins cheap (not a flaw under test).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# --- The tutorial's settings, verbatim ----------------------------------------------------
# Everything else is DOT's default: opaque 30-character tokens, access tokens live 36000 s
# (10 h), refresh tokens never expire (REFRESH_TOKEN_EXPIRE_SECONDS = None) but are rotated
# on use (ROTATE_REFRESH_TOKEN = True, no grace period), no throttle on any /o/ endpoint.
OAUTH2_PROVIDER = {
    "SCOPES": {"read": "Read scope", "write": "Write scope", "groups": "Access to your groups"},
}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ("oauth2_provider.contrib.rest_framework.OAuth2Authentication",),
    "DEFAULT_PERMISSION_CLASSES": ("rest_framework.permissions.IsAuthenticated",),
}
