"""HubSpot and Fortnox permissions (OAuth scopes) and Fortnox licences in words, for the
Connection part of the settings page: an admin reads "Invoices" or "Read deals", never
`crm.objects.deals.read`.

HubSpot's scope names: hubspot-app/src/app/app-hsmeta.json and hubspot-api.md §1.1. Fortnox's
scope → resource table: fortnox-api.md §1.8 (FX-scopes). A scope missing here is shown as its
raw name, so a new scope is never hidden.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

HUBSPOT_SCOPE_WORDS = {
    "oauth": _("Sign in with HubSpot"),
    "crm.objects.deals.read": _("Read deals"),
    "crm.objects.deals.write": _("Update deals (document number and status)"),
    "crm.objects.contacts.read": _("Read contacts"),
    "crm.objects.contacts.write": _("Update contacts (Fortnox figures)"),
    "crm.objects.companies.read": _("Read companies"),
    "crm.objects.companies.write": _("Update companies (Fortnox figures)"),
    "crm.objects.line_items.read": _("Read line items"),
    "crm.objects.products.read": _("Read products"),
    "crm.schemas.deals.read": _("Read deal properties and pipelines"),
    "crm.schemas.deals.write": _("Create the app's deal properties"),
    "crm.schemas.contacts.read": _("Read contact properties"),
    "crm.schemas.contacts.write": _("Create the app's contact properties"),
    "crm.schemas.companies.read": _("Read company properties"),
    "crm.schemas.companies.write": _("Create the app's company properties"),
    "crm.schemas.line_items.read": _("Read line item properties"),
    "files": _("Attach the document's PDF to the deal"),
    "automation": _("Workflow actions"),
    "tax_rates.read": _("Read tax rates"),
    "settings.users.read": _("See who is a super admin"),
}

FORTNOX_SCOPE_WORDS = {
    "companyinformation": _("Company information"),
    "customer": _("Customers"),
    "article": _("Articles"),
    "invoice": _("Invoices"),
    "order": _("Orders"),
    "price": _("Price lists and prices"),
    "settings": _("Company settings (units, terms of payment)"),
    "currency": _("Currencies"),
    "bookkeeping": _("Bookkeeping"),
    "project": _("Projects"),
    "costcenter": _("Cost centres"),
    "offer": _("Quotes"),
    "payment": _("Payments"),
    "print": _("Print templates"),
    "profile": _("User profile"),
}

# What each document needs of the Fortnox company, as integrations/fortnox/errors.py
# (LICENCES_BY_RESOURCE) tells a user when Fortnox refuses for a missing licence.
FORTNOX_LICENCE_NEEDS = (
    ("invoice", _("Invoices need the Fortnox licences Fa (Invoicing) and Ar.")),
    ("order", _("Orders need the Fortnox licences Oo (Order & Quote) and Ar.")),
)


def hubspot_scopes_in_words(scopes: list[str]) -> list[str]:
    return [str(HUBSPOT_SCOPE_WORDS.get(scope, scope)) for scope in sorted(scopes)]


def fortnox_scopes_in_words(scopes: list[str]) -> list[str]:
    return [str(FORTNOX_SCOPE_WORDS.get(scope, scope)) for scope in sorted(scopes)]
