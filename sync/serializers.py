"""What HubSpot sends us, checked field by field (DRF) before anything is recorded.

Webhook events (hubspot-api.md §3.1 and Addendum §2) and workflow-action execution requests
(Addendum §4). Python's json module and DRF's own fields are lenient in ways that used to end
in a 500 or a wrong record, so the body parser and the number and text fields here are strict:
- `json.loads` accepts NaN/Infinity and turns 1e400 into inf; `strict_json_loads` refuses the
  first and keeps other decimals as Decimal, which no id or time field accepts.
- `int()`/`IntegerField` take true (portal 1), 9000001.0, " 12", "١٢" (Arabic-Indic digits)
  and numbers past a column's range; `WholeNumberField` takes a JSON integer or a string of
  ASCII digits, within the column's range, and nothing else (null ids used to become "None").
- `CharField` turns numbers into text; `TextField` here takes text only, with lengths that fit
  the columns (PostgreSQL refuses longer text, where SQLite would keep it). DRF's CharField
  already refuses NUL characters and lone surrogates, which PostgreSQL cannot store.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from rest_framework import serializers
from rest_framework.settings import api_settings

BIGINT_MAX = 2**63 - 1  # PostgreSQL bigint: hub_id, event_id, occurred_at_ms
INTEGER_MAX = 2**31 - 1  # PostgreSQL integer: attempt_number
# HubSpot: "batch size ... will be under 100" events per webhook request (hubspot-api.md §3.1).
WEBHOOK_EVENTS_MAX = 100
# HubSpot caps a string property value at 65,536 characters; our subscriptions include text
# properties (product description, company address), so a long value is legitimate.
PROPERTY_VALUE_MAX_CHARS = 65_536
_ASCII_DIGITS = re.compile(r"[0-9]{1,19}")  # 19 digits hold any bigint; [0-9], never \d
# "object.propertyChange", "deal.propertyChange", "line_item.creation", "contact.privacyDeletion"
SUBSCRIPTION_TYPE = re.compile(r"(?P<object>[a-z][a-z_]{0,38})\.[A-Za-z]{1,20}")
OBJECT_TYPE_ID = re.compile(r"[0-9]{1,4}-[0-9]{1,20}")  # "0-3" (deal), "2-143967026" (custom)
# HubSpot's callbackIds look like "ap-102670506-56777914962-11-0"; the id goes back into the
# path of the completion call (/callbacks/{callbackId}/complete), so nothing that could change
# that path ("/", "?", "%", "..") is let through.
CALLBACK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,149}")


class UnusableBody(ValueError):
    """A signed body that cannot be read as a whole; the message says why."""


def _refuse_constant(name: str) -> Any:
    raise UnusableBody(f"the body is not JSON: {name} is not a JSON number")


def strict_json_loads(body: bytes) -> Any:
    """The JSON value of a request body, or UnusableBody naming why not."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise UnusableBody("the body is not UTF-8") from None
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=Decimal)
    except RecursionError:  # the C decoder recurses once per nesting level
        raise UnusableBody("the body is not JSON: nested too deeply") from None
    except UnusableBody:
        raise
    except ValueError as exc:
        if not isinstance(exc, json.JSONDecodeError):  # int() refuses over 4300 digits
            raise UnusableBody("the body is not JSON: a number has over 4300 digits") from None
        raise UnusableBody(f"the body is not JSON: {exc}") from None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, Decimal | float):
        return "a decimal number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "an object"


class WholeNumberField(serializers.Field):
    """A JSON integer, or a string of 1-19 ASCII digits, between min_value and max_value."""

    default_error_messages = {
        "required": "is required.",
        "null": "must be a whole number, not null.",
        "invalid": "must be a whole number or a string of digits, not {kind}.",
        "range": "must be between {min_value} and {max_value}.",
    }

    def __init__(self, *, min_value: int = 0, max_value: int = BIGINT_MAX, **kwargs: Any):
        self.min_value, self.max_value = min_value, max_value
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, str) and _ASCII_DIGITS.fullmatch(data):
            value = int(data)
        elif isinstance(data, int) and not isinstance(data, bool):
            value = data
        else:
            self.fail(
                "invalid", kind="text that is not digits" if isinstance(data, str) else _kind(data)
            )
        if not self.min_value <= value <= self.max_value:
            self.fail("range", min_value=self.min_value, max_value=self.max_value)
        return value

    def to_representation(self, value: int) -> int:
        return value


def IdField(**kwargs: Any) -> WholeNumberField:  # a function named like the field it makes
    """A HubSpot id (portal, object, event): a positive whole number within bigint."""
    return WholeNumberField(min_value=1, **kwargs)


class TextField(serializers.CharField):
    """Text only, where CharField would also take 12 and 1.5 and turn them into text."""

    default_error_messages = {
        "required": "is required.",
        "null": "must be text, not null.",
        "blank": "must not be empty.",
        "invalid": "must be text, not {kind}.",
        "max_length": "must be at most {max_length} characters.",
    }

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("trim_whitespace", False)  # HubSpot's values, exactly as sent
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid", kind=_kind(data))
        return super().to_internal_value(data)


class PatternField(TextField):
    """Text matching a pattern in full; the message names the form expected, not the input."""

    default_error_messages = {"pattern": "must look like {example}."}

    def __init__(self, pattern: re.Pattern[str], example: str, **kwargs: Any):
        self.pattern, self.example = pattern, example
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not self.pattern.fullmatch(value):
            self.fail("pattern", example=self.example)
        return value


class ObjectSerializer(serializers.Serializer):
    """A JSON object whose messages read like the fields' ones ("origin: must be ...")."""

    default_error_messages = {
        "required": "is required.",
        "not_an_object": "must be a JSON object, not {kind}.",
    }

    def run_validation(self, data: Any = serializers.empty) -> Any:
        # DRF answers a top-level null with a fixed "No data provided"; this names the kind.
        if data is None or (data is not serializers.empty and not isinstance(data, dict)):
            message = self.error_messages["not_an_object"].format(kind=_kind(data))
            raise serializers.ValidationError(
                {api_settings.NON_FIELD_ERRORS_KEY: [message]}, code="not_an_object"
            )
        return super().run_validation(data)


class WebhookEventSerializer(ObjectSerializer):
    """One event of a webhook delivery, in the generic or the legacy shape.

    Legacy events name the object in `subscriptionType` ("deal.propertyChange"); generic ones
    say "object.propertyChange" and carry `objectTypeId` ("0-3"). HubSpot's docs table calls
    the field `eventType` while real payloads say `subscriptionType`: either is taken.
    """

    portalId = IdField()
    objectId = IdField()
    occurredAt = WholeNumberField()  # epoch milliseconds
    subscriptionType = PatternField(
        SUBSCRIPTION_TYPE, "deal.propertyChange", max_length=60, required=False
    )
    eventType = PatternField(
        SUBSCRIPTION_TYPE, "deal.propertyChange", max_length=60, required=False
    )
    objectTypeId = PatternField(OBJECT_TYPE_ID, '"0-3"', required=False)
    propertyName = TextField(max_length=100, required=False, allow_blank=True)
    # null when a property is cleared; kept as "".
    propertyValue = TextField(
        max_length=PROPERTY_VALUE_MAX_CHARS, required=False, allow_blank=True, allow_null=True
    )
    eventId = IdField(required=False)
    attemptNumber = WholeNumberField(max_value=INTEGER_MAX, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("subscriptionType") and not attrs.get("eventType"):
            raise serializers.ValidationError({"subscriptionType": "is required."})
        return attrs


class WorkflowOriginSerializer(ObjectSerializer):
    portalId = IdField()


class WorkflowObjectSerializer(ObjectSerializer):
    objectId = IdField()
    objectType = TextField(max_length=40, required=False)


class WorkflowExecutionSerializer(ObjectSerializer):
    """A custom workflow action's execution request (hubspot-api.md Addendum §4): only what
    the run needs is checked; context, inputFields and object.properties are not used."""

    callbackId = PatternField(CALLBACK_ID, '"ap-102670506-56777914962-11-0"')
    origin = WorkflowOriginSerializer()
    object = WorkflowObjectSerializer()


def id_at(value: Any, *path: str) -> int | None:
    """The id at `path` in a parsed body when it is usable, else None (to file a rejection
    under its portal for staff)."""
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    try:
        return IdField().run_validation(value)
    except serializers.ValidationError:
        return None


def errors_text(errors: Any, prefix: str = "") -> str:
    """DRF's error tree as one line naming each field: "origin.portalId: must be ..."."""
    if isinstance(errors, dict):
        parts = []
        for field, detail in errors.items():
            name = (
                prefix
                if field == api_settings.NON_FIELD_ERRORS_KEY
                else f"{prefix}.{field}".lstrip(".")
            )
            parts.append(errors_text(detail, name))
        return "; ".join(parts)
    if isinstance(errors, list):
        return "; ".join(errors_text(detail, prefix) for detail in errors)
    return f"{prefix}: {errors}" if prefix else str(errors)
