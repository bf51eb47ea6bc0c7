from django.contrib.auth import get_user_model
from oauth2_provider.models import get_application_model

from notes.models import Note

CLIENT_ID = "zoo-public-client"  # documented in README: DOT needs it on /o/token/


def seed():
    """The contract's two plain users with a few notes each, and the OAuth2 client app."""
    User = get_user_model()
    for name, password in (("alice", "alice-pass-1"), ("bob", "bob-pass-2")):
        user = User.objects.create_user(name, "%s@example.com" % name, password)
        for i in (1, 2, 3):
            Note.objects.create(owner=user, title="%s's note %d" % (name, i), body="private to %s" % name)
    # What the tutorial registers in the admin, but public (no secret, like a mobile app/SPA).
    Application = get_application_model()
    Application.objects.create(
        name="zoo",
        client_id=CLIENT_ID,
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_PASSWORD,
    )
