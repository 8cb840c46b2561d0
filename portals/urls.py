from django.urls import path

from portals import views, views_customers, views_mappings, views_products

urlpatterns = [
    path("hubspot/install", views.hubspot_install, name="hubspot-install"),
    path("hubspot/oauth/callback", views.hubspot_oauth_callback, name="hubspot-oauth-callback"),
    path("settings/<int:hub_id>/", views.portal_settings, name="portal-settings"),
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
    path("fortnox/connect", views.fortnox_connect, name="fortnox-connect"),
    path("fortnox/oauth/callback", views.fortnox_oauth_callback, name="fortnox-oauth-callback"),
    path("fortnox/disconnect", views.fortnox_disconnect_view, name="fortnox-disconnect"),
]
