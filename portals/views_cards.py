"""The app cards' endpoints (issue 16): `hubspot.fetch` from the contact, company and deal cards.

- `GET  /hubspot/cards/record`, `POST /hubspot/cards/record/update`, `/record/sync`
- `GET  /hubspot/cards/deal`, `POST /hubspot/cards/deal/create`, `/deal/replay`, `/deal/sync`

Every request is signed (v3) by HubSpot; a signature over the documented decoding of the URL or
over fully percent-decoded query values is accepted, and which one matched is logged with the
portal. Portal, user and record come only from the signed query (portals/serializers_cards.py),
and the record must be one of the portal's. Messages are in the user's language (the card's
`locale`). The answers' shape is in README.md, "The app cards".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from integrations.hubspot.signature import (
    BodyTooLarge,
    SignatureInvalid,
    hubspot_request_verify,
    request_body_read,
)
from integrations.models import HubSpotInstallation
from portals import cards
from portals.serializers_cards import (
    CardQuerySerializer,
    DealCreateSerializer,
    DealReplaySerializer,
    EmptyBodySerializer,
    QueryDisagrees,
    query_values,
)
from portals.views_sign_in import _language_of
from sync.models import SubjectType
from sync.serializers import UnusableBody, strict_json_loads

logger = logging.getLogger(__name__)

# The card's buttons send at most a document type or a run id.
CARD_BODY_MAX_BYTES = 4 * 1024


def _error(status: int, **body: Any) -> JsonResponse:
    return JsonResponse(body, status=status)


def _caller(request: HttpRequest, body: bytes) -> cards.CardCaller | JsonResponse:
    try:
        matched = hubspot_request_verify(request, body=body, fully_decoded=True)
    except SignatureInvalid as exc:
        logger.warning("card request refused: %s", exc, extra={"path": request.path})
        return _error(401, error="invalid signature")
    try:
        values = query_values(request.GET)
    except QueryDisagrees as exc:
        logger.warning(
            "card request refused: %s given twice, differently",
            exc.name,
            extra={"path": request.path, "signature": matched},
        )
        return _error(
            403,
            error="the request names two different values for " + exc.name,
            message=_(
                "%(name)s occurs more than once with different values: one request speaks for "
                "one portal, user and record."
            )
            % {"name": exc.name},
        )
    query = CardQuerySerializer(data=values)
    if not query.is_valid():
        return _error(400, errors=query.errors)
    data = query.validated_data
    installation = HubSpotInstallation.objects.filter(hub_id=data["portalId"]).first()
    logger.info(
        "card request",
        extra={
            "portal": data["portalId"],
            "user_id": data["userId"],
            "path": request.path,
            "signature": matched,
        },
    )
    if installation is None or not installation.is_active:
        return _error(404, error="the app is not installed in this HubSpot account")
    return cards.CardCaller(
        installation=installation,
        user_id=data["userId"],
        email=data.get("userEmail", "")[:254],
        object_type=data["object_type"],
        object_id=data["object_id"],
    )


def card_endpoint(
    *, deal: bool, acts: bool, body_serializer: type | None = None
) -> Callable[[Callable[..., dict[str, Any]]], Callable[[HttpRequest], HttpResponse]]:
    """Signature, query, language, the record's portal, the role; then the view's answer."""

    def decorate(view: Callable[..., dict[str, Any]]) -> Callable[[HttpRequest], HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest) -> HttpResponse:
            try:
                body = request_body_read(request, max_bytes=CARD_BODY_MAX_BYTES)
            except BodyTooLarge as exc:
                return _error(413, error=str(exc))
            # The card's locale (its first value: a disputed one changes only the words).
            language = _language_of((request.GET.getlist("locale") or [""])[0]) or "en"
            with translation.override(language):
                caller = _caller(request, body)
                if isinstance(caller, JsonResponse):
                    return caller
                if (caller.object_type == SubjectType.DEAL) != deal:
                    expected = "0-3 (deal)" if deal else "0-1 (contact) or 0-2 (company)"
                    return _error(
                        400,
                        errors={
                            "objectType": [
                                f"must be {expected} on this endpoint; the "
                                + (
                                    "record card is /hubspot/cards/record."
                                    if deal
                                    else "deal card is /hubspot/cards/deal."
                                )
                            ]
                        },
                    )
                payload: dict[str, Any] = {}
                if body_serializer is not None:
                    try:
                        parsed = strict_json_loads(body) if body.strip() else {}
                    except UnusableBody as exc:
                        return _error(400, errors={"body": [str(exc)]})
                    serializer = body_serializer(data=parsed)
                    if not serializer.is_valid():
                        return _error(400, errors=serializer.errors)
                    payload = dict(serializer.validated_data)
                try:
                    cards.card_record_check(caller)
                    can_act = cards.card_may_act(caller)
                    if acts and not can_act:
                        raise cards.card_refusal_not_allowed(caller.installation)
                    answer = view(caller, can_act, **payload)
                except cards.CardRefused as refused:
                    return JsonResponse(refused.body, status=refused.status)
                return JsonResponse(answer)

        return csrf_exempt(never_cache(wrapper))  # authenticated by HubSpot's signature

    return decorate


@require_GET
@card_endpoint(deal=False, acts=False)
def record_card(caller: cards.CardCaller, can_act: bool) -> dict[str, Any]:
    return cards.customer_card(caller, can_act)


@require_POST
@card_endpoint(deal=False, acts=True, body_serializer=EmptyBodySerializer)
def record_update(caller: cards.CardCaller, can_act: bool) -> dict[str, Any]:
    return cards.customer_update(caller)


@require_POST
@card_endpoint(deal=False, acts=True, body_serializer=EmptyBodySerializer)
def record_sync(caller: cards.CardCaller, can_act: bool) -> dict[str, Any]:
    return cards.customer_sync(caller)


@require_GET
@card_endpoint(deal=True, acts=False)
def deal_card(caller: cards.CardCaller, can_act: bool) -> dict[str, Any]:
    return cards.deal_card(caller, can_act)


@require_POST
@card_endpoint(deal=True, acts=True, body_serializer=DealCreateSerializer)
def deal_create(
    caller: cards.CardCaller, can_act: bool, document_type: str | None = None
) -> dict[str, Any]:
    return cards.deal_create(caller, document_type)


@require_POST
@card_endpoint(deal=True, acts=True, body_serializer=DealReplaySerializer)
def deal_replay(caller: cards.CardCaller, can_act: bool, run_id: int) -> dict[str, Any]:
    return cards.deal_replay(caller, run_id)


@require_POST
@card_endpoint(deal=True, acts=True, body_serializer=EmptyBodySerializer)
def deal_sync(caller: cards.CardCaller, can_act: bool) -> dict[str, Any]:
    return cards.deal_sync(caller)
