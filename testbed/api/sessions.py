"""Turning an authenticated user into a Django session (form login and token bridge)."""

from __future__ import annotations

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, login, user_logged_in

from project.flaws import flaw_on

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def start_session(request, user) -> None:
    """Log ``user`` into ``request``'s session (a Django HttpRequest)."""
    if flaw_on("session_fixation"):
        # INTENTIONALLY VULNERABLE (session_fixation): a hand-rolled login "so the anonymous
        # basket survives" - the user id is written into the *existing* session and the
        # session key is never rotated (no cycle_key(), no flush()). Whoever planted or
        # learned the pre-login session id is now logged in as the victim.
        request.session[SESSION_KEY] = user._meta.pk.value_to_string(user)
        request.session[BACKEND_SESSION_KEY] = MODEL_BACKEND
        request.session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        request.user = user
        user_logged_in.send(sender=user.__class__, request=request, user=user)
        return
    # Hardened: django.contrib.auth.login() rotates the session key (cycle_key) and the
    # CSRF token.
    login(request, user, backend=MODEL_BACKEND)
