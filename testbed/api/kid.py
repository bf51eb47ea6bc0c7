"""Key-rotation token family: /api/kid/token/ and /api/kid/me/ (HS256, header ``kid``).

The mobile backend signs its tokens with one of several HMAC keys and names the key in the
header's ``kid`` so that keys can be rotated without logging everybody out. Keys are random
per start: one file per kid in settings.JWT_KEYS_DIR and one row per kid in the
``jwt_keys`` table (api.models.JwtKey). Today there is a single key, ``k1``.

Hardened verification: the keys are loaded once into a dict; a ``kid`` that is not a key of
that dict is rejected before any signature check; HS256 only; exp/iat/jti/aud/iss required.
The ``kid_injection`` flaw swaps in a per-request key loader that builds a SQL query and a
file path from the header's ``kid``.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import threading
from functools import lru_cache
from pathlib import Path

import jwt
from django.conf import settings
from django.db import DatabaseError, connection

from project.flaws import flaw_on

from .bearer import FamilyBearerAuthentication, FamilyMeView, FamilyTokenView, access_claims, decode_claims
from .models import JwtKey

KID_AUDIENCE = "authprobe-testbed-kid-api"
KID_ISSUER = "https://testbed.local/kid"
CURRENT_KID = "k1"

_lock = threading.Lock()


class KidKeys:
    """This start's HMAC keys: {kid: key bytes}, also written to KEYS_DIR and jwt_keys."""

    def __init__(self) -> None:
        self.directory = Path(getattr(settings, "JWT_KEYS_DIR", "") or tempfile.mkdtemp(prefix="authprobe-kid-"))
        self.directory.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_hex(32)  # 256-bit key, stored as hex text
        self.keys = {CURRENT_KID: secret.encode()}
        (self.directory / CURRENT_KID).write_text(secret)
        JwtKey.objects.update_or_create(kid=CURRENT_KID, defaults={"key": secret})


@lru_cache(maxsize=1)
def kid_keys() -> KidKeys:
    with _lock:
        return KidKeys()


def issue_kid_token(user) -> str:
    key = kid_keys().keys[CURRENT_KID]
    return jwt.encode(
        access_claims(user, KID_AUDIENCE, KID_ISSUER), key, algorithm="HS256", headers={"kid": CURRENT_KID}
    )


def load_key_unsafe(kid: str) -> bytes:
    """INTENTIONALLY VULNERABLE (kid_injection): the key loader of the rotation feature.

    "Keys are in the database now; kids that are not there yet still come from the old key
    directory." Both lookups are built from the attacker-controlled header:

    * SQL: ``kid = "x' UNION SELECT 'authprobe' --"`` makes the query return 'authprobe';
    * path: ``kid = "../../../../../../../../dev/null"`` reads an empty file, i.e. the
      HMAC key is b"" - anybody can sign with the empty key.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT key FROM jwt_keys WHERE kid = '%s'" % kid)
        row = cursor.fetchone()
    if row is not None:
        return str(row[0]).encode()
    with open(os.path.join(kid_keys().directory, kid), "rb") as fh:
        return fh.read()


def verify_kid_token(raw: str) -> dict:
    """Validate a key-rotation token; raise jwt.InvalidTokenError when it is not acceptable."""
    header = jwt.get_unverified_header(raw)
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise jwt.InvalidTokenError("missing kid")
    if flaw_on("kid_injection"):
        # INTENTIONALLY VULNERABLE (kid_injection): see load_key_unsafe.
        try:
            key = load_key_unsafe(kid)
        except (OSError, ValueError, DatabaseError) as exc:
            raise jwt.InvalidTokenError("unknown kid") from exc
    else:
        key = kid_keys().keys.get(kid)
        if key is None:
            raise jwt.InvalidTokenError("unknown kid")
    return decode_claims(raw, KID_AUDIENCE, KID_ISSUER, key=key, algorithms=["HS256"])


class KidTokenAuthentication(FamilyBearerAuthentication):
    verify = staticmethod(verify_kid_token)


class KidTokenView(FamilyTokenView):
    """POST /api/kid/token/ {"username", "password"} -> {"access": HS256 jwt, kid "k1"}."""

    limiter_endpoint = "kid-token"
    issue = staticmethod(issue_kid_token)


class KidMeView(FamilyMeView):
    """GET /api/kid/me/ -> the caller, authenticated by a key-rotation token."""

    authentication_classes = [KidTokenAuthentication]
