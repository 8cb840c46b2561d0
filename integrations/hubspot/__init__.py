"""HubSpot: the only package that imports the HubSpot SDK (hubspot-api-client)."""
