"""RS256 tokens for the partner API: /api/rs/token/, /api/rs/me/, /.well-known/jwks.json.

A per-start RSA key signs the tokens; the public half is published as a JWKS so that
partners can verify them. Hardened verification accepts RS256 only, with that public key.
The ``key_confusion`` flaw swaps in a hand-rolled verifier that trusts the header's alg;
the ``embedded_jwk`` flaw makes the verifier trust a public key sent in the token header;
the ``jku_trusted`` flaw makes it fetch the verification key from the header's ``jku`` URL.
The JWKS also publishes the ES256 family's key (api.es256).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from functools import lru_cache

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import authenticate, get_user_model
from rest_framework import exceptions, serializers
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from project.flaws import flaw_on

from .serializers import UserSerializer
from .throttling import login_limiter

RS_AUDIENCE = "authprobe-testbed-partner-api"
RS_ISSUER = "https://testbed.local/partner"
RS_LIFETIME = timedelta(minutes=5)
REQUIRED_CLAIMS = ["exp", "iat", "jti", "aud", "iss", "user_id", "token_type"]

_key_lock = threading.Lock()


class RsKeys:
    """The per-start signing key, its public PEM and its JWK."""

    def __init__(self) -> None:
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_key = self.private_key.public_key()
        # SubjectPublicKeyInfo PEM exactly as `cryptography` writes it (64-column lines,
        # trailing newline): the bytes the key_confusion flaw uses as an HMAC secret.
        self.public_pem = self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        numbers = self.public_key.public_numbers()
        self.kid = hashlib.sha256(self.public_pem).hexdigest()[:16]
        self.jwk = {
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": _b64uint(numbers.n),
            "e": _b64uint(numbers.e),
        }


def _b64uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@lru_cache(maxsize=1)
def rs_keys() -> RsKeys:
    with _key_lock:
        return RsKeys()


def issue_rs_token(user) -> str:
    keys = rs_keys()
    now = datetime.now(timezone.utc)
    claims = {
        "token_type": "access",
        "user_id": str(user.pk),
        "iat": now,
        "exp": now + RS_LIFETIME,
        "jti": uuid.uuid4().hex,
        "aud": RS_AUDIENCE,
        "iss": RS_ISSUER,
    }
    return jwt.encode(claims, keys.private_key, algorithm="RS256", headers={"kid": keys.kid})


# Timeout of a partner JWKS fetch (jku_trusted).
PARTNER_JWKS_TIMEOUT = 3


def fetch_partner_key(jku: str, kid) -> object:
    """The RSA public key with this kid from the JWKS at ``jku`` (used by jku_trusted)."""
    try:
        with urllib.request.urlopen(jku, timeout=PARTNER_JWKS_TIMEOUT) as resp:
            jwks = json.loads(resp.read(65536))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise jwt.InvalidTokenError("partner JWKS not reachable") from exc
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    for candidate in keys if isinstance(keys, list) else []:
        if isinstance(candidate, dict) and candidate.get("kid") == kid:
            try:
                key = jwt.PyJWK(candidate, algorithm="RS256").key
            except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError, KeyError) as exc:
                raise jwt.InvalidTokenError("invalid partner jwk") from exc
            return key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    raise jwt.InvalidTokenError("no partner key with this kid")


_HMAC_HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def verify_rs_token(raw: str) -> dict:
    """Validate a partner token; raise jwt.InvalidTokenError when it is not acceptable."""
    keys = rs_keys()
    claim_checks = dict(audience=RS_AUDIENCE, issuer=RS_ISSUER)
    if flaw_on("key_confusion"):
        # INTENTIONALLY VULNERABLE (key_confusion): a hand-rolled verifier (written when
        # PyJWT refused the PEM as an HMAC key) dispatches on the token's own "alg" header
        # and uses the one configured "verification key" - the *public* PEM - for both
        # families. Anyone can fetch the JWKS, rebuild the PEM and sign HS256 tokens.
        header = jwt.get_unverified_header(raw)
        digest = _HMAC_HASHES.get(str(header.get("alg")))
        if digest is not None:
            signing_input, _, signature = raw.rpartition(".")
            expected = base64.urlsafe_b64encode(
                hmac.new(keys.public_pem, signing_input.encode(), digest).digest()
            ).rstrip(b"=")
            if not hmac.compare_digest(expected, signature.encode()):
                raise jwt.InvalidSignatureError("Signature verification failed")
            return jwt.decode(
                raw,
                options={
                    "verify_signature": False,
                    "verify_exp": True,
                    "verify_iat": True,
                    "verify_aud": True,
                    "verify_iss": True,
                    "require": REQUIRED_CLAIMS,
                },
                **claim_checks,
            )
    verification_key = keys.public_key
    if flaw_on("embedded_jwk"):
        # INTENTIONALLY VULNERABLE (embedded_jwk): "partners rotate their own keys" - a
        # token may carry its public key in the header's "jwk" (RFC 7515 4.1.3), and that
        # key is used to verify the very signature it came with. Anyone can generate an RSA
        # key pair, embed the public half and sign any claims with the private half.
        header = jwt.get_unverified_header(raw)
        embedded = header.get("jwk")
        if isinstance(embedded, dict):
            try:
                verification_key = jwt.PyJWK(embedded, algorithm="RS256").key
                if isinstance(verification_key, rsa.RSAPrivateKey):
                    verification_key = verification_key.public_key()
            except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError, KeyError) as exc:
                raise jwt.InvalidTokenError("invalid embedded jwk") from exc
    if flaw_on("jku_trusted") and verification_key is keys.public_key:
        # INTENTIONALLY VULNERABLE (jku_trusted): "to support partners rotating keys", a
        # token may name the JWKS its key is published at (RFC 7515 4.1.2 "jku"); the URL
        # is fetched and the key whose kid matches verifies the signature. Nothing checks
        # that the URL belongs to a partner: anyone can host a JWKS for their own key pair.
        header = jwt.get_unverified_header(raw)
        jku = header.get("jku")
        if isinstance(jku, str) and jku:
            verification_key = fetch_partner_key(jku, header.get("kid"))
    return jwt.decode(
        raw, verification_key, algorithms=["RS256"], options={"require": REQUIRED_CLAIMS}, **claim_checks
    )


class PartnerTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer <RS256 jwt>`` for the partner API."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != b"bearer":
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Authorization header must contain two space-delimited values")
        try:
            claims = verify_rs_token(parts[1].decode("latin-1"))
            if claims.get("token_type") != "access":
                raise jwt.InvalidTokenError("wrong token type")
            user = get_user_model().objects.get(pk=claims["user_id"], is_active=True)
        except (jwt.InvalidTokenError, get_user_model().DoesNotExist, ValueError, TypeError) as exc:
            raise exceptions.AuthenticationFailed("Token is invalid or expired", "token_not_valid") from exc
        return user, claims

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class CredentialsSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"})


class PartnerTokenView(APIView):
    """POST /api/rs/token/ {"username", "password"} -> {"access": RS256 jwt}."""

    authentication_classes = ()
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request):
        return 'Bearer realm="api"'

    def post(self, request):
        serializer = CredentialsSerializer(data=request.data)
        user = None
        if serializer.is_valid():
            user = authenticate(request._request, **serializer.validated_data)
        if user is None or not user.is_active:
            limiter = login_limiter("partner-token")
            if limiter is not None:
                limiter.failed(request, str(request.data.get("username", "")) if hasattr(request.data, "get") else "")
            raise exceptions.AuthenticationFailed("No active account found with the given credentials")
        return Response(
            {"access": issue_rs_token(user), "token_type": "Bearer", "expires_in": int(RS_LIFETIME.total_seconds())}
        )


class PartnerMeView(APIView):
    """GET /api/rs/me/ -> the caller, authenticated by an RS256 partner token."""

    authentication_classes = [PartnerTokenAuthentication]

    def get(self, request):
        return Response(UserSerializer(request.user).data)


class JwksView(APIView):
    """GET /.well-known/jwks.json -> the public keys: partner API (RSA), ES256 family (EC)."""

    authentication_classes = ()
    permission_classes = [AllowAny]

    def get(self, request):
        from .es256 import es_keys

        return Response({"keys": [rs_keys().jwk, es_keys().jwk]})
