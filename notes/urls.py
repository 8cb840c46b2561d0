from django.urls import path

from notes import views

urlpatterns = [
    path("replay/<str:token>", views.replay, name="replay"),
]
