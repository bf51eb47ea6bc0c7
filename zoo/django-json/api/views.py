"""The hand-written JSON API (plain Django views, no DRF).

Every answer is {"status": "ok", "data": ...} or {"status": "error", "error": "..."}.
Credentials: `Authorization: Bearer <auth_token>` from POST /api/v1/auth/signin.
The views are csrf_exempt as usual for such APIs: no cookies are involved.
Each INTENTIONALLY VULNERABLE line is fixed under `settings.HARDENED`.
"""

import json
import time
import uuid
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.core.cache import cache
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from api.models import AuthToken, Item

TOKEN_TTL = timedelta(hours=1)  # hardened only: flawed tokens never expire
LOGIN_LIMIT, LOGIN_WINDOW = 5, 60  # hardened: 5 failures per (IP, login) a minute


def ok(data=None, status=200):
    return JsonResponse({"status": "ok"} if data is None else {"status": "ok", "data": data}, status=status)


def error(message, status):
    response = JsonResponse({"status": "error", "error": message}, status=status)
    if status == 401 and settings.HARDENED:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    # INTENTIONALLY VULNERABLE (flawed): 401s carry no WWW-Authenticate challenge.
    return response


def methods(*allowed):
    """Answer 405 (JSON) for any other method; HEAD goes with GET."""
    allowed = set(allowed) | ({"HEAD"} if "GET" in allowed else set())

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method not in allowed:
                response = error("method not allowed", 405)
                response["Allow"] = ", ".join(sorted(allowed))
                return response
            return view(request, *args, **kwargs)

        return csrf_exempt(wrapped)

    return decorator


def auth_required(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        token = None
        if scheme.lower() == "bearer" and key.strip():
            token = AuthToken.objects.select_related("user").filter(key=key.strip()).first()
        if token is not None and settings.HARDENED and timezone.now() - token.created > TOKEN_TTL:
            token.delete()
            token = None
        if token is None or not token.user.is_active:
            return error("authentication required", 401)
        request.user, request.auth = token.user, token
        return view(request, *args, **kwargs)

    return wrapped


def json_body(request):
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


@methods("POST")
def signin(request):
    """POST {"login", "pass"} -> {"auth_token", "user": {"id", "login"}}."""
    body = json_body(request)
    if body is None:
        return error("invalid JSON body", 400)
    login, password = str(body.get("login") or ""), str(body.get("pass") or "")
    if not login or not password:
        return error("login and pass are required", 400)

    if settings.HARDENED:
        key = "signin-failures:%s:%s" % (request.META.get("REMOTE_ADDR", ""), login.lower()[:150])
        now = time.monotonic()
        failures = [t for t in cache.get(key, []) if now - t < LOGIN_WINDOW]
        if len(failures) >= LOGIN_LIMIT:
            # Locked out: even a correct password waits, or 429-vs-200 would still be an oracle.
            response = error("too many failed attempts, try again later", 429)
            response["Retry-After"] = str(int(LOGIN_WINDOW - (now - failures[0])) + 1)
            return response
        user = authenticate(request, username=login, password=password)  # hashes for unknown users too
        if user is None:
            cache.set(key, failures + [now], LOGIN_WINDOW)
            return error("invalid login or password", 401)
    else:
        # INTENTIONALLY VULNERABLE (flawed): "helpful" messages tell unknown users from
        # wrong passwords (AUTH005), and nothing counts failures (RATE001).
        user = get_user_model().objects.filter(username=login, is_active=True).first()
        if user is None:
            return error("no such user", 401)
        if not user.check_password(password):
            return error("wrong password", 401)

    token = AuthToken.objects.create(user=user)
    return ok({"auth_token": token.key, "user": {"id": user.pk, "login": user.username}})


@methods("POST")
@auth_required
def signout(request):
    if settings.HARDENED:
        request.auth.delete()
    # INTENTIONALLY VULNERABLE (flawed): answers ok but keeps the token row, so the
    # "signed out" token goes on working ("the app forgets it anyway").
    return ok()


@methods("GET")
@auth_required
def profile(request):
    user = request.user
    return ok({"id": user.pk, "login": user.username, "email": user.email})


def item_json(item):
    # INTENTIONALLY VULNERABLE (flawed): the sequential primary key is the public id.
    return {"id": str(item.public_id) if settings.HARDENED else item.pk, "name": item.name,
            "created": item.created.isoformat()}


@methods("GET", "POST")
@auth_required
def items(request):
    if request.method == "POST":
        body = json_body(request)
        name = str((body or {}).get("name") or "").strip()
        if not name:
            return error("name is required", 400)
        return ok(item_json(Item.objects.create(owner=request.user, name=name[:200])), status=201)
    return ok([item_json(i) for i in Item.objects.filter(owner=request.user)])


@methods("GET")
@auth_required
def item_detail(request, item_id):
    mine = Item.objects.filter(owner=request.user)  # owner-scoped in both variants
    try:
        item = mine.get(public_id=uuid.UUID(item_id)) if settings.HARDENED else mine.get(pk=int(item_id))
    except (ValueError, Item.DoesNotExist):
        return error("not found", 404)
    return ok(item_json(item))


def not_found(request, exception=None):
    return error("not found", 404)


def server_error(request):
    return error("internal error", 500)


class ContentSecurityPolicyMiddleware:
    """Hardened: a CSP on every response (Django 5.1 has none built in)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
        return response
