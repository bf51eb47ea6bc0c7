"""Models of the testbed API."""

import uuid

from django.conf import settings
from django.db import models


class Profile(models.Model):
    """Per-user data that does not fit on auth.User."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    phone = models.CharField(max_length=32, blank=True)
    # Bumped on password change; access tokens carry it in the "gen" claim and are rejected
    # once it no longer matches (revokes every outstanding access token of the user).
    token_generation = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return "profile of %s" % self.user


class Note(models.Model):
    """A private note: only its owner may read it (unless a flaw says otherwise)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notes")
    # The id the API shows and routes by: random, so note URLs cannot be enumerated
    # (the integer primary key stays internal unless the enumerable_ids flaw is on).
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(max_length=200)
    body = models.TextField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.title


class Post(models.Model):
    """A public blog post."""

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="posts")
    title = models.CharField(max_length=200)
    body = models.TextField()
    published = models.DateTimeField()

    class Meta:
        ordering = ["-published", "id"]

    def __str__(self) -> str:
        return self.title


class RevokedAccessToken(models.Model):
    """Access-token ids revoked by /api/logout/ before their natural expiry."""

    jti = models.CharField(max_length=255, unique=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.jti


class ApiKey(models.Model):
    """Keys and codes issued by /api/keys/ and its legacy variants."""

    SCHEMES = [
        ("random", "secrets.token_urlsafe(32)"),
        ("invite", "sequential invite code"),
        ("legacy", "md5(username) legacy key"),
        ("pairing", "6-hex-digit pairing code"),
    ]

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    key = models.CharField(max_length=128)
    scheme = models.CharField(max_length=16, choices=SCHEMES)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return "%s key of %s" % (self.scheme, self.owner)


class JwtKey(models.Model):
    """HMAC keys of the key-rotation token family (/api/kid/), one row per ``kid``.

    Filled at every start with that start's random key (api.kid.kid_keys).
    """

    kid = models.CharField(max_length=64, primary_key=True)
    key = models.CharField(max_length=128)

    class Meta:
        db_table = "jwt_keys"

    def __str__(self) -> str:
        return self.kid
