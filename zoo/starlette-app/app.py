"""A Starlette notes app, set up the way Starlette's docs do it.

`Starlette(debug=..., routes=..., middleware=[Middleware(SessionMiddleware, ...)])`, Jinja2
templates (`Jinja2Templates`), `request.session` for the signed-in user and for flash
messages, a small JSON API under /api/ authenticated by the same session cookie, and the
OpenAPI schema of that API built by `SchemaGenerator` from the endpoints' YAML docstrings,
served at /schema (the docs' "Schemas" page). A password reset by e-mail: a "Forgot your
password?" link on the sign-in page, a mailed link to a set-password form (smtplib, sent from a
`BackgroundTask` as the docs' "Background Tasks" page sends its e-mail).

The variant is read once, at import, from ZOO_HARDENED ("1": hardened). The flawed variant
keeps Starlette's defaults and the docs' `debug=True`; what the hardened variant changes is
marked `if HARDENED`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import smtplib
import sys
import threading
import time
import uuid
from collections import defaultdict, deque
from email.message import EmailMessage
from pathlib import Path

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.datastructures import Secret
from starlette.endpoints import HTTPEndpoint
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.schemas import SchemaGenerator
from starlette.templating import Jinja2Templates

HARDENED = os.environ.get("ZOO_HARDENED") == "1"
# The docs read SECRET_KEY from the environment (starlette.config); serve.py puts a fresh
# random one there on every start, so the signature itself is sound in both variants.
SECRET_KEY = Secret(os.environ.get("SECRET_KEY") or secrets.token_urlsafe(32))

VERBOSE = os.environ.get("ZOO_VERBOSE") == "1"
# serve --mail-to HOST:PORT: the SMTP server the reset e-mails go to ("" or unset: none is sent).
MAIL_TO = os.environ.get("ZOO_MAIL_TO", "")
# The site's public address, as deployed (serve puts the served URL here). Only the hardened
# variant builds its e-mailed links from it; the flawed one builds them from the request.
PUBLIC_URL = os.environ.get("ZOO_PUBLIC_URL", "http://127.0.0.1:8000")
MAIL_FROM = "Notes <noreply@notes.invalid>"
# How long a reset link works: a day in the flawed variant ("links kept expiring before people
# read their mail"), 30 minutes hardened.
RESET_LIFETIME = 30 * 60 if HARDENED else 24 * 3600
RESET_LIFETIME_TEXT = "30 minutes" if HARDENED else "24 hours"

templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))

schemas = SchemaGenerator(
    {
        "openapi": "3.0.0",
        "info": {"title": "Notes API", "version": "1.0"},
        "components": {
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "session"}},
        },
        "security": [{"session": []}],
    }
)

# ---------------------------------------------------------------- state (fresh per start)

PBKDF2_ROUNDS = 120_000


def hash_password(password: str, salt: bytes) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, PBKDF2_ROUNDS)


def make_user(username: str, password: str, email: str) -> dict:
    salt = secrets.token_bytes(16)
    return {"username": username, "email": email, "salt": salt, "hash": hash_password(password, salt)}


USERS = {
    "alice": make_user("alice", "alice-pass-1", "alice@example.com"),
    "bob": make_user("bob", "bob-pass-2", "bob@example.com"),
}
# Unknown usernames are checked against this, so they cost as much time as a wrong password.
DUMMY = make_user("", secrets.token_urlsafe(16), "")

NOTES: dict[str, dict] = {}
for owner, title, body in [
    ("alice", "Groceries", "eggs, flour, milk"),
    ("alice", "Holiday", "book the train to Lyon"),
    ("alice", "Dentist", "Tuesday 9:30"),
    ("bob", "Ideas", "a bike rack for the office"),
    ("bob", "Reading", "The Mythical Man-Month"),
]:
    note_id = str(uuid.uuid4())
    NOTES[note_id] = {"id": note_id, "title": title, "body": body, "owner": owner}

# Password-reset tokens (token -> {"username", "expires"}), server-side, with their expiry. The
# flawed variant keeps a token until it expires, used or not; the hardened one deletes it when
# it is used and when a newer one is issued for the same account.
RESET_TOKENS: dict[str, dict] = {}
reset_lock = threading.Lock()

# Hardened only: the server-side list of live sessions (sid -> username). A signed cookie
# cannot be taken back once issued; sign-out removes its sid here, so a replayed copy is dead.
LIVE_SESSIONS: dict[str, str] = {}


def check_password(username: str, password: str) -> dict | None:
    user = USERS.get(username)
    record = user or DUMMY
    ok = hmac.compare_digest(hash_password(password, record["salt"]), record["hash"])
    return user if ok and user else None


class FailureLimiter:
    """Hardened only: at most `limit` counted attempts (failed sign-ins; reset requests) per
    (username or e-mail address, client address) within `window` seconds; the next attempt
    answers 429 with Retry-After."""

    def __init__(self, limit: int = 5, window: float = 60.0):
        self.limit, self.window = limit, window
        self.failures: dict[tuple, deque[float]] = defaultdict(deque)
        self.lock = threading.Lock()

    def retry_after(self, key: tuple) -> int:
        with self.lock:
            stamps = self.failures[key]
            now = time.monotonic()
            while stamps and stamps[0] <= now - self.window:
                stamps.popleft()
            if len(stamps) < self.limit:
                return 0
            return max(1, int(stamps[0] + self.window - now + 1))

    def fail(self, key: tuple) -> None:
        with self.lock:
            self.failures[key].append(time.monotonic())


sign_in_limiter = FailureLimiter()
# Hardened only: reset requests (each sends a mail) are limited like failed sign-ins, per
# (address asked for, client address): 5 a minute, then 429.
reset_limiter = FailureLimiter()

# ---------------------------------------------------------------- session helpers


def flash(request: Request, message: str, category: str = "info") -> None:
    """Store a message for the next page, in the session (anonymous visitors too)."""
    request.session.setdefault("_messages", []).append({"message": message, "category": category})
    request.session.mark_modified()  # the list was changed in place


def pop_flashes(request: Request) -> list[dict]:
    return request.session.pop("_messages", [])


def current_user(request: Request) -> dict | None:
    username = request.session.get("user")
    if not username:
        return None
    if HARDENED and LIVE_SESSIONS.get(request.session.get("sid", "")) != username:
        return None
    return USERS.get(username)


def csrf_token(request: Request) -> str | None:
    """Hardened only: the session's CSRF token (created on first use), for the forms."""
    if not HARDENED:
        return None
    if "csrf" not in request.session:
        request.session["csrf"] = secrets.token_urlsafe(32)
    return request.session["csrf"]


def csrf_ok(request: Request, submitted: object) -> bool:
    if not HARDENED:
        return True  # Starlette has no CSRF protection built in; the flawed app adds none
    expected = request.session.get("csrf")
    return bool(expected) and isinstance(submitted, str) and hmac.compare_digest(expected, submitted)


def safe_next(target: object) -> str:
    """Only same-site paths: `/notes`, never `//evil.example` or `/\\evil.example`."""
    if isinstance(target, str) and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


def render(
    request: Request, name: str, context: dict | None = None, status_code: int = 200, headers=None, background=None
):
    context = dict(context or {})
    context.setdefault("user", current_user(request))
    context.setdefault("csrf_token", csrf_token(request))
    context["messages"] = pop_flashes(request)
    return templates.TemplateResponse(
        request, name, context, status_code=status_code, headers=headers, background=background
    )


def unauthorized() -> JSONResponse:
    return JSONResponse({"detail": "Not authenticated"}, status_code=401)


# ---------------------------------------------------------------- HTML pages


async def homepage(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        flash(request, "Please sign in to see your notes.")
        return RedirectResponse(request.url_for("sign_in").include_query_params(next="/"), status_code=302)
    notes = [n for n in NOTES.values() if n["owner"] == user["username"]]
    return render(request, "home.html", {"notes": notes})


async def sign_in(request: Request) -> Response:
    if request.method == "GET":
        return render(request, "sign_in.html", {"next": safe_next(request.query_params.get("next"))})

    form = await request.form()
    username, password = form.get("username"), form.get("password")
    next_url = safe_next(form.get("next"))
    if not csrf_ok(request, form.get("csrf_token")):
        return render(request, "sign_in.html", {"next": next_url, "error": "The form has expired, please try again."}, 403)
    if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
        return render(request, "sign_in.html", {"next": next_url, "error": "Enter your username and password."})
    key = (username.lower(), request.client.host if request.client else "")
    if HARDENED:
        wait = sign_in_limiter.retry_after(key)
        if wait:
            error = "Too many failed sign-in attempts. Try again in a minute."
            return render(request, "sign_in.html", {"next": next_url, "error": error}, 429, {"Retry-After": str(wait)})
    user = check_password(username, password)
    if user is None:
        if HARDENED:
            sign_in_limiter.fail(key)
        return render(request, "sign_in.html", {"next": next_url, "error": "Invalid username or password."})

    if HARDENED:
        # A new session at sign-in (new sid, new CSRF token), listed server-side so that
        # sign-out can end it.
        request.session.clear()
        sid = secrets.token_urlsafe(32)
        LIVE_SESSIONS[sid] = user["username"]
        request.session["sid"] = sid
        request.session["csrf"] = secrets.token_urlsafe(32)
    request.session["user"] = user["username"]
    flash(request, "Welcome back, %s." % user["username"], "success")
    return RedirectResponse(next_url, status_code=303)


async def sign_out(request: Request) -> Response:
    form = await request.form()
    if not csrf_ok(request, form.get("csrf_token")):
        return render(request, "sign_in.html", {"next": "/", "error": "The form has expired, please try again."}, 403)
    if HARDENED:
        LIVE_SESSIONS.pop(request.session.get("sid", ""), None)
    # The browser's cookie is replaced by one without the user. In the flawed variant that is
    # all: the old signed cookie, replayed, is as valid as before.
    request.session.clear()
    flash(request, "You have been signed out.")
    return RedirectResponse(request.url_for("sign_in"), status_code=303)


# ---------------------------------------------------------------- password reset by e-mail


def send_mail(to: str, subject: str, body: str) -> None:
    """Plain SMTP (no TLS, no AUTH) to serve's --mail-to; without it nothing is sent. Runs as
    the answer's BackgroundTask; a failure is dropped (logged to stderr with ZOO_VERBOSE=1)."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = MAIL_FROM, to, subject
    message.set_content(body, cte="7bit")  # ASCII text: the link stays on one line
    if not MAIL_TO:
        if VERBOSE:
            print("starlette-app: no --mail-to, not sent:\n%s" % message, file=sys.stderr)
        return
    host, _, port = MAIL_TO.rpartition(":")
    try:
        with smtplib.SMTP(host.strip("[]"), int(port), timeout=5) as smtp:
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        if VERBOSE:
            print("starlette-app: mail to %s not sent: %s" % (to, exc), file=sys.stderr)


def issue_reset_token(user: dict) -> str:
    token = secrets.token_urlsafe(32)
    with reset_lock:
        if HARDENED:
            # A newer link voids the older ones of the same account.
            for old in [t for t, r in RESET_TOKENS.items() if r["username"] == user["username"]]:
                del RESET_TOKENS[old]
        RESET_TOKENS[token] = {"username": user["username"], "expires": time.time() + RESET_LIFETIME}
    return token


def reset_user(token: str) -> dict | None:
    """The account a reset token is for, if the token is known and not expired."""
    with reset_lock:
        record = RESET_TOKENS.get(token)
        if record is None or record["expires"] <= time.time():
            RESET_TOKENS.pop(token, None)
            return None
    return USERS.get(record["username"])


def reset_link(request: Request, token: str) -> str:
    if HARDENED:
        # From the configured public address: a request's Host says nothing about the site.
        return str(request.app.url_path_for("reset_password", token=token).make_absolute_url(PUBLIC_URL))
    # From the request (url_for follows its Host header), and "we run behind a proxy", so an
    # X-Forwarded-Host is preferred when present. Whoever asks for alice's reset picks the host
    # her link points at.
    link = request.url_for("reset_password", token=token)
    forwarded = request.headers.get("x-forwarded-host", "").split(",")[0].strip()
    if forwarded:
        link = link.replace(netloc=forwarded)
    return str(link)


RESET_SENT = "If an account exists for that address, we sent a link."


async def forgot_password(request: Request) -> Response:
    if request.method == "GET":
        return render(request, "forgot_password.html")

    form = await request.form()
    if not csrf_ok(request, form.get("csrf_token")):
        return render(request, "forgot_password.html", {"error": "The form has expired, please try again."}, 403)
    email = form.get("email")
    if not isinstance(email, str) or not email.strip():
        return render(request, "forgot_password.html", {"error": "Enter your e-mail address."})
    email = email.strip().lower()
    if HARDENED:
        key = (email, request.client.host if request.client else "")
        wait = reset_limiter.retry_after(key)
        if wait:
            error = "Too many reset requests for this address. Try again in a minute."
            return render(request, "forgot_password.html", {"error": error}, 429, {"Retry-After": str(wait)})
        reset_limiter.fail(key)  # every request counts: each one may send a mail
    user = next((u for u in USERS.values() if u["email"].lower() == email), None)
    mail = None
    if user is not None:
        token = issue_reset_token(user)
        body = (
            "Hello %s,\n\n"
            "someone (hopefully you) asked to reset the password of your Notes account.\n"
            "Choose a new password here:\n\n"
            "%s\n\n"
            "This link expires in %s.\n\n"
            "If you did not ask for this, ignore this e-mail: your password stays as it is.\n"
        ) % (user["username"], reset_link(request, token), RESET_LIFETIME_TEXT)
        mail = BackgroundTask(send_mail, user["email"], "Reset your Notes password", body)
    # The same page whether or not the address is known (no enumeration); the mail goes out
    # after the answer.
    return render(request, "forgot_password.html", {"sent": RESET_SENT}, background=mail)


async def reset_password(request: Request) -> Response:
    token = request.path_params["token"]
    user = reset_user(token)
    if user is None:
        return render(request, "reset_invalid.html")
    if request.method == "GET":
        return render(request, "reset_password.html", {"token": token})

    form = await request.form()
    if not csrf_ok(request, form.get("csrf_token")):
        error = "The form has expired, please try again."
        return render(request, "reset_password.html", {"token": token, "error": error}, 403)
    new, confirm = form.get("new_password"), form.get("confirm_password")
    if not isinstance(new, str) or not new or not isinstance(confirm, str):
        return render(request, "reset_password.html", {"token": token, "error": "Enter a new password."})
    if new != confirm:
        return render(request, "reset_password.html", {"token": token, "error": "The two passwords differ."})
    salt = secrets.token_bytes(16)
    user["salt"], user["hash"] = salt, hash_password(new, salt)
    if HARDENED:
        with reset_lock:
            RESET_TOKENS.pop(token, None)  # a link works once
    flash(request, "Your password has been set. You can sign in with it now.", "success")
    return RedirectResponse(request.url_for("sign_in"), status_code=303)


# ---------------------------------------------------------------- JSON API (in the schema)


async def me(request: Request) -> Response:
    """
    summary: The signed-in user.
    responses:
      200:
        description: The user's username and email.
        content:
          application/json:
            example: {"username": "alice", "email": "alice@example.com"}
      401:
        description: Not signed in.
    """
    user = current_user(request)
    if user is None:
        return unauthorized()
    return JSONResponse({"username": user["username"], "email": user["email"]})


class Notes(HTTPEndpoint):
    PAGE_SIZE = 20

    async def get(self, request: Request) -> Response:
        """
        summary: The signed-in user's notes.
        parameters:
          - name: page
            in: query
            schema: {type: integer, default: 1}
        responses:
          200:
            description: A page of notes.
            content:
              application/json:
                example: {"notes": [{"id": "5f0c...", "title": "Groceries", "body": "eggs", "owner": "alice"}], "page": 1}
          401:
            description: Not signed in.
        """
        user = current_user(request)
        if user is None:
            return unauthorized()
        if HARDENED:
            try:
                page = int(request.query_params.get("page", "1"))
            except ValueError:
                return JSONResponse({"detail": "page must be an integer"}, status_code=400)
        else:
            page = int(request.query_params.get("page", "1"))
        mine = [n for n in NOTES.values() if n["owner"] == user["username"]]
        start = (max(page, 1) - 1) * self.PAGE_SIZE
        return JSONResponse({"notes": mine[start : start + self.PAGE_SIZE], "page": page})

    async def post(self, request: Request) -> Response:
        """
        summary: Create a note.
        requestBody:
          content:
            application/json:
              schema:
                type: object
                properties: {title: {type: string}, body: {type: string}}
        responses:
          201:
            description: The new note.
          401:
            description: Not signed in.
        """
        user = current_user(request)
        if user is None:
            return unauthorized()
        if HARDENED and not csrf_ok(request, request.headers.get("x-csrf-token")):
            return JSONResponse({"detail": "CSRF token missing or incorrect"}, status_code=403)
        try:
            data = await request.json()
        except ValueError:
            return JSONResponse({"detail": "Send a JSON object"}, status_code=400)
        if not isinstance(data, dict) or not isinstance(data.get("title"), str):
            return JSONResponse({"detail": "title is required"}, status_code=400)
        note_id = str(uuid.uuid4())
        note = {"id": note_id, "title": data["title"], "body": str(data.get("body", "")), "owner": user["username"]}
        NOTES[note_id] = note
        return JSONResponse(note, status_code=201)


async def note_detail(request: Request) -> Response:
    """
    summary: One of the signed-in user's notes.
    parameters:
      - name: note_id
        in: path
        required: true
        schema: {type: string, format: uuid}
    responses:
      200:
        description: The note.
      401:
        description: Not signed in.
      404:
        description: No such note of this user.
    """
    user = current_user(request)
    if user is None:
        return unauthorized()
    note = NOTES.get(request.path_params["note_id"])
    if note is None or note["owner"] != user["username"]:
        return JSONResponse({"detail": "Not found"}, status_code=404)
    return JSONResponse(note)


async def openapi_schema(request: Request) -> Response:
    return schemas.OpenAPIResponse(request=request)


# ---------------------------------------------------------------- the app


class SecurityHeaders:
    """Hardened only: the headers Starlette never sets, on every response."""

    HEADERS = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
        (b"content-security-policy", b"default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
        (b"cache-control", b"no-store"),
    ]

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + self.HEADERS
            await send(message)

        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        await self.app(scope, receive, send_with_headers)


routes = [
    Route("/", homepage, include_in_schema=False),
    Route("/account/sign-in", sign_in, methods=["GET", "POST"], name="sign_in", include_in_schema=False),
    Route("/account/sign-out", sign_out, methods=["POST"], name="sign_out", include_in_schema=False),
    Route(
        "/account/forgot-password",
        forgot_password,
        methods=["GET", "POST"],
        name="forgot_password",
        include_in_schema=False,
    ),
    Route(
        "/account/reset-password/{token}",
        reset_password,
        methods=["GET", "POST"],
        name="reset_password",
        include_in_schema=False,
    ),
    Route("/api/me", me),
    Route("/api/notes", Notes),
    Route("/api/notes/{note_id}", note_detail),
    Route("/schema", openapi_schema, include_in_schema=False),
]

if HARDENED:
    middleware = [
        Middleware(SecurityHeaders),
        # Secure cookie, SameSite=Strict, 8-hour sessions.
        Middleware(SessionMiddleware, secret_key=SECRET_KEY, https_only=True, same_site="strict", max_age=8 * 3600),
    ]
else:
    # Starlette's defaults: https_only=False (no Secure flag), same_site="lax", 14 days.
    middleware = [Middleware(SessionMiddleware, secret_key=SECRET_KEY)]

# The docs' own examples construct the app with debug=True: unhandled errors answer with the
# traceback. The hardened app keeps the default (False).
app = Starlette(debug=not HARDENED, routes=routes, middleware=middleware)
