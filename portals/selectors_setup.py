"""The set-up checklist of the Overview tab, and the deals that reached a won stage of a pipeline
the portal has not added (so nothing was created for them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from integrations.models import FortnoxConnection, HubSpotInstallation
from portals.models import SettingsChange
from portals.selectors import stage_is_closed_won
from sync.models import PipelineSetting, SyncSettings, WebhookEvent

# What sync/webhooks.py records for a stage change that started nothing because the pipeline is
# not added: the portal has no pipeline at all, or this stage is not a trigger of one.
NOT_SYNCED_OUTCOMES = Q(outcome__startswith="not set up") | Q(
    outcome__startswith="ignored: stage is not a trigger stage"
)
PRODUCTS_SECTION = "Products"  # SettingsChange.section the Products tab writes (views_products)


@dataclass(frozen=True)
class SetupStep:
    key: str
    title: str
    done: bool
    missing: str = ""  # what is missing, in words ("" when done)
    link_url: str = ""  # where to fix it ("" when the place is not on the page yet)
    link_label: str = ""


def fortnox_connected(installation: HubSpotInstallation) -> bool:
    connection = installation.active_fortnox_connection()
    return connection is not None and connection.status == FortnoxConnection.Status.CONNECTED


def pipeline_with_trigger_added(installation: HubSpotInstallation) -> bool:
    return any(
        p.trigger_stage_ids
        for p in PipelineSetting.objects.filter(settings__installation=installation)
    )


def article_policy_chosen(installation: HubSpotInstallation) -> bool:
    """Chosen on purpose: the Products tab was saved (its history rows), or the values differ
    from the defaults (set by staff before the page existed)."""
    if SettingsChange.objects.filter(installation=installation, section=PRODUCTS_SECTION).exists():
        return True
    return (
        SyncSettings.objects.filter(installation=installation)
        .exclude(
            article_search=SyncSettings.ArticleSearch.SKU,
            not_found_policy=SyncSettings.NotFoundPolicy.SKIP,
        )
        .exists()
    )


def hubspot_properties_present(installation: HubSpotInstallation) -> bool:
    return installation.properties_created_at is not None


def stage_changes_not_synced(installation: HubSpotInstallation) -> dict[str, int]:
    """Stage id → how many deals reached it and started nothing because no added pipeline has
    it as a trigger (from the webhook events HubSpot sent)."""
    rows = (
        WebhookEvent.objects.filter(
            hub_id=installation.hub_id, object_type="deal", property_name="dealstage"
        )
        .filter(NOT_SYNCED_OUTCOMES)
        .values("property_value")
        .annotate(deals=Count("object_id", distinct=True))
    )
    return {row["property_value"]: row["deals"] for row in rows}


def won_deals_in_pipelines_not_added(
    installation: HubSpotInstallation,
    pipelines: list[dict[str, Any]],
    deals_by_stage: dict[str, int],
) -> list[dict[str, Any]]:
    """Per pipeline not added and won stage: the deals that reached it and were not synced.
    `pipelines` are HubSpot's (read live), `deals_by_stage` from stage_changes_not_synced."""
    added = set(
        PipelineSetting.objects.filter(settings__installation=installation).values_list(
            "pipeline_id", flat=True
        )
    )
    found = []
    for pipeline in pipelines:
        if pipeline["id"] in added:
            continue
        for stage in pipeline["stages"]:
            deals = deals_by_stage.get(stage["id"], 0)
            if deals and stage_is_closed_won(stage):
                found.append(
                    {"pipeline": pipeline["label"], "stage": stage["label"], "deals": deals}
                )
    return found


def setup_steps(installation: HubSpotInstallation, links: dict[str, tuple[str, str]]):
    """The checklist, in the order an admin does it. `links`: step key → (URL, label) of the
    place that fixes it, as far as the page has it."""

    def step(key: str, title: str, done: bool, missing: str) -> SetupStep:
        url, label = links.get(key, ("", ""))
        return SetupStep(key, title, done, "" if done else missing, url, label)

    return [
        step(
            "fortnox",
            _("Connect Fortnox"),
            fortnox_connected(installation),
            _("No Fortnox company is connected, or the connection needs to be renewed."),
        ),
        step(
            "pipeline",
            _("Add a pipeline with a trigger stage"),
            pipeline_with_trigger_added(installation),
            _("No pipeline is added with a trigger stage, so no deal creates a document."),
        ),
        step(
            "products",
            _("Choose the article search and what happens when an article is not found"),
            article_policy_chosen(installation),
            _("The Products settings have not been saved yet."),
        ),
        step(
            "properties",
            _("Create the app's properties in HubSpot"),
            hubspot_properties_present(installation),
            _(
                "The app's Fortnox properties (document number, status, customer number) are "
                "not created in HubSpot yet."
            ),
        ),
    ]
