"""simplejwt token classes and the access-token validation used by every JWT entry point.

Hardened behaviour: HS256 only, signature verified with the per-start key, ``exp``/``iat``/
``jti``/``aud``/``iss`` required and checked, ``token_type`` must be ``access``, the ``jti``
must not be revoked (logout) and ``gen`` must match the user's token generation (password
change). The flaw switches below loosen exactly one of these steps each.
"""

from __future__ import annotations

from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any

import jwt
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from project.flaws import flaw_on

from .models import Profile, RevokedAccessToken

GENERATION_CLAIM = "gen"


class TokenRejected(Exception):
    """An access token failed validation; ``args[0]`` is the user-facing reason."""


def token_generation(user) -> int:
    profile, _ = Profile.objects.get_or_create(user=user)
    return profile.token_generation


class ApiAccessToken(AccessToken):
    """Access token of the API."""

    def set_exp(self, claim: str = "exp", from_time=None, lifetime=None) -> None:
        if claim == "exp" and flaw_on("no_exp"):
            # INTENTIONALLY VULNERABLE (no_exp): "expired-token bugs keep hitting the mobile
            # app" - access tokens are minted without an exp claim at all.
            self.payload.pop("exp", None)
            return
        super().set_exp(claim, from_time, lifetime)


class ApiRefreshToken(RefreshToken):
    """Refresh token of the API; its access tokens are ApiAccessToken."""

    access_token_class = ApiAccessToken

    @classmethod
    def for_user(cls, user):
        token = super().for_user(user)
        token[GENERATION_CLAIM] = token_generation(user)
        return token


class EphemeralAccessToken(AccessToken):
    """Two-second access token for one-shot actions (download links)."""

    @classmethod
    def for_user(cls, user):
        from django.conf import settings

        token = super().for_user(user)
        token.set_exp(lifetime=settings.EPHEMERAL_TOKEN_LIFETIME)
        token[GENERATION_CLAIM] = token_generation(user)
        return token


def decode_access_token(raw: str | bytes) -> dict[str, Any]:
    """Validate an encoded access token and return its claims, or raise TokenRejected."""
    if isinstance(raw, bytes):
        raw = raw.decode("latin-1")
    backend = token_backend
    audience, issuer = backend.audience, backend.issuer

    try:
        header = jwt.get_unverified_header(raw)
    except jwt.InvalidTokenError as exc:
        raise TokenRejected("Token is invalid") from exc
    alg = str(header.get("alg", ""))

    verify_signature = True
    if flaw_on("no_sig_verify"):
        # INTENTIONALLY VULNERABLE (no_sig_verify): "the API gateway already verified the
        # signature" - claims are read without checking it (any alg, any signature, none).
        verify_signature = False
    elif flaw_on("alg_none") and alg.lower() == "none":
        # INTENTIONALLY VULNERABLE (alg_none): unsigned tokens from the internal cron
        # service are trusted; anybody can mint one.
        verify_signature = False

    required = ["iat", "jti", api_settings.TOKEN_TYPE_CLAIM, api_settings.USER_ID_CLAIM, GENERATION_CLAIM]
    if not flaw_on("no_exp"):
        required.append("exp")
    # else: INTENTIONALLY VULNERABLE (no_exp) - a token without exp is fine, see ApiAccessToken.
    if audience is not None:
        required.append("aud")
    if issuer is not None:
        required.append("iss")

    options = {
        "verify_signature": verify_signature,
        # INTENTIONALLY VULNERABLE (expired_accepted): exp verification switched off after
        # "clock skew on phones" support tickets.
        # INTENTIONALLY VULNERABLE (expired_weak_key): the same, with a guessable key.
        "verify_exp": not (flaw_on("expired_accepted") or flaw_on("expired_weak_key")),
        "verify_nbf": True,
        "verify_iat": True,
        "verify_aud": audience is not None,
        "verify_iss": issuer is not None,
        "require": required,
    }
    try:
        payload = jwt.decode(
            raw,
            backend.prepared_signing_key,
            algorithms=[backend.algorithm],
            audience=audience,
            issuer=issuer,
            leeway=backend.get_leeway(),
            options=options,
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenRejected("Token is expired") from exc
    except jwt.InvalidTokenError as exc:
        raise TokenRejected("Token is invalid") from exc

    token_type = payload.get(api_settings.TOKEN_TYPE_CLAIM)
    if token_type != "access":
        if not (flaw_on("token_type_confusion") and token_type == "refresh"):
            raise TokenRejected("Token has wrong type")
        # INTENTIONALLY VULNERABLE (token_type_confusion): refresh tokens are accepted as
        # access tokens "so the old client that sends the refresh token keeps working".

    if RevokedAccessToken.objects.filter(jti=str(payload.get("jti"))).exists():
        raise TokenRejected("Token is revoked")
    return payload


def user_for_payload(payload: dict[str, Any]):
    """The active user named by validated claims, or raise TokenRejected."""
    User = get_user_model()
    try:
        user = User.objects.get(**{api_settings.USER_ID_FIELD: payload[api_settings.USER_ID_CLAIM]})
    except (User.DoesNotExist, ValueError, TypeError) as exc:
        raise TokenRejected("User not found") from exc
    if not user.is_active:
        raise TokenRejected("User is inactive")
    if payload.get(GENERATION_CLAIM) != token_generation(user):
        raise TokenRejected("Token was revoked by a password change")
    return user


def revoke_access_payload(payload: dict[str, Any]) -> None:
    """Put an access token's jti on the deny list until it expires."""
    exp = payload.get("exp")
    expires_at = datetime.fromtimestamp(exp, tz=dt_timezone.utc) if isinstance(exp, (int, float)) else None
    RevokedAccessToken.objects.get_or_create(jti=str(payload.get("jti")), defaults={"expires_at": expires_at})
