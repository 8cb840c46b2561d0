"""HubSpot and Fortnox: app credentials and base URLs.

The base URLs default to the real services; `make run`, the tests and the benchmark point them
at the sandbox. Nothing else in the code names a host.
"""

from __future__ import annotations

from cloudify.env import env

HUBSPOT_CLIENT_ID = env.str("HUBSPOT_CLIENT_ID", dev_default="sandbox-hubspot-client")
HUBSPOT_CLIENT_SECRET = env.str("HUBSPOT_CLIENT_SECRET", dev_default="sandbox-hubspot-secret")
HUBSPOT_APP_ID = env.str("HUBSPOT_APP_ID", dev_default="1001")
HUBSPOT_API_BASE = env.url("HUBSPOT_API_BASE", "https://api.hubapi.com")
HUBSPOT_APP_BASE = env.url("HUBSPOT_APP_BASE", "https://app.hubspot.com")

FORTNOX_CLIENT_ID = env.str("FORTNOX_CLIENT_ID", dev_default="sandbox-fortnox-client")
FORTNOX_CLIENT_SECRET = env.str("FORTNOX_CLIENT_SECRET", dev_default="sandbox-fortnox-secret")
FORTNOX_API_BASE = env.url("FORTNOX_API_BASE", "https://api.fortnox.se")
FORTNOX_AUTH_BASE = env.url("FORTNOX_AUTH_BASE", "https://apps.fortnox.se")

# Where a user opens a document in Fortnox's web app. Public integrations link to
# https://apps.fortnox.se/app/<webapp id>/kf/invoice/<number>; that the webapp id is the
# company's DatabaseNumber is UNCONFIRMED, hence a setting ({tenant}, {kind}, {number}).
# In development against the sandbox (`make run`), the link opens the Fortnox sandbox's own page
# of the document (sandbox/fortnox/ui.py), so a newcomer can click through from the deal's note.
_FORTNOX_WEB_APP = "https://apps.fortnox.se/app/{tenant}/kf/{kind}/{number}"
_FORTNOX_SANDBOX_PAGE = FORTNOX_API_BASE + "/_sandbox/ui/{tenant}/{kind}/{number}"
FORTNOX_DOCUMENT_URL = env.str(
    "FORTNOX_DOCUMENT_URL",
    _FORTNOX_SANDBOX_PAGE
    if env.name == "development" and FORTNOX_API_BASE != "https://api.fortnox.se"
    else _FORTNOX_WEB_APP,
)
# Where a user opens a customer in Fortnox's web app (the app card's customer number links
# there): the document link's pattern with the kind "customer" unless set ({tenant}, {number}).
FORTNOX_CUSTOMER_URL = env.str(
    "FORTNOX_CUSTOMER_URL", FORTNOX_DOCUMENT_URL.replace("{kind}", "customer")
)

# The first repeat of a HubSpot or Fortnox call that met a 429 without Retry-After, a 5xx or no
# connection waits about this long, each next one twice as long, capped (integrations/calls.py).
# A Retry-After the service sends is honoured as sent. The tests shorten it.
API_RETRY_BASE_MS = env.int(
    "API_RETRY_BASE_MS",
    1000,
    minimum=1,
    meaning="milliseconds before the first repeat of a refused HubSpot or Fortnox call",
)

# Pacing (integrations/ratelimit.py): at most so many calls in any window of so many ms, per
# Fortnox company and per HubSpot portal, shared by all workers through Redis. The defaults are
# 92 % of Fortnox's 25 per 5 s and HubSpot's 110 per 10 s, with 0.2 s of the window to spare.
FORTNOX_CALLS_PER_WINDOW = env.int(
    "FORTNOX_CALLS_PER_WINDOW", 24, minimum=1, meaning="Fortnox calls per company in a window"
)
FORTNOX_WINDOW_MS = env.int(
    "FORTNOX_WINDOW_MS", 5200, minimum=100, meaning="milliseconds of the Fortnox pacing window"
)
HUBSPOT_CALLS_PER_WINDOW = env.int(
    "HUBSPOT_CALLS_PER_WINDOW", 104, minimum=1, meaning="HubSpot calls per portal in a window"
)
HUBSPOT_WINDOW_MS = env.int(
    "HUBSPOT_WINDOW_MS", 10200, minimum=100, meaning="milliseconds of the HubSpot pacing window"
)
# A 429 halves the tenant's allowance (at most three times); each this many quiet seconds
# without another 429 doubles it back.
RATE_LIMIT_RECOVERY_S = env.int(
    "RATE_LIMIT_RECOVERY_S",
    30,
    minimum=1,
    meaning="quiet seconds after a 429 before the pace takes a step back up",
)
