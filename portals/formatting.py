"""Dates and times as the settings page shows them, in the page's language."""

from __future__ import annotations

from datetime import datetime

from django.utils import formats, timezone
from django.utils.translation import get_language


def when(at: datetime | None) -> str:
    """Swedish readers expect 2026-11-27 14:05; Django's English short format is American
    (11/27/2026), so English gets the written-out month instead ("Nov. 27, 2026, 2:05 p.m.")."""
    if at is None:
        return ""
    swedish = (get_language() or "").startswith("sv")
    style = "SHORT_DATETIME_FORMAT" if swedish else "DATETIME_FORMAT"
    return formats.date_format(timezone.localtime(at), style)
