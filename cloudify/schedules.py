"""Beat schedules set in Swedish time: CELERY_TIMEZONE stays UTC for everything else."""

from __future__ import annotations

from datetime import tzinfo
from functools import cached_property
from zoneinfo import ZoneInfo

from celery.schedules import crontab

STOCKHOLM = ZoneInfo("Europe/Stockholm")


class SwedishCrontab(crontab):
    """A crontab whose hours and minutes are Swedish wall-clock time (summer time included)."""

    @cached_property
    def tz(self) -> tzinfo:
        return STOCKHOLM
