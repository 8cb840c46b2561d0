from django.urls import path

from billing import views_statement, views_vendor
from portals import (
    views,
    views_bulk,
    views_cards,
    views_customers,
    views_dev,
    views_dry_run,
    views_general,
    views_history,
    views_mappings,
    views_overview,
    views_products,
    views_runs,
    views_sign_in,
    views_sync,
    views_usage,
    views_users,
)

urlpatterns = [
    path("hubspot/install", views.hubspot_install, name="hubspot-install"),
    path("hubspot/oauth/callback", views.hubspot_oauth_callback, name="hubspot-oauth-callback"),
    path("settings/<int:hub_id>/", views_overview.portal_settings, name="portal-settings"),
    path(
        "settings/<int:hub_id>/fortnox/disconnect/",
        views_overview.fortnox_disconnect_confirm,
        name="settings-fortnox-disconnect",
    ),
    path(
        "settings/<int:hub_id>/properties/",
        views_overview.hubspot_properties_create_view,
        name="settings-properties-create",
    ),
    path("settings/<int:hub_id>/sync/", views_sync.sync_tab, name="settings-sync"),
    path(
        "settings/<int:hub_id>/sync/automatic/",
        views_sync.auto_create_save,
        name="settings-sync-automatic",
    ),
    path(
        "settings/<int:hub_id>/sync/pipelines/<str:pipeline_id>/",
        views_sync.pipeline_save,
        name="settings-sync-pipeline",
    ),
    path(
        "settings/<int:hub_id>/sync/pipelines/<str:pipeline_id>/remove/",
        views_sync.pipeline_remove,
        name="settings-sync-pipeline-remove",
    ),
    path("settings/<int:hub_id>/general/", views_general.general_tab, name="settings-general"),
    path("settings/<int:hub_id>/history/", views_history.history_tab, name="settings-history"),
    path(
        "settings/<int:hub_id>/products/",
        views_products.products_settings,
        name="settings-products",
    ),
    path(
        "settings/<int:hub_id>/products/articles.json",
        views_products.products_articles_json,
        name="settings-products-articles",
    ),
    path(
        "settings/<int:hub_id>/customers/",
        views_customers.customers_settings,
        name="settings-customers",
    ),
    path(
        "settings/<int:hub_id>/mappings/",
        views_mappings.mappings_settings,
        name="settings-mappings",
    ),
    path("settings/<int:hub_id>/dry-run/", views_dry_run.dry_run, name="settings-dry-run"),
    path("settings/<int:hub_id>/runs/", views_runs.runs_list, name="settings-runs"),
    path("settings/<int:hub_id>/runs/<int:run_id>/", views_runs.run_detail, name="settings-run"),
    path(
        "settings/<int:hub_id>/runs/<int:run_id>/replay",
        views_runs.run_replay_view,
        name="settings-run-replay",
    ),
    path("settings/<int:hub_id>/bulk/", views_bulk.bulk_tab, name="settings-bulk"),
    path("settings/<int:hub_id>/bulk/count/", views_bulk.bulk_count, name="settings-bulk-count"),
    path(
        "settings/<int:hub_id>/bulk/<int:bulk_id>/confirm/",
        views_bulk.bulk_confirm,
        name="settings-bulk-confirm",
    ),
    path(
        "settings/<int:hub_id>/bulk/<int:bulk_id>/cancel/",
        views_bulk.bulk_cancel,
        name="settings-bulk-cancel",
    ),
    path(
        "settings/<int:hub_id>/bulk/<int:bulk_id>/progress.json",
        views_bulk.bulk_progress_json,
        name="settings-bulk-progress",
    ),
    path("fortnox/connect", views.fortnox_connect, name="fortnox-connect"),
    path("fortnox/oauth/callback", views.fortnox_oauth_callback, name="fortnox-oauth-callback"),
    path("fortnox/disconnect", views.fortnox_disconnect_view, name="fortnox-disconnect"),
    # Development only (404 elsewhere): `make run` prints this link.
    path("dev/sign-in/<int:hub_id>", views_dev.dev_sign_in, name="dev-sign-in"),
    path("hubspot/sign-in-link", views_sign_in.sign_in_link_create, name="hubspot-sign-in-link"),
    path("hubspot/settings-status", views_sign_in.settings_status, name="hubspot-settings-status"),
    path("sign-in/<str:token>", views_sign_in.sign_in, name="sign-in"),
    # The app cards (portals/views_cards.py): signed hubspot.fetch calls.
    path("hubspot/cards/record", views_cards.record_card, name="hubspot-card-record"),
    path(
        "hubspot/cards/record/update",
        views_cards.record_update,
        name="hubspot-card-record-update",
    ),
    path("hubspot/cards/record/sync", views_cards.record_sync, name="hubspot-card-record-sync"),
    path("hubspot/cards/deal", views_cards.deal_card, name="hubspot-card-deal"),
    path("hubspot/cards/deal/create", views_cards.deal_create, name="hubspot-card-deal-create"),
    path("hubspot/cards/deal/replay", views_cards.deal_replay, name="hubspot-card-deal-replay"),
    path("hubspot/cards/deal/sync", views_cards.deal_sync, name="hubspot-card-deal-sync"),
    path("settings/<int:hub_id>/usage/", views_usage.usage_tab, name="settings-usage"),
    path(
        "settings/<int:hub_id>/usage/details/",
        views_usage.billing_details_view,
        name="settings-usage-details",
    ),
    path(
        "settings/<int:hub_id>/usage/upgrade/",
        views_usage.upgrade_request_view,
        name="settings-usage-upgrade",
    ),
    path(
        "settings/<int:hub_id>/usage/<str:period>/statement.pdf",
        views_usage.statement_view,
        name="settings-usage-statement",
    ),
    # Staff (Django admin): any portal's statement; billing/admin.py links to it.
    path(
        "staff/billing/<int:hub_id>/<str:period>/statement.pdf",
        views_statement.staff_statement,
        name="billing-staff-statement",
    ),
    # Staff (Django admin): connect the vendor's own Fortnox company (billing/admin.py links).
    path(
        "staff/billing/vendor-fortnox/connect",
        views_vendor.vendor_fortnox_connect,
        name="billing-vendor-fortnox-connect",
    ),
    path("settings/<int:hub_id>/users/", views_users.users_tab, name="settings-users"),
    path(
        "settings/<int:hub_id>/users/remove/<int:editor_id>",
        views_users.editor_remove,
        name="settings-users-remove",
    ),
]
