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


def spec_drift_hook(result, generator, request, public):
    """INTENTIONALLY VULNERABLE (spec_drift): the schema was "enriched" by hand with an HTTP
    Basic scheme copied from another project; the API has never accepted Basic auth."""
    from project.flaws import flaw_on

    if not flaw_on("spec_drift"):
        return result
    schemes = result.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes["basicAuth"] = {"type": "http", "scheme": "basic"}
    for item in result.get("paths", {}).values():
        for operation in item.values():
            security = operation.get("security") if isinstance(operation, dict) else None
            if security and {} not in security:
                security.insert(0, {"basicAuth": []})
    return result


def receipt_examples_hook(result, generator, request, public):
    """INTENTIONALLY VULNERABLE (spec_bad_examples): the schema's examples for the receipt
    path parameters were copied from a fixture and name a receipt that does not exist
    (it answers 404): a scanner that fills templates with the declared examples reaches
    nothing; only ids read from the list, put into /api/receipt-lookup/{receipt_id}/, reach
    other users' receipts."""
    from project.flaws import flaw_on

    if not flaw_on("spec_bad_examples"):
        return result
    from api.views.receipts import NONEXISTENT_RECEIPT_ID

    targets = {"/api/receipts/{id}/": "id", "/api/receipt-lookup/{receipt_id}/": "receipt_id"}
    for path, name in targets.items():
        for operation in result.get("paths", {}).get(path, {}).values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path" and parameter.get("name") == name:
                    parameter["example"] = NONEXISTENT_RECEIPT_ID
                    parameter.setdefault("schema", {})["example"] = NONEXISTENT_RECEIPT_ID
    return result
