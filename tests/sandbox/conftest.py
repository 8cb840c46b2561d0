"""The simulator fixtures (fortnox_url, hubspot_url) live in tests/conftest.py."""
