"""A HubSpot simulator: the APIs the service calls, and HubSpot's calls to the app.

Start it with `python -m sandbox hubspot --port 8202`; see README.md in this folder.
"""
