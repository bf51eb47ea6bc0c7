"""Serializers of the testbed API."""

from __future__ import annotations

import jwt
from django.contrib.auth import get_user_model, password_validation
from rest_framework import exceptions, serializers
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.serializers import (
    TokenObtainPairSerializer,
    TokenRefreshSerializer,
    TokenVerifySerializer,
)

from project.flaws import flaw_on

from .models import Note, Post, Profile
from .tokens import ApiRefreshToken, TokenRejected, decode_access_token

User = get_user_model()


class ApiTokenObtainPairSerializer(TokenObtainPairSerializer):
    """POST /api/token/ {"username", "password"} -> {"access", "refresh"}."""

    token_class = ApiRefreshToken

    @classmethod
    def get_token(cls, user):
        token = super().get_token(user)
        if flaw_on("sensitive_claims"):
            # INTENTIONALLY VULNERABLE (sensitive_claims): "saves the frontend a /me call" -
            # PII, the admin flag and even the password hash ride in a token that is only
            # base64-encoded, stored in localStorage and pasted into bug reports.
            profile, _ = Profile.objects.get_or_create(user=user)
            token["email"] = user.email
            token["is_superuser"] = user.is_superuser
            token["phone"] = profile.phone
            token["pwd_hash"] = user.password
        return token

    def validate(self, attrs):
        if flaw_on("user_enum"):
            # INTENTIONALLY VULNERABLE (user_enum): "helpful" login errors tell an attacker
            # which usernames exist.
            username = attrs.get(self.username_field, "")
            if not User.objects.filter(**{self.username_field: username}).exists():
                raise exceptions.AuthenticationFailed("No account found with this username.", "no_such_user")
            try:
                return super().validate(attrs)
            except exceptions.AuthenticationFailed:
                raise exceptions.AuthenticationFailed("Incorrect password.", "wrong_password") from None
        return super().validate(attrs)


class ApiTokenRefreshSerializer(TokenRefreshSerializer):
    """POST /api/token/refresh/ with rotation (+ blacklist of the old token unless refresh_reuse)."""

    token_class = ApiRefreshToken


class ApiTokenVerifySerializer(TokenVerifySerializer):
    """POST /api/token/verify/: access tokens get exactly the checks the API applies."""

    def validate(self, attrs):
        raw = attrs["token"]
        try:
            token_type = jwt.decode(raw, options={"verify_signature": False}).get("token_type")
        except jwt.InvalidTokenError as exc:
            raise InvalidToken("Token is invalid") from exc
        if token_type != "access":
            return super().validate(attrs)
        try:
            decode_access_token(raw)
        except TokenRejected as exc:
            raise InvalidToken(str(exc)) from exc
        return {}


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "email", "is_staff"]
        read_only_fields = ["id", "username", "is_staff"]


# Account fields a client may set. INTENTIONALLY VULNERABLE (mass_assignment): the
# serializers were written with `fields = "__all__"`-style lists that include the admin
# flags, so a client that adds "is_staff": true to its registration or profile update
# becomes staff.
PRIVILEGED_FIELDS = ["is_staff", "is_superuser"] if flaw_on("mass_assignment") else []


class ProfileUpdateSerializer(serializers.ModelSerializer):
    """PATCH /api/me/: the caller may change their email (and nothing else)."""

    class Meta:
        model = User
        fields = ["id", "username", "email", "is_staff", *PRIVILEGED_FIELDS]
        read_only_fields = ["id", "username"] + ([] if PRIVILEGED_FIELDS else ["is_staff"])


class RegisterSerializer(serializers.ModelSerializer):
    """Only username, email and password can be set (no is_staff & co.)."""

    password = serializers.CharField(write_only=True, style={"input_type": "password"})

    class Meta:
        model = User
        fields = ["id", "username", "email", "password", *PRIVILEGED_FIELDS]
        read_only_fields = ["id"]

    def validate(self, attrs):
        password_validation.validate_password(
            attrs["password"], User(username=attrs.get("username", ""), email=attrs.get("email", ""))
        )
        return attrs

    def create(self, validated_data):
        user = User.objects.create_user(
            username=validated_data["username"],
            email=validated_data.get("email", ""),
            password=validated_data["password"],
            **{field: validated_data[field] for field in PRIVILEGED_FIELDS if field in validated_data},
        )
        Profile.objects.get_or_create(user=user)
        return user


class PasswordChangeSerializer(serializers.Serializer):
    old_password = serializers.CharField(write_only=True)
    new_password = serializers.CharField(write_only=True)

    def validate_old_password(self, value):
        if not self.context["request"].user.check_password(value):
            raise serializers.ValidationError("Old password is incorrect.")
        return value

    def validate_new_password(self, value):
        password_validation.validate_password(value, self.context["request"].user)
        return value


# INTENTIONALLY VULNERABLE (enumerable_ids): notes are shown and routed by their integer
# primary key (1, 2, 3, ...) instead of their random public_id.
NOTE_LOOKUP_FIELD = "pk" if flaw_on("enumerable_ids") else "public_id"


class NoteSerializer(serializers.HyperlinkedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="note-detail", lookup_field=NOTE_LOOKUP_FIELD)
    owner = serializers.CharField(source="owner.username", read_only=True)
    if NOTE_LOOKUP_FIELD == "public_id":
        id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = Note
        fields = ["id", "url", "title", "body", "owner", "created"]


class PostSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", read_only=True)

    class Meta:
        model = Post
        fields = ["id", "title", "body", "author", "published"]
