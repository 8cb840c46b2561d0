from django.urls import path

from sync import views

urlpatterns = [
    path("hubspot/webhooks", views.hubspot_webhooks, name="hubspot-webhooks"),
    path("replay/<str:token>", views.replay, name="replay"),
    path(
        "hubspot/workflow-actions/<str:action>",
        views.hubspot_workflow_action,
        name="hubspot-workflow-action",
    ),
]
