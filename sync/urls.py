from django.urls import path

from sync import views

urlpatterns = [
    path("hubspot/webhooks", views.hubspot_webhooks, name="hubspot-webhooks"),
]
