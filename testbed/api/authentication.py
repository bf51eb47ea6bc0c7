"""DRF authentication classes of the testbed.

Order in REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] (see settings): JWT Bearer first
(its WWW-Authenticate value, ``Bearer realm="api"``, is the one DRF sends on 401), then DRF
Token (``Authorization: Token KEY``), then the Django session.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework import exceptions
from knox.auth import TokenAuthentication as KnoxAuthentication
from knox.settings import knox_settings
from rest_framework.authentication import SessionAuthentication, TokenAuthentication, get_authorization_header
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken

from project.flaws import flaw_on

from .tokens import TokenRejected, decode_access_token, user_for_payload

log = logging.getLogger(__name__)


def invalid_token_error(raw: str, reason: str) -> InvalidToken:
    """The 401 raised for a rejected access token (simplejwt's response shape)."""
    body = {
        "detail": "Given token not valid for any token type",
        "code": "token_not_valid",
        "messages": [{"token_class": "AccessToken", "token_type": "access", "message": reason}],
    }
    if flaw_on("token_in_error"):
        # INTENTIONALLY VULNERABLE (token_in_error): "support wants to see what the client
        # sent" - the rejected credential is echoed back (and lands in client-side logs,
        # proxies and error trackers).
        body["detail"] = "Given token not valid for any token type: %s" % raw
        body["token"] = raw
    return InvalidToken(body)


class ApiJWTAuthentication(JWTAuthentication):
    """``Authorization: Bearer <jwt>``, validated by api.tokens.decode_access_token.

    ``request.auth`` is the dict of validated claims.
    """

    def authenticate(self, request):
        header = self.get_header(request)
        if header is None:
            if flaw_on("cookie_jwt_csrf"):
                # INTENTIONALLY VULNERABLE (cookie_jwt_csrf): the access token is also taken
                # from the access_token cookie the login sets, with no CSRF check (unlike
                # DRF's SessionAuthentication), so cross-site requests act as the user.
                raw_cookie = request.COOKIES.get("access_token")
                if raw_cookie:
                    return self.authenticate_raw(raw_cookie)
            return None
        raw = self.get_raw_token(header)
        if raw is None:
            return None
        return self.authenticate_raw(raw.decode("latin-1"))

    def authenticate_raw(self, raw: str):
        try:
            payload = decode_access_token(raw)
            user = user_for_payload(payload)
        except TokenRejected as exc:
            raise invalid_token_error(raw, str(exc)) from exc
        return user, payload


class QueryStringJWTAuthentication(ApiJWTAuthentication):
    """INTENTIONALLY VULNERABLE (query_token): access tokens accepted from the query string.

    Added "for CSV download links and the <img src> avatar URLs"; the tokens end up in
    access logs, browser history and Referer headers.
    """

    def authenticate(self, request):
        raw = request.query_params.get("access_token") or request.query_params.get("token")
        if not raw:
            return None
        return self.authenticate_raw(raw)


class DemoFallbackJWTAuthentication(ApiJWTAuthentication):
    """INTENTIONALLY VULNERABLE (invalid_token_accepted), used on /api/me/ only.

    Left over from the app-store review build: when the Bearer token does not validate, the
    profile endpoint logs a warning and serves the "demo account" (the first user) instead
    of failing, so that the app's splash screen never shows an error.
    """

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            log.info("invalid bearer token on %s; serving the demo account", request.path)
            demo = get_user_model().objects.order_by("id").first()
            return (demo, None) if demo is not None else None


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF Token auth whose keys expire AUTHTOKEN_LIFETIME after issue (rotated per login)."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token.created < timezone.now() - settings.AUTHTOKEN_LIFETIME:
            token.delete()
            raise exceptions.AuthenticationFailed("Token has expired.")
        return user, token


class CsrfExemptSessionAuthentication(SessionAuthentication):
    """INTENTIONALLY VULNERABLE (csrf_exempt): session auth without the CSRF check.

    The StackOverflow fix for "CSRF Failed: CSRF token missing" from the SPA: any site the
    user visits can now make cookie-authenticated state changes (logout, password change,
    key creation).
    """

    def enforce_csrf(self, request):
        return None


class KnoxTokenAuthentication(KnoxAuthentication):
    """knox tokens (64 characters) share the `Token` scheme with DRF authtoken keys (40):
    leave anything that is not a knox token to the next authentication class."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if len(parts) == 2 and len(parts[1]) != knox_settings.AUTH_TOKEN_CHARACTER_LENGTH:
            return None
        return super().authenticate(request)
