"""Receipts: /api/receipts/, /api/receipts/<id>/ and /api/receipt-lookup/<receipt_id>/.

A read-only resource without a database model: every start draws three receipts for
alice and three for bob, each with a random public id (``rcpt_`` + 16 hex digits, never a
sequential integer). Authentication is the API's default (JWT Bearer, DRF Token, session);
anonymous callers get the usual 401.

Hardened: the list holds the caller's receipts with the absolute URL of each, and both
detail routes answer 404 (the body of a missing id) for anybody but the owner.

Three flaw switches take the owner check off a detail route and change the list's shape,
so that a scanner has to find the objects' URLs in different ways:

- ``ids_without_urls``: the list is a bare array without ``url``; ``/api/receipts/<id>/``
  serves any receipt (the URL is the collection path plus the id).
- ``enveloped_list``: the list is wrapped in ``{"status", "meta", "data": {"receipts"}}``
  (no ``url``); ``/api/receipts/<id>/`` serves any receipt, wrapped in ``{"status", "data"}``.
- ``spec_bad_examples``: the list has ids and no ``url``; ``/api/receipts/<id>/`` stays
  owner-only, ``/api/receipt-lookup/<receipt_id>/`` serves any receipt, and the schema's
  examples for both path parameters name a receipt that does not exist (api.schema).
"""

from __future__ import annotations

import secrets
from datetime import date

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from project.flaws import flaw_on

# (owner user id, merchant, total, created): alice is user 1, bob user 2 (api.seed).
_SEED = [
    (1, "Corner Bakery", "12.50", date(2026, 1, 5)),
    (1, "City Pharmacy", "23.90", date(2026, 1, 19)),
    (1, "Northside Books", "41.00", date(2026, 2, 2)),
    (2, "Harbor Hardware", "87.25", date(2026, 1, 8)),
    (2, "Green Grocer", "18.40", date(2026, 1, 27)),
    (2, "Metro Transit", "2.75", date(2026, 2, 11)),
]


def _draw_receipts() -> dict[str, dict]:
    receipts = {}
    for owner_id, merchant, total, created in _SEED:
        receipt_id = "rcpt_" + secrets.token_hex(8)
        receipts[receipt_id] = {
            "id": receipt_id,
            "owner_id": owner_id,
            "merchant": merchant,
            "total": total,
            "created": created.isoformat(),
        }
    return receipts


# Drawn once per process (per start); read-only afterwards.
RECEIPTS: dict[str, dict] = _draw_receipts()

# A well-formed receipt id that belongs to nobody (the schema's example under spec_bad_examples).
NONEXISTENT_RECEIPT_ID = "rcpt_" + "0" * 16


def public(receipt: dict) -> dict:
    """The receipt as the API shows it (without the owner)."""
    return {key: receipt[key] for key in ("id", "merchant", "total", "created")}


def owned_by(user) -> list[dict]:
    return [r for r in RECEIPTS.values() if r["owner_id"] == user.pk]


def lookup(receipt_id: str, user, *, any_owner: bool) -> dict:
    """The receipt, or NotFound (the same 404 for a missing id and another user's id)."""
    receipt = RECEIPTS.get(receipt_id)
    if receipt is None or (not any_owner and receipt["owner_id"] != user.pk):
        raise NotFound()
    return receipt


def list_shape() -> str:
    """Which list shape this start serves (enveloped_list wins, then ids_without_urls)."""
    if flaw_on("enveloped_list"):
        return "enveloped"
    if flaw_on("ids_without_urls"):
        return "bare"
    if flaw_on("spec_bad_examples"):
        return "no_urls"
    return "hardened"


# --- Schema (drf-spectacular): the shapes this start really serves ----------------------

def _receipt_fields(with_url: bool = False) -> dict:
    fields = {"id": serializers.CharField()}
    if with_url:
        fields["url"] = serializers.URLField()
    fields.update(merchant=serializers.CharField(), total=serializers.CharField(), created=serializers.DateField())
    return fields


def _list_response():
    shape = list_shape()
    if shape == "enveloped":
        return inline_serializer(
            "ReceiptListEnvelope",
            fields={
                "status": serializers.CharField(),
                "meta": inline_serializer("ReceiptListMeta", fields={"count": serializers.IntegerField()}),
                "data": inline_serializer(
                    "ReceiptListData",
                    fields={"receipts": inline_serializer("Receipt", fields=_receipt_fields(), many=True)},
                ),
            },
        )
    if shape == "bare":
        return inline_serializer("Receipt", fields=_receipt_fields(), many=True)
    with_url = shape == "hardened"
    return inline_serializer(
        "ReceiptList",
        fields={
            "count": serializers.IntegerField(),
            "results": inline_serializer(
                "LinkedReceipt" if with_url else "Receipt", fields=_receipt_fields(with_url), many=True
            ),
        },
    )


def _detail_response():
    if flaw_on("enveloped_list"):
        return inline_serializer(
            "ReceiptEnvelope",
            fields={"status": serializers.CharField(), "data": inline_serializer("Receipt", fields=_receipt_fields())},
        )
    return inline_serializer("Receipt", fields=_receipt_fields())


def _path_parameter(name: str) -> OpenApiParameter:
    # spec_bad_examples adds an `example` to these parameters (api.schema.receipt_examples_hook).
    return OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.PATH, description="public receipt id (rcpt_...)")


# --- Views -------------------------------------------------------------------------------


class ReceiptListView(APIView):
    """GET /api/receipts/ - the caller's receipts."""

    http_method_names = ["get", "head", "options"]

    @extend_schema(operation_id="receipts_list", responses={200: _list_response()})
    def get(self, request):
        items = [public(r) for r in owned_by(request.user)]
        shape = list_shape()
        if shape == "enveloped":
            # INTENTIONALLY VULNERABLE (enveloped_list): the mobile team's envelope; the
            # objects carry ids but no URL (and their detail route has no owner check).
            return Response({"status": "ok", "meta": {"count": len(items)}, "data": {"receipts": items}})
        if shape == "bare":
            # INTENTIONALLY VULNERABLE (ids_without_urls): a bare array of ids, no URL (and
            # the detail route under the collection path has no owner check).
            return Response(items)
        if shape == "no_urls":
            # INTENTIONALLY VULNERABLE (spec_bad_examples): ids without URL; the only route
            # that serves them to other users is the schema's /api/receipt-lookup/ template.
            return Response({"count": len(items), "results": items})
        results = [
            {
                "id": item["id"],
                "url": request.build_absolute_uri(reverse("receipt-detail", kwargs={"id": item["id"]})),
                **{k: item[k] for k in ("merchant", "total", "created")},
            }
            for item in items
        ]
        return Response({"count": len(results), "results": results})


class ReceiptDetailView(APIView):
    """GET /api/receipts/<id>/ - one receipt (owner only, hardened)."""

    http_method_names = ["get", "head", "options"]

    @extend_schema(
        operation_id="receipts_retrieve", parameters=[_path_parameter("id")], responses={200: _detail_response()}
    )
    def get(self, request, id):  # noqa: A002 - the URL parameter is called id
        # INTENTIONALLY VULNERABLE (ids_without_urls, enveloped_list): "the ids are random,
        # nobody can guess them" - the detail lookup is not scoped to the caller.
        any_owner = flaw_on("ids_without_urls") or flaw_on("enveloped_list")
        receipt = public(lookup(id, request.user, any_owner=any_owner))
        if flaw_on("enveloped_list"):
            return Response({"status": "ok", "data": receipt})
        return Response(receipt)


class ReceiptLookupView(APIView):
    """GET /api/receipt-lookup/<receipt_id>/ - one receipt by id, for the support screens
    (owner only, hardened). Not under the collection path; only the schema names it."""

    http_method_names = ["get", "head", "options"]

    @extend_schema(
        operation_id="receipt_lookup_retrieve",
        parameters=[_path_parameter("receipt_id")],
        responses={200: inline_serializer("Receipt", fields=_receipt_fields())},
    )
    def get(self, request, receipt_id):
        # INTENTIONALLY VULNERABLE (spec_bad_examples): the lookup route the support screens
        # use serves any receipt to any signed-in user.
        receipt = lookup(receipt_id, request.user, any_owner=flaw_on("spec_bad_examples"))
        return Response(public(receipt))
