"""Shared plumbing of the self-contained JWT families (/api/kid/, /api/es/).

Each family has a login view (``POST {"username", "password"}`` -> ``{"access"}``), a
Bearer authentication class and a ``me`` view. The family supplies ``issue(user)`` and
``verify(raw) -> claims``; everything else (failed-login limit, claim checks after the
signature, user lookup, 401 shape) is the same as on the partner API.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import jwt
from django.contrib.auth import authenticate, get_user_model
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from .rs256 import CredentialsSerializer
from .serializers import UserSerializer
from .throttling import login_limiter

ACCESS_LIFETIME = timedelta(minutes=5)
REQUIRED_CLAIMS = ["exp", "iat", "jti", "aud", "iss", "user_id", "token_type"]


def access_claims(user, audience: str, issuer: str) -> dict:
    now = datetime.now(timezone.utc)
    return {
        "token_type": "access",
        "user_id": str(user.pk),
        "username": user.get_username(),
        "iat": now,
        "exp": now + ACCESS_LIFETIME,
        "jti": uuid.uuid4().hex,
        "aud": audience,
        "iss": issuer,
    }


def decode_claims(raw: str, audience: str, issuer: str, **decode_kwargs) -> dict:
    """PyJWT decode with the claim checks every family applies (exp, iat, aud, iss)."""
    return jwt.decode(
        raw,
        audience=audience,
        issuer=issuer,
        options={"require": REQUIRED_CLAIMS, **decode_kwargs.pop("options", {})},
        **decode_kwargs,
    )


class FamilyBearerAuthentication(BaseAuthentication):
    """``Authorization: Bearer <jwt>`` validated by ``verify`` (a claims dict or an error)."""

    verify = None  # staticmethod(raw: str) -> dict, raises jwt.InvalidTokenError

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != b"bearer":
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Authorization header must contain two space-delimited values")
        User = get_user_model()
        try:
            claims = type(self).verify(parts[1].decode("latin-1"))
            if claims.get("token_type") != "access":
                raise jwt.InvalidTokenError("wrong token type")
            user = User.objects.get(pk=claims["user_id"], is_active=True)
        except (jwt.InvalidTokenError, User.DoesNotExist, KeyError, ValueError, TypeError) as exc:
            raise exceptions.AuthenticationFailed("Token is invalid or expired", "token_not_valid") from exc
        return user, claims

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class FamilyTokenView(APIView):
    """POST {"username", "password"} -> {"access", "token_type", "expires_in"} (GET: 405)."""

    authentication_classes = ()
    permission_classes = [AllowAny]
    limiter_endpoint = ""
    issue = None  # staticmethod(user) -> str

    def get_authenticate_header(self, request):
        return 'Bearer realm="api"'

    def post(self, request):
        serializer = CredentialsSerializer(data=request.data)
        user = None
        if serializer.is_valid():
            user = authenticate(request._request, **serializer.validated_data)
        if user is None or not user.is_active:
            limiter = login_limiter(self.limiter_endpoint)
            if limiter is not None:
                limiter.failed(request, str(request.data.get("username", "")) if hasattr(request.data, "get") else "")
            raise exceptions.AuthenticationFailed("No active account found with the given credentials")
        return Response(
            {
                "access": type(self).issue(user),
                "token_type": "Bearer",
                "expires_in": int(ACCESS_LIFETIME.total_seconds()),
            }
        )


class FamilyMeView(APIView):
    """GET -> {"id", "username", "email"} of the caller."""

    authentication_classes = ()  # set by the family

    def get(self, request):
        return Response(UserSerializer(request.user).data)
