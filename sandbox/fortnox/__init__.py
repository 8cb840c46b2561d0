"""A Fortnox API simulator: OAuth (apps.fortnox.se) and the REST API (api.fortnox.se/3/)."""
