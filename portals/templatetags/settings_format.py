from __future__ import annotations

from django import template

from portals.formatting import when as when_shown

register = template.Library()


@register.filter
def when(value):
    """{{ connection.connected_at|when }}: a date and time in the page's language."""
    return when_shown(value)
