"""ES256 token family: /api/es/token/ and /api/es/me/ (P-256, kid "es-1").

A per-start P-256 key signs the tokens; its public half is published next to the partner
API's RSA key in /.well-known/jwks.json. Hardened verification is PyJWT's ES256, i.e.
``cryptography`` verifying the DER-converted (r, s) signature, which rejects r or s outside
[1, n-1]. The ``psychic_signature`` flaw swaps in a vendored pure-Python ECDSA verifier.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from functools import lru_cache

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.utils import base64url_decode

from project.flaws import flaw_on

from .bearer import FamilyBearerAuthentication, FamilyMeView, FamilyTokenView, access_claims, decode_claims

ES_AUDIENCE = "authprobe-testbed-es-api"
ES_ISSUER = "https://testbed.local/es"
ES_KID = "es-1"

_lock = threading.Lock()


class EsKeys:
    """The per-start P-256 signing key and its public JWK."""

    def __init__(self) -> None:
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.public_key = self.private_key.public_key()
        numbers = self.public_key.public_numbers()
        self.point = (numbers.x, numbers.y)
        self.kid = ES_KID
        self.jwk = {
            "kty": "EC",
            "use": "sig",
            "alg": "ES256",
            "kid": self.kid,
            "crv": "P-256",
            "x": _b64coord(numbers.x),
            "y": _b64coord(numbers.y),
        }


def _b64coord(value: int) -> str:
    # JWK EC coordinates are fixed-length (32 bytes for P-256), unlike RSA's n/e.
    return base64.urlsafe_b64encode(value.to_bytes(32, "big")).rstrip(b"=").decode()


@lru_cache(maxsize=1)
def es_keys() -> EsKeys:
    with _lock:
        return EsKeys()


def issue_es_token(user) -> str:
    keys = es_keys()
    return jwt.encode(
        access_claims(user, ES_AUDIENCE, ES_ISSUER), keys.private_key, algorithm="ES256", headers={"kid": keys.kid}
    )


# --- vendored ECDSA ------------------------------------------------------------------------
# INTENTIONALLY VULNERABLE (psychic_signature): "tiny_ecdsa.py", vendored into the repo
# when the Lambda image could not install the cryptography wheel. It is textbook ECDSA
# verification except that (a) s^-1 is computed with Fermat's little theorem,
# pow(s, n - 2, n), which quietly returns 0 for s = 0 instead of failing, and (b) r and s
# are never checked to be in [1, n-1]. With r = s = 0: w = 0, u1 = u2 = 0, the sum is the
# point at infinity, represented as (0, 0), whose x (0) equals r - every payload verifies
# with the all-zero signature (the CVE-2022-21449 "psychic signature").

_P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
_A = _P - 3
_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_G = (
    0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
    0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5,
)
_INFINITY = (0, 0)  # (0, 0) is not on the curve, so it stands for the point at infinity


def _point_add(p1, p2):
    if p1 == _INFINITY:
        return p2
    if p2 == _INFINITY:
        return p1
    (x1, y1), (x2, y2) = p1, p2
    if x1 == x2 and (y1 + y2) % _P == 0:
        return _INFINITY
    if p1 == p2:
        slope = (3 * x1 * x1 + _A) * pow(2 * y1, _P - 2, _P) % _P
    else:
        slope = (y2 - y1) * pow(x2 - x1, _P - 2, _P) % _P
    x3 = (slope * slope - x1 - x2) % _P
    return x3, (slope * (x1 - x3) - y1) % _P


def _scalar_mult(k, point):
    result, addend = _INFINITY, point
    while k:
        if k & 1:
            result = _point_add(result, addend)
        addend = _point_add(addend, addend)
        k >>= 1
    return result


def tiny_ecdsa_verify(public_point, message: bytes, signature: bytes) -> bool:
    """ECDSA P-256 / SHA-256 verification of a raw JOSE (r || s) signature."""
    if len(signature) != 64:
        return False
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    z = int.from_bytes(hashlib.sha256(message).digest(), "big")
    w = pow(s, _N - 2, _N)
    u1, u2 = z * w % _N, r * w % _N
    x, _ = _point_add(_scalar_mult(u1, _G), _scalar_mult(u2, public_point))
    return x % _N == r


# --- verification --------------------------------------------------------------------------


def verify_es_token(raw: str) -> dict:
    """Validate an ES256 token; raise jwt.InvalidTokenError when it is not acceptable."""
    keys = es_keys()
    header = jwt.get_unverified_header(raw)
    if header.get("kid", keys.kid) != keys.kid:
        raise jwt.InvalidTokenError("unknown kid")
    if flaw_on("psychic_signature"):
        # INTENTIONALLY VULNERABLE (psychic_signature): the signature is checked by the
        # vendored tiny_ecdsa_verify above; PyJWT only parses and checks the claims.
        if header.get("alg") != "ES256":
            raise jwt.InvalidAlgorithmError("The specified alg value is not allowed")
        signing_input, _, signature = raw.rpartition(".")
        try:
            sig = base64url_decode(signature)
        except (ValueError, TypeError) as exc:
            raise jwt.DecodeError("Invalid crypto padding") from exc
        if not tiny_ecdsa_verify(keys.point, signing_input.encode(), sig):
            raise jwt.InvalidSignatureError("Signature verification failed")
        options = {"verify_signature": False, "verify_exp": True, "verify_iat": True}
        options.update(verify_aud=True, verify_iss=True)
        return decode_claims(raw, ES_AUDIENCE, ES_ISSUER, options=options)
    return decode_claims(raw, ES_AUDIENCE, ES_ISSUER, key=keys.public_key, algorithms=["ES256"])


class EsTokenAuthentication(FamilyBearerAuthentication):
    verify = staticmethod(verify_es_token)


class EsTokenView(FamilyTokenView):
    """POST /api/es/token/ {"username", "password"} -> {"access": ES256 jwt, kid "es-1"}."""

    limiter_endpoint = "es-token"
    issue = staticmethod(issue_es_token)


class EsMeView(FamilyMeView):
    """GET /api/es/me/ -> the caller, authenticated by an ES256 token."""

    authentication_classes = [EsTokenAuthentication]
