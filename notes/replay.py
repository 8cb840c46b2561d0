"""Replay links: signed, expiring tokens naming a portal and a run (django.core.signing)."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _

SALT = "notes.replay"
MAX_AGE_S = 30 * 24 * 3600  # a link in a note stays usable for 30 days


class ReplayLinkInvalid(Exception):
    pass


def replay_token(hub_id: int, run_id: int) -> str:
    return signing.dumps({"p": hub_id, "r": run_id}, salt=SALT, compress=True)


def replay_url(hub_id: int, run_id: int) -> str:
    return f"{settings.PUBLIC_BASE_URL}{reverse('replay', args=[replay_token(hub_id, run_id)])}"


def replay_token_read(token: str) -> tuple[int, int]:
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE_S)
    except signing.SignatureExpired:
        raise ReplayLinkInvalid(_("This Replay link has expired (links last 30 days).")) from None
    except signing.BadSignature:
        raise ReplayLinkInvalid(_("This Replay link is not valid.")) from None
    return int(data["p"]), int(data["r"])
