from django.urls import path

from portals import views, views_runs

urlpatterns = [
    path("hubspot/install", views.hubspot_install, name="hubspot-install"),
    path("hubspot/oauth/callback", views.hubspot_oauth_callback, name="hubspot-oauth-callback"),
    path("settings/<int:hub_id>/", views.portal_settings, name="portal-settings"),
    path("settings/<int:hub_id>/runs/", views_runs.runs_list, name="settings-runs"),
    path("settings/<int:hub_id>/runs/<int:run_id>/", views_runs.run_detail, name="settings-run"),
    path(
        "settings/<int:hub_id>/runs/<int:run_id>/replay",
        views_runs.run_replay_view,
        name="settings-run-replay",
    ),
    path("fortnox/connect", views.fortnox_connect, name="fortnox-connect"),
    path("fortnox/oauth/callback", views.fortnox_oauth_callback, name="fortnox-oauth-callback"),
    path("fortnox/disconnect", views.fortnox_disconnect_view, name="fortnox-disconnect"),
]
