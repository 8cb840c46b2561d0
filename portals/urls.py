from django.urls import path

from portals import views, views_sign_in, views_users

urlpatterns = [
    path("hubspot/install", views.hubspot_install, name="hubspot-install"),
    path("hubspot/oauth/callback", views.hubspot_oauth_callback, name="hubspot-oauth-callback"),
    path("settings/<int:hub_id>/", views.portal_settings, name="portal-settings"),
    path("fortnox/connect", views.fortnox_connect, name="fortnox-connect"),
    path("fortnox/oauth/callback", views.fortnox_oauth_callback, name="fortnox-oauth-callback"),
    path("fortnox/disconnect", views.fortnox_disconnect_view, name="fortnox-disconnect"),
    path("hubspot/sign-in-link", views_sign_in.sign_in_link_create, name="hubspot-sign-in-link"),
    path("hubspot/settings-status", views_sign_in.settings_status, name="hubspot-settings-status"),
    path("sign-in/<str:token>", views_sign_in.sign_in, name="sign-in"),
    path("settings/<int:hub_id>/users/", views_users.users_tab, name="settings-users"),
    path(
        "settings/<int:hub_id>/users/remove/<int:editor_id>",
        views_users.editor_remove,
        name="settings-users-remove",
    ),
]
