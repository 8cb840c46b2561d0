"""What the app cards send (`/hubspot/cards/…`), checked field by field (DRF) before anything is
read or done: the signed query string and the JSON bodies of the buttons.

The query carries what the card adds from its `context` (`portalId`, `objectType`, `objectId`,
`userId`, `locale`) and what HubSpot appends itself (`userId`, `userEmail`,
`associatedObjectId`, `associatedObjectType`, `portalId`, `appId`: hubspot-api.md Addendum §1).
A name given twice must say the same thing both times (`query_values`), and the card's values
must agree with HubSpot's: one request names one portal, one user and one record.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import QueryDict
from rest_framework import serializers

from sync.models import DOCUMENT_KINDS, SubjectType
from sync.serializers import IdField, ObjectSerializer, TextField, WholeNumberField

# The card's objectType (context.crm.objectTypeId), or the object's name; HubSpot's own
# associatedObjectType ("DEAL", "COMPANY", "CONTACT").
OBJECT_TYPES = {
    "0-1": SubjectType.CONTACT,
    "0-2": SubjectType.COMPANY,
    "0-3": SubjectType.DEAL,
    "contacts": SubjectType.CONTACT,
    "companies": SubjectType.COMPANY,
    "deals": SubjectType.DEAL,
    "contact": SubjectType.CONTACT,
    "company": SubjectType.COMPANY,
    "deal": SubjectType.DEAL,
}
OBJECT_TYPE_CHOICES = "0-1 (contact), 0-2 (company), 0-3 (deal), contacts, companies or deals"
# The names a card request may carry; any other is ignored (and never trusted).
QUERY_NAMES = (
    "portalId",
    "userId",
    "objectType",
    "objectId",
    "locale",
    "userEmail",
    "associatedObjectId",
    "associatedObjectType",
    "appId",
)
_LOCALE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8}){0,3}")


class QueryDisagrees(Exception):
    """A value named twice in the signed query, differently: whose request is this?"""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def query_values(query: QueryDict) -> dict[str, str]:
    """One value per name; raises QueryDisagrees when a name occurs with different values."""
    values: dict[str, str] = {}
    for name in QUERY_NAMES:
        found = set(query.getlist(name))
        if len(found) > 1:
            raise QueryDisagrees(name)
        if found:
            values[name] = found.pop()
    return values


class ObjectTypeField(TextField):
    default_error_messages = {
        "choice": f"must be one of {OBJECT_TYPE_CHOICES}, as the card's context.crm.objectTypeId "
        "gives it.",
    }

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        object_type = OBJECT_TYPES.get(value.strip().lower())
        if object_type is None:
            self.fail("choice")
        return str(object_type)


class CardQuerySerializer(ObjectSerializer):
    """The signed query of a card request. Errors name the field and the fix."""

    portalId = IdField()
    userId = IdField()
    objectType = ObjectTypeField(required=False)
    objectId = IdField(required=False)
    locale = TextField(required=False, max_length=35)
    userEmail = TextField(required=False, max_length=254, allow_blank=True)
    associatedObjectId = IdField(required=False)
    associatedObjectType = ObjectTypeField(required=False)
    appId = TextField(required=False, max_length=40, allow_blank=True)

    def validate_locale(self, value: str) -> str:
        if not _LOCALE.fullmatch(value):
            raise serializers.ValidationError(
                "must be a locale such as en-us or sv-se (the card's context.user.locale)."
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        object_type = attrs.get("objectType") or attrs.get("associatedObjectType")
        object_id = attrs.get("objectId") or attrs.get("associatedObjectId")
        errors: dict[str, list[str]] = {}
        if not object_type:
            errors["objectType"] = [
                f"is required: add objectType ({OBJECT_TYPE_CHOICES}) from the card's "
                "context.crm.objectTypeId."
            ]
        if not object_id:
            errors["objectId"] = ["is required: add objectId from the card's context.crm.objectId."]
        if errors:
            raise serializers.ValidationError(errors)
        for mine, hubspots in (
            ("objectType", "associatedObjectType"),
            ("objectId", "associatedObjectId"),
        ):
            if attrs.get(mine) and attrs.get(hubspots) and attrs[mine] != attrs[hubspots]:
                raise serializers.ValidationError(
                    {mine: [f"names another record than HubSpot's {hubspots}."]},
                    code="disagrees",
                )
        attrs["object_type"] = object_type
        attrs["object_id"] = str(object_id)
        return attrs


class EmptyBodySerializer(ObjectSerializer):
    """Update and Perform Sync: the body is `{}` (the record is in the signed query)."""


class DealCreateSerializer(ObjectSerializer):
    document_type = serializers.ChoiceField(
        choices=[k.value for k in DOCUMENT_KINDS],
        required=False,
        error_messages={"invalid_choice": "must be invoice or order."},
    )


class DealReplaySerializer(ObjectSerializer):
    run_id = WholeNumberField(min_value=1)
