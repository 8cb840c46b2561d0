from django.contrib import admin
from django.urls import include, path

from cloudify import health

admin.site.site_header = "Fortnox for HubSpot — staff"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    # set_language: the language switch on every page (a cookie, POST with CSRF).
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("portals.urls")),
    path("", include("sync.urls")),
]
