"""E-mail backend of the testbed when it has no `serve --mail-to` and TESTBED_VERBOSE=1."""

from __future__ import annotations

import sys

from django.core.mail.backends.console import EmailBackend as ConsoleEmailBackend


class StderrEmailBackend(ConsoleEmailBackend):
    """Django's console backend, writing to stderr: stdout carries only serve's `ready` line."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("stream", sys.stderr)
        super().__init__(*args, **kwargs)
