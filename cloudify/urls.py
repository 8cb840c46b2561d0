from django.contrib import admin
from django.urls import include, path

from cloudify import health

admin.site.site_header = "Fortnox for HubSpot — staff"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("", include("portals.urls")),
    path("", include("sync.urls")),
]
