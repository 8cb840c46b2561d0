from django.apps import AppConfig


class PortalsConfig(AppConfig):
    name = "portals"
    verbose_name = "HubSpot portals: install, sign-in, Fortnox connection, settings page"
