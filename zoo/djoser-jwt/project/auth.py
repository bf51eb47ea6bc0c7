"""Hardened-only pieces loaded from settings (kept apart from the views: no import cycle)."""

import time

from django.core.cache import cache
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings


def revoke_access(payload) -> None:
    ttl = max(1, int(payload.get("exp", 0) - time.time()) + 60)
    cache.set("revoked-jti:%s" % payload[api_settings.JTI_CLAIM], True, ttl)


class RevocableJWTAuthentication(JWTAuthentication):
    """simplejwt's authentication that also refuses access tokens revoked by logout."""

    def get_validated_token(self, raw_token):
        token = super().get_validated_token(raw_token)
        if cache.get("revoked-jti:%s" % token.get(api_settings.JTI_CLAIM)):
            raise InvalidToken({"detail": "Token has been revoked.", "code": "token_not_valid"})
        return token


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'")
        return response
