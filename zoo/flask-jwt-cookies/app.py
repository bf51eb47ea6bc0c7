"""Flask 3 + Flask-JWT-Extended 4, JWTs in HttpOnly cookies (the docs' "JWT in cookies" setup).

create_app(hardened=False) is the flawed variant: the docs' example settings plus two common
mistakes (CSRF protection switched off, logout that only clears cookies). create_app(hardened=True)
is the same API as a careful team ships it. State lives in memory and is fresh on every start.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections import defaultdict, deque
from datetime import timedelta

from flask import Flask, jsonify, request
from flask_jwt_extended import (
    JWTManager,
    create_access_token,
    create_refresh_token,
    get_jwt,
    get_jwt_identity,
    jwt_required,
    set_access_cookies,
    set_refresh_cookies,
    unset_jwt_cookies,
)
from werkzeug.security import check_password_hash, generate_password_hash

SEED_USERS = {
    "alice": ("alice-pass-1", "alice@example.com"),
    "bob": ("bob-pass-2", "bob@example.com"),
}
SEED_NOTES = {
    "alice": [("Groceries", "eggs, flour, milk"), ("Holiday", "book the train to Lyon")],
    "bob": [("Ideas", "a bike rack for the office"), ("Reading", "The Mythical Man-Month")],
}


class FailureLimiter:
    """At most `limit` failures per key within `window` seconds; then the key is blocked."""

    def __init__(self, limit: int = 5, window: float = 60.0):
        self.limit, self.window = limit, window
        self.failures: dict[object, deque[float]] = defaultdict(deque)
        self.lock = threading.Lock()

    def retry_after(self, key) -> int:
        """Seconds until `key` may try again (0: not blocked)."""
        with self.lock:
            stamps = self.failures[key]
            now = time.monotonic()
            while stamps and stamps[0] <= now - self.window:
                stamps.popleft()
            if len(stamps) < self.limit:
                return 0
            return max(1, int(stamps[0] + self.window - now + 1))

    def fail(self, key) -> None:
        with self.lock:
            self.failures[key].append(time.monotonic())


def too_many(retry_after: int):
    response = jsonify(msg="Too many failed attempts, try again later")
    response.status_code = 429
    response.headers["Retry-After"] = str(retry_after)
    return response


def create_app(hardened: bool = False) -> Flask:
    app = Flask(__name__)
    app.config["JWT_TOKEN_LOCATION"] = ["cookies"]
    if hardened:
        app.config["JWT_SECRET_KEY"] = secrets.token_urlsafe(64)  # strong, per start
        app.config["JWT_COOKIE_SECURE"] = True
        app.config["JWT_COOKIE_SAMESITE"] = "Strict"
        app.config["JWT_COOKIE_CSRF_PROTECT"] = True  # the library default, kept on
        app.config["JWT_ACCESS_TOKEN_EXPIRES"] = timedelta(minutes=15)
        app.config["JWT_REFRESH_TOKEN_EXPIRES"] = timedelta(days=1)
        app.config["JWT_ENCODE_ISSUER"] = app.config["JWT_DECODE_ISSUER"] = "flask-jwt-cookies"
        app.config["JWT_ENCODE_AUDIENCE"] = app.config["JWT_DECODE_AUDIENCE"] = "notes-api"
    else:
        # INTENTIONALLY VULNERABLE: the key of the docs' example ("# Change this!"), which
        # everybody's wordlist has (JWT003).
        app.config["JWT_SECRET_KEY"] = "super-secret"
        # The docs' cookie example says False "in development"; copied to production, the
        # cookies go over plain HTTP, and without SameSite (the default) (TLS004).
        app.config["JWT_COOKIE_SECURE"] = False
        # INTENTIONALLY VULNERABLE: "the frontend kept getting 401 Missing CSRF token" — a
        # cookie-authenticated POST needs no X-CSRF-TOKEN any more (SESS008).
        app.config["JWT_COOKIE_CSRF_PROTECT"] = False
        # Lifetimes are the library defaults: access 15 minutes, refresh 30 days (JWT005).
        # No JWT_*_AUDIENCE / JWT_*_ISSUER: tokens carry no aud/iss (JWT006).
    jwt = JWTManager(app)

    users = {name: {"email": email, "password": generate_password_hash(pw)} for name, (pw, email) in SEED_USERS.items()}
    # Verified for unknown usernames too, so both failures cost the same time (no AUTH005).
    dummy_hash = generate_password_hash(secrets.token_urlsafe(16))
    notes: dict[str, dict] = {}
    for owner, items in SEED_NOTES.items():
        for title, body in items:
            note_id = str(uuid.uuid4())  # random ids: note URLs are not enumerable
            notes[note_id] = {"id": note_id, "owner": owner, "title": title, "body": body}

    revoked_jtis: set[str] = set()  # hardened: rotated-out refresh tokens
    revoked_sids: set[str] = set()  # hardened: logged-out logins (access and refresh)
    login_limiter = FailureLimiter()
    refresh_limiter = FailureLimiter()

    if hardened:

        @jwt.token_in_blocklist_loader
        def is_revoked(_header, payload) -> bool:
            return payload["jti"] in revoked_jtis or payload.get("sid") in revoked_sids

        @app.before_request
        def throttle_refresh():
            if request.path == "/api/token/refresh":
                wait = refresh_limiter.retry_after(request.remote_addr)
                if wait:
                    return too_many(wait)

        @app.after_request
        def count_refresh_failures(response):
            if request.path == "/api/token/refresh" and response.status_code in (401, 422):
                refresh_limiter.fail(request.remote_addr)
            return response

        @app.after_request
        def security_headers(response):
            # Flask sets none of these; the CSP also covers Flask's HTML error pages.
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers["X-Frame-Options"] = "DENY"
            response.headers["Referrer-Policy"] = "no-referrer"
            response.headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"
            response.headers["Cache-Control"] = "no-store"
            return response

    def issue(response, username: str, sid: str | None = None):
        claims = {"sid": sid or secrets.token_urlsafe(16)} if hardened else {}
        set_access_cookies(response, create_access_token(identity=username, additional_claims=claims))
        set_refresh_cookies(response, create_refresh_token(identity=username, additional_claims=claims))

    @app.post("/api/login")
    def login():
        data = request.get_json(silent=True) or {}  # JSON only: a cross-site form cannot log you in
        username, password = data.get("username"), data.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            return jsonify(msg="username and password required"), 400
        key = (username.lower(), request.remote_addr)  # the socket's address, never X-Forwarded-For
        if hardened:
            wait = login_limiter.retry_after(key)
            if wait:
                return too_many(wait)
        user = users.get(username)
        if not check_password_hash(user["password"] if user else dummy_hash, password) or not user:
            if hardened:
                login_limiter.fail(key)
            return jsonify(msg="Bad username or password"), 401
        response = jsonify(msg="login successful", username=username)
        issue(response, username)
        return response

    @app.post("/api/token/refresh")
    @jwt_required(refresh=True)
    def refresh():
        username = get_jwt_identity()
        response = jsonify(msg="refresh successful", username=username)
        if hardened:
            # Rotation: the presented refresh token is spent; a second use is refused.
            claims = get_jwt()
            revoked_jtis.add(claims["jti"])
            issue(response, username, sid=claims["sid"])
        else:
            # The docs' refresh: a new access cookie, the same 30-day refresh token.
            set_access_cookies(response, create_access_token(identity=username))
        return response

    if hardened:

        @app.post("/api/logout")
        @jwt_required()
        def logout():
            revoked_sids.add(get_jwt()["sid"])  # kills this login's access and refresh tokens
            response = jsonify(msg="logout successful")
            unset_jwt_cookies(response)
            return response

    else:

        @app.post("/api/logout")
        def logout():
            # INTENTIONALLY VULNERABLE (the docs' logout): the cookies are cleared in this
            # browser, but the JWTs stay valid until they expire (SESS003).
            response = jsonify(msg="logout successful")
            unset_jwt_cookies(response)
            return response

    @app.get("/api/me")
    @jwt_required()
    def me():
        username = get_jwt_identity()
        user = users.get(username)
        if user is None:
            return jsonify(msg="Unknown user"), 401
        return jsonify(username=username, email=user["email"])

    @app.get("/api/notes")
    @jwt_required()
    def list_notes():
        owner = get_jwt_identity()
        return jsonify([n for n in notes.values() if n["owner"] == owner])

    @app.post("/api/notes")
    @jwt_required()
    def create_note():
        data = request.get_json(silent=True) or {}
        title, body = data.get("title"), data.get("body", "")
        if not isinstance(title, str) or not title or not isinstance(body, str):
            return jsonify(msg="title required"), 400
        note_id = str(uuid.uuid4())
        notes[note_id] = {"id": note_id, "owner": get_jwt_identity(), "title": title[:200], "body": body[:2000]}
        return jsonify(notes[note_id]), 201

    @app.get("/api/notes/<note_id>")
    @jwt_required()
    def read_note(note_id: str):
        note = notes.get(note_id)
        if note is None or note["owner"] != get_jwt_identity():  # 404 either way: no existence oracle
            return jsonify(msg="Not found"), 404
        return jsonify(note)

    return app
