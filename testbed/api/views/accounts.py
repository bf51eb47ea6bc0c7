"""Server-rendered session login: /accounts/login/ and /accounts/logout/."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect

from project.flaws import flaw_on

from ..sessions import start_session
from ..throttling import login_limiter


class AccountLoginView(auth_views.LoginView):
    """Django's LoginView plus a failed-login limit, a welcome message and our session helper."""

    template_name = "registration/login.html"

    def dispatch(self, request, *args, **kwargs):
        if flaw_on("csrf_exempt"):
            # INTENTIONALLY VULNERABLE (csrf_exempt): "the mobile webview could not fetch a
            # CSRF token" - the login form skips LoginView's csrf_protect (and the URLconf
            # wraps the view in csrf_exempt), enabling login CSRF.
            return super(auth_views.LoginView, self).dispatch(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        # Remember where to go after login. This opens the anonymous session, so the
        # browser holds a sessionid cookie before it logs in (login must rotate it).
        request.session["login_next"] = self.get_redirect_url() or self.get_default_redirect_url()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        form = self.get_form()
        if form.is_valid():
            return self.form_valid(form)
        limiter = login_limiter("form")
        if limiter is not None:
            wait = limiter.register_failure(request, request.POST.get("username", ""))
            if wait is not None:
                form.add_error(None, "Too many failed login attempts. Try again in %d seconds." % wait)
                response = self.render_to_response(self.get_context_data(form=form), status=429)
                response["Retry-After"] = str(wait)
                return response
        return self.form_invalid(form)

    def form_valid(self, form):
        user = form.get_user()
        start_session(self.request, user)
        # Stored by the messages framework in a cookie signed with SECRET_KEY.
        messages.success(self.request, "Welcome back, %s." % user.get_username())
        return HttpResponseRedirect(self.get_success_url())

    def get_redirect_url(self):
        if flaw_on("open_redirect"):
            # INTENTIONALLY VULNERABLE (open_redirect): the safety check "broke the redirect
            # back to our marketing site", so ?next= is followed wherever it points.
            return self.request.POST.get(self.redirect_field_name, self.request.GET.get(self.redirect_field_name, ""))
        return super().get_redirect_url()


class AccountLogoutView(auth_views.LogoutView):
    """POST /accounts/logout/ (CSRF protected) - flushes the session."""
