"""djoser + simplejwt set up as djoser's "Getting started" page shows, plus a notes app.

Flawed (default) variant: djoser's documented JWT setup and nothing more. --hardened
(ZOO_HARDENED=1): what a careful team adds; every difference is in an `if HARDENED` block.
serve.py sets ZOO_DB (fresh SQLite per start), ZOO_SECRET_KEY and ZOO_JWT_KEY (random).
"""

import os
from datetime import timedelta

HARDENED = os.environ.get("ZOO_HARDENED") == "1"

SECRET_KEY = os.environ.get("ZOO_SECRET_KEY") or os.urandom(32).hex()
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

# startproject's apps minus the admin (djoser's example urls.py mounts no admin), plus
# DRF, djoser and the notes API.
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "djoser",
    "notes",
]

# startproject's middleware: SecurityMiddleware sends nosniff + Referrer-Policy: same-origin,
# XFrameOptionsMiddleware sends X-Frame-Options: DENY, in both variants.
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
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
TIME_ZONE = "UTC"
USE_TZ = True
STATIC_URL = "static/"
# Zoo only: a fast hasher keeps the many scan logins cheap (not a flaw under test).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# djoser's password-reset mails go nowhere (there is no SMTP server here).
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# --- Exactly djoser's documented JWT setup ------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ("rest_framework_simplejwt.authentication.JWTAuthentication",),
}
# djoser's docs: SIMPLE_JWT = {'AUTH_HEADER_TYPES': ('JWT',)}. Everything else is simplejwt's
# default: HS256 keyed with SECRET_KEY, access 5 min, refresh 1 day, no aud/iss, no
# rotation, no blacklist app (so nothing can be revoked), no throttle on any token view.
SIMPLE_JWT = {"AUTH_HEADER_TYPES": ("JWT",)}
# The frontend URLs djoser's settings page shows; without them password reset 500s.
DJOSER = {
    "PASSWORD_RESET_CONFIRM_URL": "#/password/reset/confirm/{uid}/{token}",
    "USERNAME_RESET_CONFIRM_URL": "#/username/reset/confirm/{uid}/{token}",
    "ACTIVATION_URL": "#/activate/{uid}/{token}",
}

if HARDENED:
    INSTALLED_APPS.append("rest_framework_simplejwt.token_blacklist")
    # CSP on every response (Django 5.1 has no built-in CSP); must run outermost.
    MIDDLEWARE.insert(0, "project.auth.ContentSecurityPolicyMiddleware")
    REST_FRAMEWORK.update(
        {
            # No browsable API in production: JSON only (no HTML, no csrftoken cookie).
            "DEFAULT_RENDERER_CLASSES": ("rest_framework.renderers.JSONRenderer",),
            "DEFAULT_AUTHENTICATION_CLASSES": ("project.auth.RevocableJWTAuthentication",),
            "DEFAULT_THROTTLE_RATES": {"account": "10/min"},
        }
    )
    SIMPLE_JWT = {
        "AUTH_HEADER_TYPES": ("JWT",),
        "ALGORITHM": "HS256",
        "SIGNING_KEY": os.environ.get("ZOO_JWT_KEY") or os.urandom(32).hex(),  # not SECRET_KEY
        "AUDIENCE": "zoo-djoser-jwt",
        "ISSUER": "http://127.0.0.1/zoo/djoser-jwt",
        "ACCESS_TOKEN_LIFETIME": timedelta(minutes=5),
        "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
        "ROTATE_REFRESH_TOKENS": True,
        "BLACKLIST_AFTER_ROTATION": True,
        "UPDATE_LAST_LOGIN": False,
    }
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Strict"
    SECURE_HSTS_SECONDS = 31536000  # only sent over HTTPS
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
