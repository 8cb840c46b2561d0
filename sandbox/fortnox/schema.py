"""What each /3/ resource is: wrapper names, identity, scope, licences, search and sort rules."""

from __future__ import annotations

from dataclasses import dataclass, field

from sandbox.fortnox.fields import FIELDS

# Read-only at Fortnox (computed or set by actions); sending them is refused with 2001399.
READ_ONLY = {
    "Article": {"SalesPrice", "DisposableQuantity", "ReservedQuantity", "StockValue"},
    "Order": {
        "AdministrationFeeVAT",
        "BasisTaxReduction",
        "Cancelled",
        "ContributionPercent",
        "ContributionValue",
        "FreightVAT",
        "Gross",
        "InvoiceReference",
        "Net",
        "OfferReference",
        "RoundOff",
        "Sent",
        "TaxReduction",
        "Total",
        "TotalToPay",
        "TotalVAT",
    },
    "OrderRow": {"Total", "ContributionPercent", "ContributionValue"},
}
for _entity, _names in READ_ONLY.items():
    for _name in _names:
        FIELDS[_entity].pop(_name, None)

# Lengths the older spec leaves out but the real service enforces (fortnox-api.md).
FIELDS["InvoiceRow"]["Description"] = ("string", 0, 255, None)
FIELDS["OrderRow"]["Description"] = ("string", 0, 255, None)
FIELDS["OrderRow"]["VATCode"] = ("string", None, None, None)
FIELDS["Order"]["ExternalInvoiceReference1"] = ("string", 0, 80, None)
FIELDS["Order"]["ExternalInvoiceReference2"] = ("string", 0, 80, None)
FIELDS["Order"]["Comments"] = ("string", 0, 1024, None)
# Invoice payments: the writable fields of the spec's InvoicePayment (the others are set by the
# sandbox from the invoice, and refused when sent, like other read-only fields).
FIELDS["InvoicePayment"] = {
    "Amount": ("number", None, None, None),
    "AmountCurrency": ("number", None, None, None),
    "CurrencyRate": ("number", None, None, None),
    "InvoiceNumber": ("integer", None, None, None),
    "ModeOfPayment": ("string", 0, 50, None),
    "ModeOfPaymentAccount": ("integer", None, None, None),
    "PaymentDate": ("string", None, None, None),
    "WriteOffs": ("array", None, None, None),
}
FIELDS["InvoicePaymentWriteOff"] = {
    "Amount": ("number", None, None, None),
    "AccountNumber": ("integer", None, None, None),
    "CostCenter": ("string", None, None, None),
    "Currency": ("string", 3, 3, None),
    "Description": ("string", None, None, None),
    "TransactionInformation": ("string", None, None, None),
    "Project": ("string", None, None, None),
}
FIELDS["Currency"] = {
    "Code": ("string", 3, 3, None),
    "Description": ("string", 0, 50, None),
    "BuyRate": ("number", None, None, None),
    "SellRate": ("number", None, None, None),
    "Unit": ("number", None, None, None),
    "Date": ("string", None, None, None),
    "IsAutomatic": ("boolean", None, None, None),
}

ALL_SCOPES = (
    "article",
    "bookkeeping",
    "companyinformation",
    "connectfile",
    "costcenter",
    "currency",
    "customer",
    "inbox",
    "invoice",
    "offer",
    "order",
    "payment",
    "price",
    "print",
    "profile",
    "project",
    "salary",
    "settings",
    "supplier",
    "supplierinvoice",
    "timereporting",
    "archive",
)

# Fortnox licence (module) codes. Fa, Oo and Ar are enforced (an invoice needs Fa+Ar, an order
# Oo+Ar, per the product's FAQ); the others are carried for completeness.
LICENCES = {
    "Fa": "Kundfakturering (invoicing)",
    "Oo": "Order & offert (order and quote)",
    "Ar": "Artikelregister",
    "Bf": "Bokföring (bookkeeping)",
    "Lr": "Leverantörsreskontra (supplier ledger)",
    "Lo": "Lön (salary)",
    "Ti": "Tidredovisning (time reporting)",
    "An": "Anläggningsregister (fixed assets)",
}

GLOBAL_PARAMS = {
    "page",
    "limit",
    "offset",
    "sortby",
    "sortorder",
    "filter",
    "lastmodified",
    "financialyear",
    "financialyeardate",
}


@dataclass(frozen=True)
class Resource:
    name: str  # path segment: customers
    entity: str  # FIELDS key and wrapper: Customer
    list_key: str  # Customers
    ident: str  # CustomerNumber
    scope: str
    licences: tuple[tuple[str, ...], ...] = ()  # every group must hold at least one licence
    search: dict[str, str] = field(default_factory=dict)  # query param -> field (substring)
    exact: dict[str, str] = field(default_factory=dict)  # query param -> field (equality)
    filters: tuple[str, ...] = ()
    sortby: dict[str, str] = field(default_factory=dict)
    list_fields: tuple[str, ...] = ()  # list items; empty: the whole record
    numeric_ids: bool = True  # sort ids as numbers first
    location: str = ""  # the Location header answered on create (recorded)
    wrapper: str = ""

    @property
    def key(self) -> str:
        return self.wrapper or self.entity


CUSTOMERS = Resource(
    name="customers",
    entity="Customer",
    list_key="Customers",
    ident="CustomerNumber",
    scope="customer",
    licences=(("Fa", "Oo"),),
    search={
        "customernumber": "CustomerNumber",
        "name": "Name",
        "zipcode": "ZipCode",
        "city": "City",
        "email": "Email",
        "phone": "Phone1",
        "organisationnumber": "OrganisationNumber",
        "gln": "GLN",
        "glndelivery": "GLNDelivery",
    },
    filters=("active", "inactive"),
    sortby={"customernumber": "CustomerNumber", "name": "Name"},
    list_fields=(
        "Address1",
        "Address2",
        "City",
        "CustomerNumber",
        "Email",
        "Name",
        "OrganisationNumber",
        "Phone",
        "ZipCode",
    ),
    location="customers",
)

ARTICLES = Resource(
    name="articles",
    entity="Article",
    list_key="Articles",
    ident="ArticleNumber",
    scope="article",
    licences=(("Ar",),),
    search={
        "articlenumber": "ArticleNumber",
        "description": "Description",
        "ean": "EAN",
        "suppliernumber": "SupplierNumber",
        "manufacturer": "Manufacturer",
        "manufacturerarticlenumber": "ManufacturerArticleNumber",
    },
    exact={"webshop": "WebshopArticle"},
    filters=("active", "inactive"),
    sortby={
        "articlenumber": "ArticleNumber",
        "quantityinstock": "QuantityInStock",
        "reservedquantity": "ReservedQuantity",
        "stockvalue": "StockValue",
    },
    list_fields=(
        "ArticleNumber",
        "Description",
        "DisposableQuantity",
        "EAN",
        "Housework",
        "PurchasePrice",
        "SalesPrice",
        "QuantityInStock",
        "ReservedQuantity",
        "StockPlace",
        "StockValue",
        "Unit",
        "VAT",
        "WebshopArticle",
    ),
    location="articles",
)

_DOC_SEARCH = {
    "costcenter": "CostCenter",
    "customername": "CustomerName",
    "customernumber": "CustomerNumber",
    "documentnumber": "DocumentNumber",
    "externalinvoicereference1": "ExternalInvoiceReference1",
    "externalinvoicereference2": "ExternalInvoiceReference2",
    "ourreference": "OurReference",
    "yourreference": "YourReference",
    "project": "Project",
}

INVOICES = Resource(
    name="invoices",
    entity="Invoice",
    list_key="Invoices",
    ident="DocumentNumber",
    scope="invoice",
    licences=(("Fa",), ("Ar",)),
    search={
        **_DOC_SEARCH,
        "ocr": "OCR",
        "invoicetype": "InvoiceType",
        "currency": "Currency",
        "yourordernumber": "YourOrderNumber",
        "label": "Labels",
        "articlenumber": "InvoiceRows.ArticleNumber",
        "articledescription": "InvoiceRows.Description",
        "accountnumberfrom": "",
        "accountnumberto": "",
    },
    exact={"sent": "Sent", "notcompleted": "NotCompleted", "credit": "Credit"},
    filters=("cancelled", "fullypaid", "unpaid", "unpaidoverdue", "unbooked"),
    sortby={
        "customername": "CustomerName",
        "customernumber": "CustomerNumber",
        "documentnumber": "DocumentNumber",
        "invoicedate": "InvoiceDate",
        "ocr": "OCR",
        "total": "Total",
    },
    list_fields=(
        "Balance",
        "Booked",
        "Cancelled",
        "CostCenter",
        "Currency",
        "CurrencyRate",
        "CurrencyUnit",
        "CustomerName",
        "CustomerNumber",
        "DocumentNumber",
        "DueDate",
        "ExternalInvoiceReference1",
        "ExternalInvoiceReference2",
        "InvoiceDate",
        "InvoiceType",
        "NoxFinans",
        "OCR",
        "VoucherNumber",
        "VoucherSeries",
        "VoucherYear",
        "WayOfDelivery",
        "TermsOfPayment",
        "Project",
        "Sent",
        "Total",
        "FinalPayDate",
    ),
    location="invoices",
)

ORDERS = Resource(
    name="orders",
    entity="Order",
    list_key="Orders",
    ident="DocumentNumber",
    scope="order",
    licences=(("Oo",), ("Ar",)),
    search={**_DOC_SEARCH, "label": "Labels", "ordertype": "OrderType"},
    exact={"sent": "Sent", "notcompleted": "NotCompleted"},
    filters=("cancelled", "expired", "invoicecreated", "invoicenotcreated"),
    sortby={
        "customername": "CustomerName",
        "customernumber": "CustomerNumber",
        "orderdate": "OrderDate",
        "documentnumber": "DocumentNumber",
        "total": "Total",
    },
    list_fields=(
        "Cancelled",
        "Currency",
        "CustomerName",
        "CustomerNumber",
        "DeliveryDate",
        "DocumentNumber",
        "ExternalInvoiceReference1",
        "ExternalInvoiceReference2",
        "OrderDate",
        "OrderType",
        "Project",
        "Sent",
        "Total",
    ),
    location="orders",
)

UNITS = Resource(
    name="units",
    entity="Unit",
    list_key="Units",
    ident="Code",
    scope="settings",
    numeric_ids=False,
    location="units",
)

TERMS = Resource(
    name="termsofpayments",
    entity="TermsOfPayment",
    list_key="TermsOfPayments",
    ident="Code",
    scope="settings",
    numeric_ids=False,
    location="paymentterms",
)

PRICELISTS = Resource(
    name="pricelists",
    entity="PriceList",
    list_key="PriceLists",
    ident="Code",
    scope="price",
    numeric_ids=False,
    location="pricelists",
)

CURRENCIES = Resource(
    name="currencies",
    entity="Currency",
    list_key="Currencies",
    ident="Code",
    scope="currency",
    numeric_ids=False,
    location="currencies",
)

PRICES = Resource(
    name="prices",
    entity="Price",
    list_key="Prices",
    ident="ArticleNumber",
    scope="price",
    licences=(("Fa", "Oo"),),
    numeric_ids=False,
    location="prices",
)

# The chart of accounts (fortnox-openapi.json /3/accounts/: AccountListItem), scope
# `bookkeeping` (fortnox-api.md §1.8). Read-only here: the sandbox answers GET only (README).
ACCOUNTS = Resource(
    name="accounts",
    entity="Account",
    list_key="Accounts",
    ident="Number",
    scope="bookkeeping",
    exact={"sru": "SRU"},
    sortby={"number": "Number"},
    location="accounts",
)

# Payments on customer invoices (fortnox-openapi.json /3/invoicepayments), scope `payment`
# (fortnox-api.md §1.8). `invoicenumber` is the search the SDKs send (exact: a number).
INVOICEPAYMENTS = Resource(
    name="invoicepayments",
    entity="InvoicePayment",
    list_key="InvoicePayments",
    ident="Number",
    scope="payment",
    licences=(("Fa",),),
    exact={"invoicenumber": "InvoiceNumber"},
    sortby={"paymentdate": "PaymentDate", "number": "Number"},
    location="invoicepayments",
)

RESOURCES = {
    r.name: r
    for r in (
        CUSTOMERS,
        ARTICLES,
        INVOICES,
        ORDERS,
        UNITS,
        TERMS,
        PRICELISTS,
        CURRENCIES,
        PRICES,
        ACCOUNTS,
        INVOICEPAYMENTS,
    )
}

# The older spec's HouseWorkType enums are incomplete per entity (the real service accepted HVAC
# and MAJORAPPLIANCEREPAIR on order rows, and answers COOKING/TUTORING with 2003157 rather
# than an enum error): rows accept every housework type the spec names anywhere.
_HOUSEWORK = tuple(
    dict.fromkeys(
        FIELDS["InvoiceRow"]["HouseWorkType"][3]
        + FIELDS["Article"]["HouseworkType"][3]
        + FIELDS["OrderRow"]["HouseWorkType"][3]
    )
)
for _entity in ("InvoiceRow", "OrderRow"):
    FIELDS[_entity]["HouseWorkType"] = ("string", None, None, _HOUSEWORK)
