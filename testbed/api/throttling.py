"""Failed-attempt limiting for login and token endpoints.

Only failures count and only failures are refused: a correct password (or a valid refresh
token) always goes through, so a locked-out attacker cannot lock out the real user either.
After ``limit`` failures inside the window, further failures answer 429 with Retry-After
instead of 401/400.

The client identity comes from DRF's ``BaseThrottle.get_ident``, which honours
REST_FRAMEWORK["NUM_PROXIES"] (0 in the hardened settings: REMOTE_ADDR only).
"""

from __future__ import annotations

import threading
import time
from collections import deque

from django.conf import settings
from django.core.cache import cache
from rest_framework.exceptions import Throttled
from rest_framework.throttling import BaseThrottle

from project.flaws import flaw_on


def client_ident(request) -> str:
    """Client address as DRF throttles see it (works for Django and DRF requests)."""
    return BaseThrottle().get_ident(request)


class FailureLimiter:
    """Sliding-window counter of failures per key, kept in the (process-local) cache."""

    def __init__(self, scope: str, limit: int, window: int) -> None:
        self.scope = scope
        self.limit = limit
        self.window = window

    def _key(self, request, discriminator: str) -> str:
        return "failures:%s:%s:%s" % (self.scope, client_ident(request), discriminator.lower()[:150])

    def register_failure(self, request, discriminator: str = "") -> int | None:
        """Record one failure; return seconds to wait if the limit is now exceeded."""
        key = self._key(request, discriminator)
        now = time.monotonic()
        stamps = [t for t in cache.get(key, []) if now - t < self.window]
        stamps.append(now)
        cache.set(key, stamps, self.window)
        if len(stamps) > self.limit:
            return max(1, int(self.window - (now - stamps[0])) + 1)
        return None

    def failed(self, request, discriminator: str = "") -> None:
        """Record one failure and raise DRF's Throttled (429) when over the limit."""
        wait = self.register_failure(request, discriminator)
        if wait is not None:
            raise Throttled(wait=wait, detail="Too many failed attempts. Try again in %d seconds." % wait)


def login_limiter(endpoint: str) -> FailureLimiter | None:
    """Limiter for a login endpoint, keyed per (client, username); None when switched off."""
    if endpoint == "token" and flaw_on("no_login_throttle"):
        # INTENTIONALLY VULNERABLE (no_login_throttle): the JWT login endpoint was added
        # later by another team and never got the failed-login throttle the other login
        # endpoints have; password guessing against /api/token/ is unlimited.
        return None
    return FailureLimiter("login-" + endpoint, settings.LOGIN_FAILURE_LIMIT, settings.FAILURE_WINDOW_SECONDS)


def token_limiter(endpoint: str) -> FailureLimiter | None:
    """Limiter for refresh / verify / blacklist / password reset, keyed per client."""
    if flaw_on("no_token_throttle"):
        # INTENTIONALLY VULNERABLE (no_token_throttle): token and reset endpoints accept
        # unlimited failed attempts (token guessing, reset-mail flooding).
        return None
    return FailureLimiter("token-" + endpoint, settings.TOKEN_FAILURE_LIMIT, settings.FAILURE_WINDOW_SECONDS)


class LoginPacer:
    """throttled_login: at most ``limit`` login POSTs per client per rolling ``window``
    seconds, successful or not (api.middleware.LoginPacingMiddleware).

    Not a flaw: the switch makes the scanner pace itself. Refused attempts are not counted,
    so a client that waits ``window`` seconds always gets through. Kept in a lock-protected
    dict (the cache's read-modify-write is not atomic across the server's threads).
    """

    def __init__(self, limit: int, window: int) -> None:
        self.limit = limit
        self.window = window
        self._lock = threading.Lock()
        self._stamps: dict[str, deque[float]] = {}

    def admit(self, request) -> bool:
        """Record one attempt and return True, or return False when over the limit."""
        key = client_ident(request)
        now = time.monotonic()
        with self._lock:
            for ident in [k for k, v in self._stamps.items() if not v or now - v[-1] >= self.window]:
                del self._stamps[ident]
            stamps = self._stamps.setdefault(key, deque())
            while stamps and now - stamps[0] >= self.window:
                stamps.popleft()
            if len(stamps) >= self.limit:
                return False
            stamps.append(now)
            return True


login_pacer = LoginPacer(settings.LOGIN_PACE_LIMIT, settings.LOGIN_PACE_WINDOW_SECONDS)
