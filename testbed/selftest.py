"""Self-test of the testbed: a miniature black-box scanner that checks flaws.toml.

Starts `serve.py` once per mode and probes it the way authprobe is meant to, with one probe
per check code. For every mode it asserts that the observed codes equal the expected ones:

  none           -> no code at all (hardened)
  <flaw> alone   -> exactly flaws.toml's `codes` for that flaw
  all            -> the union of every flaw's codes

Usage (from anywhere):
  testbed/.venv/bin/python testbed/selftest.py                 # hardened, every flaw, all
  testbed/.venv/bin/python testbed/selftest.py none bola all   # selected modes
  testbed/.venv/bin/python testbed/selftest.py -j 8            # parallel servers

TLS-only codes (TLS001-TLS003) are probed only in modes served with --tls: flaws whose
table says tls = true, and the extra modes "none+tls" and "all+tls" run by default.

Every mode is served with `--mail-to` pointing at a tiny SMTP receiver run by this script
(one per mode), so the password-reset e-mail (flaws with mailbox = true) can be read.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import email
import email.policy
import hashlib
import hmac
import http.client
import http.server
import json
import math
import re
import socketserver
import ssl
import subprocess
import sys
import threading
import time
import tomllib
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

HERE = Path(__file__).resolve().parent
FLAWS = tomllib.loads((HERE / "flaws.toml").read_text())["flaws"]
DJANGO_INSECURE_KEY = "django-insecure-7v#q2m!x9@h1w$k3p^r8t&z0u*b4n(e6)s-y+c=j%f5g_a~l"
WORDLIST = ["", "secret", "secret123", "changeme", "password", DJANGO_INSECURE_KEY]
ALICE = ("alice", "alice-pass-1")
BOB = ("bob", "bob-pass-2")
# A 429 whose Retry-After is at most this many seconds is pacing (throttled_login): wait, resend.
PACE_MAX_WAIT = 2
# A reset link that stays valid longer than this is a finding (PASS002).
RESET_LINK_MAX_SECONDS = 24 * 3600


# --- HTTP ----------------------------------------------------------------------------------


@dataclass
class Resp:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def cookies(self) -> dict[str, dict[str, str]]:
        """name -> {"value": ..., attribute (lower case): value or ""}."""
        out = {}
        for key, value in self.headers:
            if key.lower() != "set-cookie":
                continue
            parts = [p.strip() for p in value.split(";")]
            name, _, val = parts[0].partition("=")
            attrs = {"value": val.strip('"')}
            for part in parts[1:]:
                k, _, v = part.partition("=")
                attrs[k.lower()] = v
            out[name] = attrs
        return out

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Client:
    def __init__(self, url: str):
        parts = urlsplit(url)
        self.scheme, self.host, self.port = parts.scheme, parts.hostname, parts.port
        self.base = url.rstrip("/")

    def request(self, method, path, **kw):
        """Send a request; a POST answered 429 with a short Retry-After (at most
        PACE_MAX_WAIT seconds: the login pacing of throttled_login, not a failure limit,
        whose Retry-After is close to a minute) is resent after waiting that long."""
        for _ in range(10):
            resp = self.send(method, path, **kw)
            wait = resp.header("Retry-After") or ""
            if method != "POST" or resp.status != 429 or not wait.isdigit() or int(wait) > PACE_MAX_WAIT:
                return resp
            time.sleep(int(wait) + 0.05)
        return resp

    def send(self, method, path, *, headers=None, json_body=None, form=None, bearer=None, cookies=None):
        headers = dict(headers or {})
        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if bearer:
            headers["Authorization"] = "Bearer " + bearer
        if cookies:
            headers["Cookie"] = "; ".join("%s=%s" % kv for kv in cookies.items())
        if self.scheme == "https":
            conn = http.client.HTTPSConnection(
                self.host, self.port, timeout=30, context=ssl._create_unverified_context()
            )
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            raw = conn.getresponse()
            return Resp(raw.status, raw.getheaders(), raw.read())
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)


# --- JWT helpers ---------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_parts(token: str) -> tuple[dict, dict]:
    header, payload, _ = token.split(".")
    return json.loads(unb64url(header)), json.loads(unb64url(payload))


def jwt_sign(header: dict, payload: dict, key: bytes | None, alg="HS256") -> str:
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(payload).encode())
    if key is None:
        return signing_input + "."
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    return signing_input + "." + b64url(hmac.new(key, signing_input.encode(), digest).digest())


def jwt_verifies(token: str, key: bytes) -> bool:
    signing_input, _, signature = token.rpartition(".")
    expected = b64url(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())
    return hmac.compare_digest(expected, signature)


def django_cookie_signature_ok(value: str, salt: str, secret: str) -> bool:
    """Verify a django.core.signing cookie value (get_cookie_signer, sha256)."""
    body, _, signature = value.rpartition(":")
    key = hashlib.sha256((salt + "signer").encode() + b"django.http.cookies" + secret.encode()).digest()
    expected = b64url(hmac.new(key, body.encode(), hashlib.sha256).digest())
    return hmac.compare_digest(expected, signature)


# --- SMTP receiver (Python 3.11+ has no smtpd) ------------------------------------------------


class Mailbox:
    """A minimal SMTP receiver on a free 127.0.0.1 port: it answers every command with 250
    (354 to DATA) and keeps every message's DATA, parsed, in ``messages``."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.arrived = threading.Condition()
        mailbox = self

        class Handler(socketserver.StreamRequestHandler):
            timeout = 30

            def handle(self):
                self.wfile.write(b"220 selftest ESMTP\r\n")
                while True:
                    line = self.rfile.readline(4096)
                    if not line:
                        return
                    command = line[:4].upper()
                    if command == b"DATA":
                        self.wfile.write(b"354 end with <CRLF>.<CRLF>\r\n")
                        lines = []
                        while True:
                            data = self.rfile.readline(65536)
                            if data in (b".\r\n", b".\n", b""):
                                break
                            lines.append(data[1:] if data.startswith(b"..") else data)
                        mailbox.deliver(b"".join(lines))
                        self.wfile.write(b"250 queued\r\n")
                    elif command == b"QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:  # EHLO, HELO, MAIL, RCPT, RSET, NOOP
                        self.wfile.write(b"250 ok\r\n")

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def deliver(self, raw: bytes) -> None:
        message = email.message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=email.policy.default)
        with self.arrived:
            self.messages.append(message)
            self.arrived.notify_all()

    def mark(self) -> int:
        with self.arrived:
            return len(self.messages)

    def since(self, mark: int, wait: float = 0.0) -> list:
        """The messages received after `mark`, waiting up to `wait` seconds for the first."""
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.messages) > mark, timeout=wait)
            return self.messages[mark:]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def mail_text(message) -> str:
    part = message.get_body(preferencelist=("plain",)) or message
    return part.get_content()


# --- Scan context --------------------------------------------------------------------------


@dataclass
class Scan:
    client: Client
    http_client: Client | None  # the plain-HTTP listener (PORT+1) when served with --tls
    tls: bool
    mailbox: Mailbox | None = None  # receives the testbed's mail (serve --mail-to)
    found: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)

    def hit(self, code: str, why: str) -> None:
        self.found.add(code)
        self.notes.append("%s: %s" % (code, why))

    # identities
    def jwt_login(self, user=ALICE) -> dict:
        r = self.client.post("/api/token/", json_body={"username": user[0], "password": user[1]})
        assert r.status == 200, ("jwt login failed", user[0], r.status, r.text)
        return r.json()

    def first_note_path(self) -> str:
        """The path of alice's first note (by public id, or integer id with enumerable_ids)."""
        notes = self.client.get("/api/notes/", bearer=self.jwt_login()["access"]).json()
        return "/api/notes/%s/" % notes[0]["id"]

    def form_login_page(self, path="/accounts/login/") -> tuple[Resp, dict[str, str]]:
        r = self.client.get(path)
        cookies = {k: v["value"] for k, v in r.cookies().items()}
        return r, cookies

    def form_login(self, user=ALICE, next_url=None, csrf=True) -> tuple[Resp, dict[str, str], dict[str, str]]:
        """(response, pre-login cookies, post-login cookies)"""
        page, cookies = self.form_login_page()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        form = {"username": user[0], "password": user[1]}
        if csrf and token:
            form["csrfmiddlewaretoken"] = token.group(1)
        if next_url:
            form["next"] = next_url
        send = dict(cookies) if csrf else {k: v for k, v in cookies.items() if k != "csrftoken"}
        r = self.client.post(
            "/accounts/login/", form=form, cookies=send, headers={"Referer": self.client.base + "/accounts/login/"}
        )
        after = dict(cookies)
        after.update({k: v["value"] for k, v in r.cookies().items()})
        return r, cookies, after

    def accepted(self, token: str, path="/api/notes/") -> bool:
        return self.client.get(path, bearer=token).status == 200


# --- Probes (one per check code family) ----------------------------------------------------


def probe_django(s: Scan) -> None:
    r = s.client.get("/authprobe-missing-%s/" % uuid.uuid4().hex[:8])
    if "Using the URLconf defined in" in r.text or "DEBUG = True" in r.text:
        s.hit("DJ001", "technical 404 page")
    r = s.client.get("/admin/")
    if r.status == 200 and "Django" in r.text or (r.status == 302 and "/admin/login/" in (r.header("Location") or "")):
        s.hit("DJ002", "/admin/ reachable")
    for path in ("/api/posts/?page=abc", "/api/posts/?page=-1", "/api/notes/abc/"):
        if "Traceback (most recent call last)" in s.client.get(path).text:
            s.hit("DJ003", "traceback at %s" % path)
            break


def probe_jwt(s: Scan) -> None:
    pair = s.jwt_login()
    access, refresh = pair["access"], pair["refresh"]
    header, claims = jwt_parts(access)
    _, rclaims = jwt_parts(refresh)

    for key in WORDLIST:
        if jwt_verifies(access, key.encode()):
            s.hit("JWT003", "HS256 secret is %r" % key)
            if key.startswith("django-insecure-"):
                s.hit("DJ004", "SECRET_KEY recovered from a simplejwt token")
    # Django-signed messages cookie from the form login.
    r, _, _ = s.form_login()
    messages = r.cookies().get("messages", {}).get("value")
    if messages and django_cookie_signature_ok(messages, "django.contrib.messages", DJANGO_INSECURE_KEY):
        s.hit("DJ004", "SECRET_KEY recovered from the messages cookie")

    garbage_ok = s.accepted("not-a-jwt")
    if not garbage_ok:
        for alg in ("none", "NONE", "nOnE"):
            if s.accepted(jwt_sign({"alg": alg, "typ": "JWT"}, claims, None)):
                s.hit("JWT001", "alg=%s accepted" % alg)
                break
        signing_input = access.rpartition(".")[0]
        if s.accepted(signing_input + ".") or s.accepted(jwt_sign(header, claims, b"authprobe-wrong-key")):
            s.hit("JWT002", "stripped/tampered signature accepted")

    # Expiry: a 2-second token from /api/token/ephemeral/, used after it expired.
    r = s.client.post("/api/token/ephemeral/", bearer=access)
    if r.status == 200:
        ephemeral = r.json()["access"]
        _, eclaims = jwt_parts(ephemeral)
        time.sleep(max(0.0, eclaims["exp"] - time.time()) + 1.1)
        if s.accepted(ephemeral):
            s.hit("JWT004", "expired ephemeral token accepted")

    if "exp" not in claims or claims["exp"] - claims["iat"] > 3600 or rclaims["exp"] - rclaims["iat"] > 7 * 86400:
        s.hit(
            "JWT005",
            "lifetime: access %s, refresh %s"
            % (claims.get("exp", 0) - claims["iat"] if "exp" in claims else None, rclaims["exp"] - rclaims["iat"]),
        )
    if "aud" not in claims or "iss" not in claims:
        s.hit("JWT006", "no aud/iss")
    sensitive = {"email", "phone", "pwd_hash", "password", "is_superuser", "is_staff"} & set(claims)
    if sensitive:
        s.hit("JWT007", "claims %s" % sorted(sensitive))

    # Key confusion against the partner API.
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    jwk = s.client.get("/.well-known/jwks.json").json()["keys"][0]
    public = rsa.RSAPublicNumbers(
        int.from_bytes(unb64url(jwk["e"]), "big"), int.from_bytes(unb64url(jwk["n"]), "big")
    ).public_key()
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    rs = s.client.post("/api/rs/token/", json_body={"username": "alice", "password": "alice-pass-1"}).json()["access"]
    _, rs_claims = jwt_parts(rs)
    forged = jwt_sign({"alg": "HS256", "typ": "JWT"}, rs_claims, pem)
    wrong = jwt_sign({"alg": "HS256", "typ": "JWT"}, rs_claims, b"authprobe-wrong-key")
    if s.accepted(forged, "/api/rs/me/") and not s.accepted(wrong, "/api/rs/me/"):
        s.hit("JWT008", "HS256 keyed with the JWKS public PEM accepted")


def b64url_json(obj: dict) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


@contextlib.contextmanager
def serve_json(document: dict):
    """Serve `document` for any GET on a throwaway 127.0.0.1 port: (URL, fetch counter)."""
    body = json.dumps(document).encode()
    fetches = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            fetches.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "http://127.0.0.1:%d/jwks.json" % server.server_address[1], lambda: len(fetches)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def caller(s: Scan, path: str, token: str) -> str | None:
    """The username a protected endpoint answers for this token (None: not accepted)."""
    r = s.client.get(path, bearer=token)
    return (r.json() or {}).get("username") if r.status == 200 else None


def probe_jwt_headers(s: Scan) -> None:
    """JWT009 (kid injection, embedded jwk, jku) and JWT010 (psychic ECDSA signature)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    links = s.client.get("/").json()["links"]
    for name in ("kid_token", "kid_me", "es_token", "es_me", "partner_token", "partner_me", "jwks"):
        assert name in links, ("root link missing", name)
    for path in ("/api/kid/token/", "/api/es/token/", "/api/rs/token/"):
        assert s.client.get(path).status == 405, ("token endpoint should answer GET with 405", path)

    def login(path: str, user=ALICE) -> str:
        r = s.client.post(path, json_body={"username": user[0], "password": user[1]})
        assert r.status == 200, ("login failed", path, r.status, r.text)
        return r.json()["access"]

    as_bob = {"user_id": "2", "username": "bob"}

    # Key-rotation family: kid -> key file / SQL row.
    kid_token = login("/api/kid/token/")
    assert caller(s, "/api/kid/me/", kid_token) == "alice", "legit kid token rejected"
    kheader, kclaims = jwt_parts(kid_token)
    for key in WORDLIST:
        if jwt_verifies(kid_token, key.encode()):
            s.hit("JWT003", "kid-family HS256 secret is %r" % key)
    injections = {
        "../../../../../../../../dev/null": b"",  # path traversal: empty key
        "x' UNION SELECT 'authprobe' --": b"authprobe",  # SQL injection: chosen key
    }
    for kid, key in injections.items():
        header = {**kheader, "kid": kid}
        forged = jwt_sign(header, {**kclaims, **as_bob}, key)
        control = jwt_sign(header, {**kclaims, **as_bob}, b"authprobe-wrong-key")
        if caller(s, "/api/kid/me/", forged) == "bob" and caller(s, "/api/kid/me/", control) is None:
            s.hit("JWT009", "kid %r: token signed with %r accepted as bob" % (kid, key))

    # Partner API: RS256 verified with a key embedded in the header's jwk.
    rs_token = login("/api/rs/token/")
    assert caller(s, "/api/rs/me/", rs_token) == "alice", "legit RS256 token rejected"
    rheader, rclaims = jwt_parts(rs_token)
    own = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = own.public_key().public_numbers()
    jwk = {
        "kty": "RSA",
        "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
        "e": b64url(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
    }

    def rs_sign(header: dict, claims: dict) -> str:
        signing_input = b64url_json(header) + "." + b64url_json(claims)
        signature = own.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + b64url(signature)

    forged = rs_sign({**rheader, "jwk": jwk}, {**rclaims, **as_bob})
    control = rs_sign(rheader, {**rclaims, **as_bob})  # same key, not embedded
    if caller(s, "/api/rs/me/", forged) == "bob" and caller(s, "/api/rs/me/", control) is None:
        s.hit("JWT009", "RS256 token verified with its own embedded jwk accepted as bob")

    # Partner API: RS256 verified with a key fetched from the header's jku URL. The JWKS
    # (the same fresh key, under its own kid) is served from a throwaway local server.
    jwks = {"keys": [{**jwk, "kid": "selftest-jku", "alg": "RS256", "use": "sig"}]}
    with serve_json(jwks) as (jku, fetches):
        forged = rs_sign({**rheader, "kid": "selftest-jku", "jku": jku}, {**rclaims, **as_bob})
        control = rs_sign({**rheader, "kid": "selftest-jku"}, {**rclaims, **as_bob})  # no jku
        if caller(s, "/api/rs/me/", forged) == "bob" and caller(s, "/api/rs/me/", control) is None:
            s.hit("JWT009", "RS256 token verified with a key from its jku accepted as bob (%d fetch(es))" % fetches())

    # ES256 family: the all-zero signature.
    es_token = login("/api/es/token/")
    assert caller(s, "/api/es/me/", es_token) == "alice", "legit ES256 token rejected"
    eheader, eclaims = jwt_parts(es_token)
    signing_input = b64url_json(eheader) + "." + b64url_json({**eclaims, **as_bob})
    psychic = signing_input + "." + b64url(bytes(64))
    control = signing_input + "." + b64url(bytes(31) + b"\x01" + bytes(31) + b"\x01")  # r = s = 1
    if caller(s, "/api/es/me/", psychic) == "bob" and caller(s, "/api/es/me/", control) is None:
        s.hit("JWT010", "ES256 signature r = s = 0 accepted as bob")


def probe_auth(s: Scan) -> None:
    alice = s.jwt_login()
    # AUTH005 first: the rate-limit probes below fill the failure counters.
    a = s.client.post("/api/token/", json_body={"username": "nobody-%s" % uuid.uuid4().hex[:6], "password": "x"})
    b = s.client.post("/api/token/", json_body={"username": "alice", "password": "wrong-password"})
    c = s.client.post("/api/password/reset/", json_body={"email": "nobody-%s@example.com" % uuid.uuid4().hex[:6]})
    d = s.client.post("/api/password/reset/", json_body={"email": "alice@example.com"})
    if (a.status, a.json()) != (b.status, b.json()) or (c.status, c.json()) != (d.status, d.json()):
        s.hit("AUTH005", "login/reset answers differ for unknown users")

    alice_note = s.first_note_path()
    for path in ("/api/me/", "/api/notes/", alice_note, "/api/export/", "/api/kid/me/", "/api/es/me/"):
        if s.client.get(path).status == 200:
            s.hit("AUTH001", "%s served without credentials" % path)
    for path in ("/api/me/", "/api/notes/"):
        if s.accepted("garbage.garbage.garbage", path) or s.accepted("xyz", path):
            s.hit("AUTH002", "garbage bearer accepted at %s" % path)
    if (
        s.client.get("/api/me/?access_token=" + alice["access"]).status == 200
        or s.client.get("/api/notes/?token=" + alice["access"]).status == 200
    ):
        s.hit("AUTH003", "token accepted from the query string")
    for path in ("/api/me/", "/api/notes/", "/api/export/"):
        if s.client.get(path).status != 401:
            continue
        for method in ("HEAD", "OPTIONS", "POST"):
            if 200 <= s.client.request(method, path).status < 300:
                s.hit("AUTH004", "%s %s bypasses auth" % (method, path))
    if s.accepted(alice["refresh"]):
        s.hit("AUTH006", "refresh token accepted as access token")
    for resp in (
        s.client.get("/api/me/"),
        s.client.get("/api/notes/", bearer="xyz"),
        s.client.get("/api/rs/me/"),
        s.client.get("/api/kid/me/"),
        s.client.get("/api/kid/me/", bearer="xyz"),
        s.client.get("/api/es/me/"),
        s.client.get("/api/es/me/", bearer="xyz"),
    ):
        if resp.status == 401 and not resp.header("WWW-Authenticate"):
            s.hit("AUTH007", "401 without WWW-Authenticate")
    canary = "authprobe-canary-%s" % uuid.uuid4().hex
    for path in ("/api/me/", "/api/notes/", "/api/kid/me/", "/api/es/me/"):
        if canary in s.client.get(path, bearer=canary).text:
            s.hit("TOKEN004", "rejected token echoed at %s" % path)

    bob = s.jwt_login(BOB)
    r = s.client.get(alice_note, bearer=bob["access"])
    if r.status == 200 and (r.json() or {}).get("owner") == "alice":
        s.hit("BOLA001", "bob reads alice's first note")
    ids = [n["id"] for who in (s.jwt_login(), bob) for n in s.client.get("/api/notes/", bearer=who["access"]).json()]
    if all(isinstance(i, int) for i in ids):
        s.hit("BOLA002", "notes keyed by sequential integers: %s" % ids)


def listed_objects(body) -> list[dict]:
    """The objects of a list answer: a bare array, {"results": [...]} or any envelope."""
    if isinstance(body, list):
        return [x for x in body if isinstance(x, dict) and "id" in x]
    if isinstance(body, dict):
        for value in body.values():
            found = listed_objects(value)
            if found:
                return found
    return []


def probe_receipts(s: Scan) -> None:
    """BOLA001 on the receipts: object URLs from the list's url fields, from the collection
    path plus the id, and from the schema's templates filled with the listed ids."""
    links = s.client.get("/").json()["links"]
    assert links.get("receipts") == "/api/receipts/", ("root link missing", "receipts")
    collection = links["receipts"]
    alice = s.jwt_login()["access"]
    bob = s.jwt_login(BOB)["access"]
    if s.client.get(collection).status == 200:
        s.hit("AUTH001", "%s served without credentials" % collection)
    r = s.client.get(collection, bearer=alice)
    assert r.status == 200, ("receipt list failed", r.status, r.text)
    items = listed_objects(r.json())
    assert len(items) == 3, ("alice should have 3 receipts", r.text)
    ids = [item["id"] for item in items]
    if all(isinstance(i, int) for i in ids):
        s.hit("BOLA002", "receipts keyed by sequential integers: %s" % ids)

    spec = s.client.get("/api/schema/?format=json").json()
    templates = [p for p, ops in spec["paths"].items() if "get" in ops and "receipt" in p and p.count("{") == 1]
    assert {"/api/receipts/{id}/", "/api/receipt-lookup/{receipt_id}/"} <= set(templates), templates
    candidates = []
    for item in items:
        if isinstance(item.get("url"), str):
            candidates.append(urlsplit(item["url"]).path)
        candidates.append("%s%s/" % (collection, item["id"]))
        candidates += [re.sub(r"\{[^}]+\}", str(item["id"]), t) for t in templates]
    for template in templates:  # the schema's declared examples
        for parameter in spec["paths"][template]["get"].get("parameters", []):
            example = parameter.get("example")
            if parameter.get("in") == "path" and example is not None:
                path = re.sub(r"\{[^}]+\}", str(example), template)
                status = s.client.get(path, bearer=alice).status
                s.notes.append("note: spec example %s answers %d" % (path, status))
    read = set()
    for path in dict.fromkeys(candidates):
        owner = s.client.get(path, bearer=alice)
        if owner.status != 200:
            continue
        if s.client.get(path).status == 200:
            s.hit("AUTH001", "%s served without credentials" % path)
        other = s.client.get(path, bearer=bob)
        if other.status == 200 and other.json() == owner.json() and path.split("/")[2] not in read:
            read.add(path.split("/")[2])
            s.hit("BOLA001", "bob reads alice's receipt at %s" % path)


def probe_sessions(s: Scan) -> None:
    # SESS001 via the form login: is the pre-login session id still (or now) authenticated?
    r, before, after = s.form_login()
    assert r.status == 302, ("form login failed", r.status, r.text[:300])
    pre = before.get("sessionid")
    if pre and s.client.get("/api/me/", cookies={"sessionid": pre}).status == 200:
        s.hit("SESS001", "form login kept the pre-login session id")
    # ... and via the token-to-session bridge.
    alice = s.jwt_login()
    _, anon = s.form_login_page()
    r = s.client.post("/api/token-login/", bearer=alice["access"], cookies={"sessionid": anon["sessionid"]})
    assert r.status == 200, ("token-login failed", r.status, r.text)
    if s.client.get("/api/me/", cookies={"sessionid": anon["sessionid"]}).status == 200:
        s.hit("SESS001", "token-login kept the pre-login session id")
    new_sid = r.cookies().get("sessionid", {}).get("value")
    if new_sid and new_sid in r.text:
        s.hit("SESS007", "session id echoed in the token-login body")
    # SESS002: a live session id accepted from the URL.
    r, _, after = s.form_login()
    sid = after.get("sessionid")
    if sid and s.client.get("/api/me/?sessionid=" + sid).status == 200:
        s.hit("SESS002", "session id accepted from ?sessionid=")

    # SESS003: logout.
    pair = s.jwt_login()
    r = s.client.post("/api/logout/", bearer=pair["access"], json_body={"refresh": pair["refresh"]})
    assert r.status == 200, ("logout failed", r.status, r.text)
    if (
        s.accepted(pair["access"])
        or s.client.post("/api/token/refresh/", json_body={"refresh": pair["refresh"]}).status == 200
    ):
        s.hit("SESS003", "credentials valid after logout")

    # SESS004: refresh reuse.
    pair = s.jwt_login()
    first = s.client.post("/api/token/refresh/", json_body={"refresh": pair["refresh"]})
    assert first.status == 200, first.text
    if s.client.post("/api/token/refresh/", json_body={"refresh": pair["refresh"]}).status == 200:
        s.hit("SESS004", "rotated-out refresh token reused")

    # SESS005: password change with a throwaway account.
    name = "probe%s" % uuid.uuid4().hex[:8]
    password = "Pw-%s-x1" % uuid.uuid4().hex[:10]
    r = s.client.post(
        "/api/register/", json_body={"username": name, "password": password, "email": name + "@example.com"}
    )
    assert r.status == 201, ("register failed", r.status, r.text)
    pair = s.jwt_login((name, password))
    key = s.client.post("/api-token-auth/", form={"username": name, "password": password}).json()["token"]
    r = s.client.post(
        "/api/password/change/",
        bearer=pair["access"],
        json_body={"old_password": password, "new_password": password + "-new"},
    )
    assert r.status == 200, ("password change failed", r.status, r.text)
    if (
        s.accepted(pair["access"])
        or s.client.post("/api/token/refresh/", json_body={"refresh": pair["refresh"]}).status == 200
        or s.client.get("/api/notes/", headers={"Authorization": "Token " + key}).status == 200
    ):
        s.hit("SESS005", "credentials survive a password change")

    # SESS006: static DRF key.
    k1 = s.client.post("/api-token-auth/", form={"username": "alice", "password": "alice-pass-1"}).json()["token"]
    k2 = s.client.post("/api-token-auth/", form={"username": "alice", "password": "alice-pass-1"}).json()["token"]
    if k1 == k2:
        s.hit("SESS006", "same authtoken key on every login")

    # SESS008: login CSRF and cookie-authenticated API write without CSRF token.
    r, _, _ = s.form_login(csrf=False)
    if r.status == 302:
        s.hit("SESS008", "login form accepted without CSRF token")
    _, _, after = s.form_login()
    r = s.client.post("/api/logout/", cookies={"sessionid": after["sessionid"]})
    if r.status == 200:
        s.hit("SESS008", "session-authenticated POST /api/logout/ without CSRF token")

    # SESS008: JWTs kept in cookies; a cross-site POST to the refresh endpoint carrying
    # only the login's cookies (no body, no CSRF token) must not mint tokens.
    r = s.client.post("/api/token/", json_body={"username": ALICE[0], "password": ALICE[1]})
    jar = r.cookies()
    if "refresh_token" in jar:
        cross_site = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
        minted = s.client.post(
            "/api/token/refresh/", headers=cross_site, cookies={"refresh_token": jar["refresh_token"]["value"]}
        )
        control = s.client.post("/api/token/refresh/", headers=cross_site)
        if minted.status == 200 and "access" in (minted.json() or {}) and control.status != 200:
            s.hit("SESS008", "refresh_token cookie minted tokens on a cross-site POST without CSRF token")

    # TLS004: cookie attributes.
    r, _, _ = s.form_login()
    page = s.client.get("/accounts/login/")
    jar = {**page.cookies(), **r.cookies()}
    for name, attrs in jar.items():
        if "secure" not in attrs or attrs.get("samesite", "").lower() not in ("lax", "strict"):
            s.hit("TLS004", "%s cookie lacks Secure/SameSite" % name)
        if name in ("sessionid", "messages") and "httponly" not in attrs:
            s.hit("TLS004", "%s cookie lacks HttpOnly" % name)


RESET_LINK = re.compile(r"^(https?)://([^/\s]+)(/reset/[^/\s]+/[^/\s]+/)$", re.MULTILINE)
LIFETIME = re.compile(r"expires in (\d+) (second|minute|hour|day)s?\b")
UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def probe_recovery(s: Scan) -> None:
    """PASS002: the password-reset e-mail - where its link points, how long it lives,
    whether it works twice. Reads the mail from the selftest's SMTP receiver."""
    if s.mailbox is None:
        return
    here = "%s:%d" % (s.client.host, s.client.port)

    def reset_mail(headers=None) -> tuple[Resp, tuple[str, str, str, str] | None]:
        """(answer, (scheme, host, path, text) of the link mailed for it, or None)."""
        mark = s.mailbox.mark()
        r = s.client.post("/api/password/reset/", json_body={"email": "alice@example.com"}, headers=headers)
        for message in s.mailbox.since(mark, wait=2.0 if r.status == 200 else 0.2):
            text = mail_text(message)
            m = RESET_LINK.search(text)
            if m and "alice@example.com" in str(message["To"]):
                return r, (m.group(1), m.group(2), m.group(3), text)
        return r, None

    # The link's host follows a spoofed X-Forwarded-Host or Host.
    spoof = "evil-%s.example" % uuid.uuid4().hex[:6]
    for header in ("X-Forwarded-Host", "Host"):
        r, link = reset_mail({header: spoof})
        if link and link[1] == spoof:
            s.hit("PASS002", "reset link points to %s (spoofed %s)" % (spoof, header))
        elif r.status == 200 and header == "X-Forwarded-Host" and (not link or link[1] != here):
            s.notes.append("warning: reset answered 200 without a mail to alice at %s (%s)" % (here, link))

    r, link = reset_mail()
    assert r.status == 200 and link, ("no reset mail for alice", r.status, r.text)
    scheme, host, path, text = link
    assert (scheme, host) == (s.client.scheme, here), ("reset link", scheme, host)
    # Lifetime stated in the mail.
    m = LIFETIME.search(text)
    assert m, ("no lifetime in the reset mail", text)
    seconds = int(m.group(1)) * UNIT_SECONDS[m.group(2)]
    if seconds > RESET_LINK_MAX_SECONDS:
        s.hit("PASS002", "reset link valid for %s %ss" % (m.group(1), m.group(2)))

    # Use the link (set alice's own password again), then open it once more.
    first = s.client.get(path)
    assert first.status == 302, ("fresh reset link refused", first.status, first.text[:300])
    form_path = first.header("Location") or ""
    jar = {k: v["value"] for k, v in first.cookies().items()}
    page = s.client.get(form_path, cookies=jar)
    jar.update({k: v["value"] for k, v in page.cookies().items()})
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert page.status == 200 and token and 'name="new_password1"' in page.text, ("no set-password form", page.status)
    done = s.client.post(
        form_path,
        form={"csrfmiddlewaretoken": token.group(1), "new_password1": ALICE[1], "new_password2": ALICE[1]},
        cookies=jar,
        headers={"Referer": s.client.base + form_path},
    )
    assert done.status == 302 and (done.header("Location") or "").endswith("/reset/done/"), (
        "set-password failed",
        done.status,
        done.text[:300],
    )
    again = s.client.get(path)
    if again.status == 302 and (again.header("Location") or "").endswith("/set-password/"):
        s.hit("PASS002", "a used reset link opens the set-password form again")
    elif again.status != 200 or 'type="password"' in again.text:
        s.notes.append("warning: used reset link answered %d" % again.status)


def probe_password_policy(s: Scan) -> None:
    """PASS001: weak new passwords on /api/password/change/ (a throwaway account)."""
    name = "policy%s" % uuid.uuid4().hex[:8]
    address = name + "@example.com"
    password = "Pp-%s-x1" % uuid.uuid4().hex[:10]
    r = s.client.post("/api/register/", json_body={"username": name, "password": password, "email": address})
    assert r.status == 201, ("register failed", r.status, r.text)
    for weak in ("password", "12345678", name, "x", address):
        access = s.jwt_login((name, password))["access"]
        r = s.client.post(
            "/api/password/change/", bearer=access, json_body={"old_password": password, "new_password": weak}
        )
        if r.status == 200:
            s.hit("PASS001", "password change accepted %r" % weak)
            password = weak
            break
        if r.status != 400:
            s.notes.append("warning: weak password %r answered %d" % (weak, r.status))
    s.client.request("DELETE", "/api/me/", bearer=s.jwt_login((name, password))["access"])


def entropy_bits(samples: list[str]) -> float:
    """Upper bound from alphabet size and length (digits, hex, or base64url)."""
    alphabet = set("".join(samples))
    if alphabet <= set("0123456789"):
        size = 10
    elif alphabet <= set("0123456789abcdef"):
        size = 16
    else:
        size = 64
    return min(len(x) for x in samples) * math.log2(size)


def probe_tokens(s: Scan) -> None:
    alice = s.jwt_login()
    # /api/keys/ creates keys by POST; the code endpoints also issue one per GET.
    for path, method, created in (
        ("/api/keys/", "post", 201),
        ("/api/invites/", "get", 200),
        ("/api/v1/keys/", "get", 200),
        ("/api/pairing-codes/", "get", 200),
    ):
        samples = []
        for _ in range(8):
            r = getattr(s.client, method)(path, bearer=alice["access"])
            if r.status != created:
                break
            samples.append(r.json()["key"])
        if not samples:
            continue
        identity = {
            hashlib.md5(b"alice").hexdigest(),
            hashlib.sha1(b"alice").hexdigest(),
            hashlib.sha256(b"alice").hexdigest(),
        }
        if set(samples) & identity:
            s.hit("TOKEN003", "%s key derived from the username" % path)
            continue
        if all(x.isdigit() for x in samples):
            diffs = {int(b) - int(a) for a, b in zip(samples, samples[1:], strict=False)}
            if len(diffs) == 1:
                s.hit("TOKEN002", "%s keys are sequential" % path)
        if entropy_bits(samples) < 64:
            s.hit("TOKEN001", "%s keys carry ~%d bits" % (path, entropy_bits(samples)))


def probe_rate(s: Scan) -> None:
    def burst(send, n=14) -> list[int]:
        return [send().status for _ in range(n)]

    user = "alice"
    endpoints = {
        "/api/token/": lambda xff=None: s.client.post(
            "/api/token/", json_body={"username": user, "password": "nope"}, headers=xff or {}
        ),
        "/api-token-auth/": lambda xff=None: s.client.post(
            "/api-token-auth/", form={"username": user, "password": "nope"}, headers=xff or {}
        ),
        "/api/rs/token/": lambda xff=None: s.client.post(
            "/api/rs/token/", json_body={"username": user, "password": "nope"}, headers=xff or {}
        ),
        "/api/kid/token/": lambda xff=None: s.client.post(
            "/api/kid/token/", json_body={"username": user, "password": "nope"}, headers=xff or {}
        ),
        "/api/es/token/": lambda xff=None: s.client.post(
            "/api/es/token/", json_body={"username": user, "password": "nope"}, headers=xff or {}
        ),
    }
    for path, send in endpoints.items():
        statuses = burst(send)
        if 429 not in statuses:
            s.hit("RATE001", "%s: %d failed logins, no 429" % (path, len(statuses)))
        elif send({"X-Forwarded-For": "203.0.113.%d" % (len(path))}).status != 429:
            s.hit("RATE003", "%s: 429 lifted by X-Forwarded-For" % path)
        # A correct password is never refused.
        if path == "/api/token/":
            assert s.client.post(path, json_body={"username": "alice", "password": "alice-pass-1"}).status == 200
    # Form login.
    page, cookies = s.form_login_page()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    form = {"username": user, "password": "nope", "csrfmiddlewaretoken": token}
    hdrs = {"Referer": s.client.base + "/accounts/login/"}
    statuses = [s.client.post("/accounts/login/", form=form, cookies=cookies, headers=hdrs).status for _ in range(14)]
    if 429 not in statuses:
        s.hit("RATE001", "/accounts/login/: no 429")

    token_endpoints = {
        "/api/token/refresh/": lambda: s.client.post("/api/token/refresh/", json_body={"refresh": "garbage"}),
        "/api/token/verify/": lambda: s.client.post("/api/token/verify/", json_body={"token": "garbage"}),
        "/api/token/blacklist/": lambda: s.client.post("/api/token/blacklist/", json_body={"refresh": "garbage"}),
        "/api/password/reset/": lambda: s.client.post("/api/password/reset/", json_body={"email": "x@example.com"}),
    }
    for path, send in token_endpoints.items():
        if 429 not in burst(send):
            s.hit("RATE002", "%s: no 429" % path)


def probe_web(s: Scan) -> None:
    for origin in ("https://evil.example", "null"):
        r = s.client.get("/api/me/", headers={"Origin": origin})
        if (
            r.header("Access-Control-Allow-Origin") in (origin, "*")
            and r.header("Access-Control-Allow-Credentials") == "true"
        ):
            s.hit("WEB001", "Origin %s reflected with credentials" % origin)
    for path in ("/accounts/login/", "/authprobe-missing/"):
        r = s.client.get(path)
        if (r.header("Content-Type") or "").startswith("text/html") and not r.header("Content-Security-Policy"):
            s.hit("WEB002", "no CSP on %s" % path)
    r, _, _ = s.form_login(next_url="https://evil.example/landing")
    if (r.header("Location") or "").startswith("https://evil.example"):
        s.hit("WEB003", "login redirects to ?next= off-site")
    paths = ["/", "/api/me/", "/accounts/login/", "/api/kid/me/", "/api/es/me/", "/api/kid/token/"]
    for path in paths + ["/.well-known/jwks.json"]:
        r = s.client.get(path)
        if (
            (r.header("X-Content-Type-Options") or "").lower() != "nosniff"
            or (r.header("X-Frame-Options") or "").upper() not in ("DENY", "SAMEORIGIN")
            or not r.header("Referrer-Policy")
        ):
            s.hit("WEB004", "security headers missing on %s" % path)


def probe_spec(s: Scan) -> None:
    """SPEC001: a security scheme the served OpenAPI schema declares but the API refuses."""
    schema = s.client.get("/api/schema/?format=json").json() or {}
    schemes = (schema.get("components") or {}).get("securitySchemes") or {}
    basic = "Basic " + base64.b64encode(("%s:%s" % ALICE).encode()).decode()
    for name, scheme in schemes.items():
        if scheme.get("type") == "http" and str(scheme.get("scheme", "")).lower() == "basic":
            if s.client.get("/api/me/", headers={"Authorization": basic}).status == 401:
                s.hit("SPEC001", "schema declares %s (HTTP Basic), the API refuses it" % name)


def probe_tls(s: Scan) -> None:
    if not s.tls:
        return
    hsts = s.client.get("/").header("Strict-Transport-Security") or ""
    m = re.search(r"max-age=(\d+)", hsts)
    if not m or int(m.group(1)) < 31536000 or "includesubdomains" not in hsts.lower():
        s.hit("TLS003", "HSTS %r" % hsts)
    plain = s.http_client
    for method, path in (("GET", "/"), ("GET", "/api/me/"), ("POST", "/api/token/")):
        r = plain.request(
            method, path, json_body={"username": "alice", "password": "alice-pass-1"} if method == "POST" else None
        )
        location = r.header("Location") or ""
        want = "https://127.0.0.1:%d%s" % (s.client.port, path)
        if r.status != 301 or location != want:
            s.hit("TLS001", "%s %s over HTTP: %d %s" % (method, path, r.status, location))
        if method == "POST" and r.status == 200:
            s.hit("TLS002", "credentials accepted over plain HTTP")
    if "Strict-Transport-Security" in dict(plain.get("/").headers):
        s.notes.append("warning: HSTS sent over plain HTTP")


def probe_authz(s: Scan) -> None:
    alice = s.jwt_login()["access"]
    bob = s.jwt_login(BOB)["access"]
    r = s.client.get("/api/staff/users/", bearer=alice)
    if r.status == 200 and "bob" in r.text:
        s.hit("AUTHZ001", "alice reads the staff user list")
    # Write flaws, on objects and accounts created here (and removed again).
    name = "selftest-%s" % uuid.uuid4().hex[:8]
    password = "St-%s!" % uuid.uuid4().hex
    r = s.client.post(
        "/api/register/", json_body={"username": name, "password": password, "email": name + "@example.invalid", "is_staff": True}
    )
    if r.status == 201:
        if r.json().get("is_staff") is True:
            s.hit("AUTHZ002", "registration set is_staff")
        new = password + "x"
        changed = s.client.post("/api/users/%s/password/" % name, json_body={"new_password": new}, bearer=alice)
        if changed.status == 200:
            s.hit("BOLA003", "alice set another account's password by URL")
            password = new
        token = s.jwt_login((name, password))["access"]
        s.client.request("DELETE", "/api/me/", bearer=token)
    note = s.client.post("/api/notes/", json_body={"title": "selftest", "body": "selftest"}, bearer=alice).json()
    path = "/api/notes/%s/" % note["id"]
    s.client.request("PATCH", path, json_body={"title": "bob was here"}, bearer=bob)
    if "bob was here" in s.client.get(path, bearer=alice).text:
        s.hit("BOLA003", "bob modified alice's note")
    s.client.request("DELETE", path, bearer=alice)


PROBES = [
    probe_django,
    probe_authz,
    probe_auth,
    probe_receipts,
    probe_jwt,
    probe_jwt_headers,
    probe_sessions,
    probe_recovery,
    probe_password_policy,
    probe_tokens,
    probe_web,
    probe_spec,
    probe_tls,
    probe_rate,
]


# --- Driver --------------------------------------------------------------------------------


def run_mode(flaws: str, tls: bool) -> tuple[str, set[str], set[str], list[str], float]:
    mailbox = Mailbox()
    args = [sys.executable, str(HERE / "serve.py"), "--port", "0", "--flaws", flaws, "--exit-with-stdin"]
    args += ["--mail-to", "127.0.0.1:%d" % mailbox.port]
    if tls:
        args.append("--tls")
    started = time.monotonic()
    proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        startup = time.monotonic() - started
        if not line.startswith("ready "):
            raise RuntimeError("no ready line: %r %s" % (line, proc.stderr.read()))
        url = line.split()[1]
        client = Client(url)
        plain = Client("http://127.0.0.1:%d" % (client.port + 1)) if tls else None
        scan = Scan(client, plain, tls, mailbox)
        errors = []
        for probe in PROBES:
            try:
                probe(scan)
            except Exception as exc:  # noqa: BLE001 - report and continue
                errors.append("%s crashed: %r" % (probe.__name__, exc))
        expected = expected_codes(flaws, tls)
        return ("%s%s" % (flaws, "+tls" if tls else ""), expected, scan.found, scan.notes + errors, startup)
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)
        mailbox.close()


def expected_codes(flaws: str, tls: bool) -> set[str]:
    names = [] if flaws == "none" else list(FLAWS) if flaws == "all" else flaws.split(",")
    out = set()
    for name in names:
        if FLAWS[name]["tls"] and not tls:
            continue
        out |= set(FLAWS[name]["codes"])
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modes", nargs="*", help="none | all | FLAW | none+tls | FLAW+tls ...")
    parser.add_argument("-j", "--jobs", type=int, default=4)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    modes = args.modes or (
        ["none", "none+tls"] + [f + ("+tls" if FLAWS[f]["tls"] else "") for f in FLAWS] + ["all", "all+tls"]
    )
    plan = [(m.removesuffix("+tls"), m.endswith("+tls")) for m in modes]
    failed = 0
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for name, expected, found, notes, startup in pool.map(lambda p: run_mode(*p), plan):
            ok = expected == found and not any("crashed" in n for n in notes)
            failed += not ok
            print("%-4s %-28s start %.2fs  expected %s" % ("ok" if ok else "FAIL", name, startup, sorted(expected)))
            if not ok:
                print("       found    %s" % sorted(found))
                print("       missing  %s   extra %s" % (sorted(expected - found), sorted(found - expected)))
            if not ok or args.verbose:
                for note in notes:
                    print("       - %s" % note)
    print("%d mode(s) failed" % failed if failed else "all modes passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
