"""The Products tab's form: how line items find Fortnox articles, what happens when none is found,
and what the articles the app creates look like."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portals.registers import SALES_ACCOUNTS, Article
from sync.models import SyncSettings

VAT_RATES = (25, 12, 6, 0)
NO_VALUE = ""

FIELDS = (
    "article_search",
    "not_found_policy",
    "default_article_number",
    "no_line_items_policy",
    "new_article_type",
    "new_article_unit",
    "new_article_vat",
    "new_article_sales_account",
    "product_sync",
    "price_list",
)
PRICE_LIST_MAX = 100  # PriceList.Code, 1–100 characters (fortnox-api.md §5)


class ProductsForm(forms.Form):
    article_search = forms.ChoiceField(
        label=_("Find the Fortnox article of a line item"),
        choices=[
            (SyncSettings.ArticleSearch.SKU, _("By SKU: the product's SKU is the article number")),
            (SyncSettings.ArticleSearch.NAME, _("By product name: the article's description")),
        ],
        widget=forms.RadioSelect,
    )
    not_found_policy = forms.ChoiceField(
        label=_("When no Fortnox article matches"),
        choices=[
            (
                SyncSettings.NotFoundPolicy.SKIP,
                _("Do not create the document (the note on the deal says which product)"),
            ),
            (
                SyncSettings.NotFoundPolicy.DEFAULT_ARTICLE,
                _("Use the default article, with the line item's name and price"),
            ),
            (
                SyncSettings.NotFoundPolicy.CREATE_ARTICLE,
                _("Create the article in Fortnox (as set below)"),
            ),
        ],
        widget=forms.RadioSelect,
    )
    default_article_number = forms.ChoiceField(
        label=_("Default article"),
        required=False,
        help_text=_(
            "An article of the connected Fortnox company. Search for it by number or "
            "description above, then pick it here."
        ),
    )
    no_line_items_policy = forms.ChoiceField(
        label=_("Deals without line items"),
        choices=[
            (SyncSettings.NoLineItemsPolicy.FAIL, _("Do not create the document (with a note)")),
            (
                SyncSettings.NoLineItemsPolicy.DEFAULT_ROW,
                _("One row on the default article with the deal's amount"),
            ),
        ],
        widget=forms.RadioSelect,
    )
    new_article_type = forms.ChoiceField(
        label=_("Article type"),
        choices=[
            (SyncSettings.ArticleType.SERVICE, _("Service")),
            (SyncSettings.ArticleType.STOCK, _("Stock item (goods)")),
        ],
    )
    new_article_unit = forms.ChoiceField(
        label=_("Unit"), required=False, help_text=_("From the company's units in Fortnox.")
    )
    new_article_vat = forms.TypedChoiceField(
        label=_("VAT"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[(NO_VALUE, _("Fortnox's default (from the sales account)"))]
        + [(rate, f"{rate} %") for rate in VAT_RATES],
    )
    new_article_sales_account = forms.CharField(
        label=_("Sales account"), required=False, max_length=4
    )

    product_sync = forms.BooleanField(
        label=_("Sync products to Fortnox articles"),
        required=False,
        help_text=_(
            "When a product is created or changed in HubSpot, the app creates or updates its "
            "Fortnox article (description, unit, VAT, type, sales account as set above, and the "
            "price in the price list below); when a product is deleted in HubSpot, its article "
            "is made inactive. One way only: changes made in Fortnox are not copied to HubSpot."
        ),
    )
    price_list = forms.CharField(
        label=_("Price list"),
        # Required, but with our own message naming the field (clean_price_list).
        required=False,
        max_length=PRICE_LIST_MAX,
        help_text=_(
            "The Fortnox price list that gets the product's price. Fortnox keeps an article's "
            "sales price in its price lists; prices are in SEK."
        ),
    )

    def __init__(
        self,
        *args,
        articles: list[Article],
        units: list[dict[str, str]] | None,
        accounts: list[dict[str, str]] | None,
        article_lookup: Callable[[str], tuple[Article | None, bool]] | None,
        price_lists: list[dict[str, str]] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        if price_lists:
            # The company's price lists, read from Fortnox; when they cannot be read, the code
            # is typed (the text field above).
            self.fields["price_list"] = forms.ChoiceField(
                label=self.fields["price_list"].label,
                help_text=self.fields["price_list"].help_text,
                choices=[
                    (
                        p["code"],
                        f"{p['code']} · {p['description']}" if p["description"] else p["code"],
                    )
                    for p in price_lists
                ],
            )
        self.article_lookup = article_lookup
        self.fields["default_article_number"].choices = [
            (NO_VALUE, gettext("No default article"))
        ] + [(article.number, article.label) for article in articles]
        self.units = units
        if units is None:
            # Fortnox could not be read: only what is stored can be kept.
            stored = self.initial.get("new_article_unit") or ""
            unit_choices = [(stored, stored)] if stored else []
        else:
            unit_choices = [(u["code"], f"{u['code']} · {u['description']}") for u in units]
        self.fields["new_article_unit"].choices = [
            (NO_VALUE, gettext("None (Fortnox's default)"))
        ] + unit_choices
        self.accounts = accounts
        account_field = self.fields["new_article_sales_account"]
        if accounts is not None:
            self.fields["new_article_sales_account"] = forms.ChoiceField(
                label=account_field.label,
                required=False,
                choices=[(NO_VALUE, gettext("Fortnox's default (from its preferred accounts)"))]
                + [(a["number"], f"{a['number']} · {a['description']}") for a in accounts],
                help_text=_("From the company's chart of accounts in Fortnox."),
            )
        else:
            account_field.widget = forms.TextInput(
                attrs={"inputmode": "numeric", "pattern": "[0-9]{4}", "autocomplete": "off"}
            )
            account_field.help_text = _(
                "A sales account of the BAS chart (3000–3999), e.g. 3001 for sales at 25 % VAT; "
                "empty for Fortnox's preferred account. The app may not read the company's "
                "chart of accounts, so check the number in Fortnox."
            )

    def clean_new_article_sales_account(self) -> str:
        value = (self.cleaned_data.get("new_article_sales_account") or "").strip()
        if value and (not value.isdigit() or int(value) not in SALES_ACCOUNTS):
            raise forms.ValidationError(
                gettext(
                    "Sales account: '%(value)s' is not a sales account. Enter a four-digit "
                    "account from 3000 to 3999, or leave it empty."
                )
                % {"value": value}
            )
        return value

    def clean_price_list(self) -> str:
        value = (self.cleaned_data.get("price_list") or "").strip()
        if not value:
            raise forms.ValidationError(
                gettext("Price list: enter the code of a Fortnox price list, e.g. A.")
            )
        return value

    def clean(self) -> dict:
        data = super().clean()
        number = data.get("default_article_number") or ""
        needs_default = (
            data.get("not_found_policy") == SyncSettings.NotFoundPolicy.DEFAULT_ARTICLE
            or data.get("no_line_items_policy") == SyncSettings.NoLineItemsPolicy.DEFAULT_ROW
        )
        if needs_default and not number and "default_article_number" not in self.errors:
            self.add_error(
                "default_article_number",
                gettext(
                    "Default article: the chosen policy uses the default article, but none is "
                    "chosen. Search for an article and pick it, or choose another policy."
                ),
            )
        elif number and number != self.initial.get("default_article_number"):
            self._check_article(number)
        return data

    def _check_article(self, number: str) -> None:
        if self.article_lookup is None:
            self.add_error(
                "default_article_number",
                gettext("Default article: connect Fortnox first, then pick one of its articles."),
            )
            return
        article, active = self.article_lookup(number)
        if article is None:
            self.add_error(
                "default_article_number",
                gettext(
                    "Default article: the connected Fortnox company has no article %(number)s. "
                    "Search again and pick one of its articles."
                )
                % {"number": number},
            )
        elif not active:
            self.add_error(
                "default_article_number",
                gettext(
                    "Default article: article %(number)s is inactive in Fortnox. Make it "
                    "active in Fortnox, or pick another article."
                )
                % {"number": number},
            )
