"""drf-spectacular extensions: how the testbed's own authentication classes appear in the
OpenAPI schema served at /api/schema/ (drf-spectacular knows the stock DRF and simplejwt
classes, not subclasses or hand-written ones)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class _Bearer(OpenApiAuthenticationExtension):
    match_subclasses = True
    priority = 1

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


class ApiJWTScheme(_Bearer):
    target_class = "api.authentication.ApiJWTAuthentication"
    name = "jwtAuth"


class FamilyBearerScheme(_Bearer):
    """The key-rotation (kid) and ES256 token families."""

    target_class = "api.bearer.FamilyBearerAuthentication"
    name = "familyJwtAuth"


class PartnerScheme(_Bearer):
    """The RS256 partner API."""

    target_class = "api.rs256.PartnerTokenAuthentication"
    name = "partnerJwtAuth"


class KnoxScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.KnoxTokenAuthentication"
    name = "knoxAuth"
    priority = 1

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization", "description": 'knox token, prefix "Token"'}
