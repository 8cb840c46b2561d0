from django.urls import path

from portals import views, views_dry_run

urlpatterns = [
    path("hubspot/install", views.hubspot_install, name="hubspot-install"),
    path("hubspot/oauth/callback", views.hubspot_oauth_callback, name="hubspot-oauth-callback"),
    path("settings/<int:hub_id>/", views.portal_settings, name="portal-settings"),
    path("settings/<int:hub_id>/dry-run/", views_dry_run.dry_run, name="settings-dry-run"),
    path("fortnox/connect", views.fortnox_connect, name="fortnox-connect"),
    path("fortnox/oauth/callback", views.fortnox_oauth_callback, name="fortnox-oauth-callback"),
    path("fortnox/disconnect", views.fortnox_disconnect_view, name="fortnox-disconnect"),
]
