"""Seed data of the testbed (built once into the cached template database)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from django.contrib.auth import get_user_model
from django.db import transaction

from .models import Note, Post, Profile

USERS = [
    # (id, username, password, email, phone)
    (1, "alice", "alice-pass-1", "alice@example.com", "+1-555-0101"),
    (2, "bob", "bob-pass-2", "bob@example.com", "+1-555-0102"),
    (3, "editor", None, "editor@example.com", "+1-555-0103"),
]

NOTES = [
    (1, "alice", "Groceries", "Milk, eggs, and the spare key is under the mat."),
    (2, "alice", "Bank", "Account recovery code: 7731-0042 (do not share)."),
    (3, "bob", "Ideas", "A scanner that checks logout actually revokes tokens."),
]

POSTS = [
    ("Welcome to the testbed", "This API is intentionally vulnerable when flaws are switched on."),
    ("Rotating refresh tokens", "Rotate and blacklist: a stolen refresh token should die on first reuse."),
    ("Why sessions rotate at login", "cycle_key() is what keeps a planted session id useless."),
    ("Short-lived access tokens", "Five minutes is plenty when refresh works."),
    ("CSP for API teams", "Even JSON APIs ship HTML: login forms, the admin, error pages."),
]


@transaction.atomic
def seed() -> None:
    User = get_user_model()
    for pk, username, password, email, phone in USERS:
        user = User(id=pk, username=username, email=email)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        Profile.objects.create(user=user, phone=phone)
    # Staff user; its random password is set at every start (serve.py).
    admin = User(username="admin", email="admin@example.com", is_staff=True, is_superuser=True)
    admin.set_unusable_password()
    admin.save()
    Profile.objects.create(user=admin, phone="+1-555-0100")

    users = {u.username: u for u in User.objects.all()}
    for pk, owner, title, body in NOTES:
        Note.objects.create(id=pk, owner=users[owner], title=title, body=body)
    start = datetime(2024, 1, 1, 9, 0, tzinfo=timezone.utc)
    for i, (title, body) in enumerate(POSTS):
        Post.objects.create(author=users["editor"], title=title, body=body, published=start + timedelta(days=7 * i))
