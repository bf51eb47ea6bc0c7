"""Password recovery: the reset e-mail of POST /api/password/reset/ and the token generator
shared with the reset-link views (django.contrib.auth.views.PasswordResetConfirmView at
/reset/<uidb64>/<token>/, see project/urls.py).

The mail is Django's own: PasswordResetForm renders our templates
(templates/registration/testbed_password_reset_*.txt) with the request's site (RequestSite:
django.contrib.sites is not installed, so the link's domain is request.get_host()) and the
request's scheme, and sends it with the configured backend (serve --mail-to: SMTP).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator

from project.flaws import flaw_on

log = logging.getLogger(__name__)

SUBJECT_TEMPLATE = "registration/testbed_password_reset_subject.txt"
EMAIL_TEMPLATE = "registration/testbed_password_reset_email.txt"


class LoginSafeTokenGenerator(PasswordResetTokenGenerator):
    """INTENTIONALLY VULNERABLE (reset_token_reuse): a "fix" for support tickets about reset
    links that "stopped working after I logged in": the token hash no longer covers the
    password hash nor last_login, so nothing the reset does (setting the password) or the user
    does (logging in) invalidates it. A used link keeps working until PASSWORD_RESET_TIMEOUT;
    whoever finds it later in the mailbox, a forwarded mail or a proxy log sets a new password.
    """

    key_salt = "api.password_reset.LoginSafeTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        email = getattr(user, user.get_email_field_name(), "") or ""
        return f"{user.pk}{timestamp}{email}"


def reset_token_generator() -> PasswordResetTokenGenerator:
    """The token generator of reset links (mail and confirm view alike)."""
    if flaw_on("reset_token_reuse"):
        return LoginSafeTokenGenerator()
    # Hardened: Django's own - the hash covers the password hash and last_login, so a link
    # dies once used (the password changes) or once the user logs in.
    return default_token_generator


def human_duration(seconds: int) -> str:
    """3600 -> "1 hour", 259200 -> "3 days", 900 -> "15 minutes" (the largest exact unit)."""
    seconds = int(seconds)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return "%d %s%s" % (count, unit, "" if count == 1 else "s")
    return "%d second%s" % (seconds, "" if seconds == 1 else "s")


def send_reset_mail(request, email: str) -> None:
    """Mail a reset link to the active account(s) with this address, as Django's
    PasswordResetView does. ``request`` is the Django HttpRequest. Never raises: a mail that
    cannot be built or sent is logged (stderr, TESTBED_VERBOSE=1) and dropped."""
    form = PasswordResetForm({"email": email})
    if not form.is_valid():
        return
    try:
        form.save(
            request=request,
            use_https=request.is_secure(),
            token_generator=reset_token_generator(),
            subject_template_name=SUBJECT_TEMPLATE,
            email_template_name=EMAIL_TEMPLATE,
            extra_email_context={"expires_in": human_duration(settings.PASSWORD_RESET_TIMEOUT)},
        )
    except Exception:  # noqa: BLE001 - the answer must not depend on the mail
        log.warning("password reset mail for %r not sent", email, exc_info=True)
