"""A portal's monthly usage statement for support staff (Django admin links here): the same
PDF the portal's Usage tab offers, in the language asked (?language=sv|en, default Swedish)."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from billing.statements import period_parse, statement_filename, statement_pdf
from integrations.models import HubSpotInstallation


def statement_admin_url(hub_id: int, period: str) -> str:
    """Where Django admin links a portal's statement of `period` ("YYYY-MM")."""
    return reverse("billing-staff-statement", kwargs={"hub_id": hub_id, "period": period})


@require_GET
@staff_member_required
def staff_statement(request: HttpRequest, hub_id: int, period: str) -> HttpResponse:
    month = period_parse(period)
    if month is None:
        raise Http404(_("%(value)s is not a month: write it as YYYY-MM.") % {"value": period})
    installation = get_object_or_404(HubSpotInstallation, hub_id=hub_id)
    language = request.GET.get("language", "sv")
    if language not in ("sv", "en"):
        language = "sv"
    response = HttpResponse(
        statement_pdf(installation, month, language), content_type="application/pdf"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{statement_filename(installation, month)}"'
    )
    return response
