"""Tokens are unreadable in the database, and keys can be rotated without losing them."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from integrations.models import FortnoxConnection, HubSpotInstallation


def _raw_tokens(model, pk):
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT access_token, refresh_token FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()


@pytest.fixture
def installation(db):
    installation = HubSpotInstallation(hub_id=4242)
    installation.store_tokens("hs-access-secret", "hs-refresh-secret", 1800, ["oauth"])
    installation.save()
    return installation


@pytest.mark.django_db
def test_tokens_are_stored_encrypted_and_read_back(installation):
    connection_row = FortnoxConnection(installation=installation)
    connection_row.store_tokens("fx-access-secret", "fx-refresh-secret", 3600, ["invoice"])
    connection_row.save()
    for model, pk, secrets in (
        (HubSpotInstallation, installation.pk, ("hs-access-secret", "hs-refresh-secret")),
        (FortnoxConnection, connection_row.pk, ("fx-access-secret", "fx-refresh-secret")),
    ):
        raw = _raw_tokens(model, pk)
        for stored, secret in zip(raw, secrets, strict=True):
            assert secret not in stored
            assert stored.startswith("gAAAA")  # Fernet's version byte, base64
        fresh = model.objects.get(pk=pk)
        assert (fresh.access_token, fresh.refresh_token) == secrets


@pytest.mark.django_db
def test_key_rotation_keeps_tokens_and_reencrypts_under_the_new_key(installation, settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    assert HubSpotInstallation.objects.get(pk=installation.pk).refresh_token == "hs-refresh-secret"

    call_command("reencrypt_tokens")

    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is gone now
    assert HubSpotInstallation.objects.get(pk=installation.pk).refresh_token == "hs-refresh-secret"
    raw_access, _ = _raw_tokens(HubSpotInstallation, installation.pk)
    assert Fernet(new_key.encode()).decrypt(raw_access.encode()) == b"hs-access-secret"


@pytest.mark.django_db
def test_removing_a_key_still_in_use_says_what_to_do(installation, settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ImproperlyConfigured, match="a key that is still in use was removed"):
        HubSpotInstallation.objects.get(pk=installation.pk)
